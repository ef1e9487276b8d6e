use super::*;
use std::fs;
use std::io::Write;

fn run_folder() -> tempfile::TempDir {
    let folder = tempfile::tempdir().expect("temporary folder");
    fs::create_dir(folder.path().join("logs")).expect("logs folder");
    folder
}

fn append(path: &Path, text: &str) {
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    file.write_all(text.as_bytes()).expect("append");
}

const STARTED: &str = r#"{"seq":0,"kind":"run_started","jobs":[{"name":"build","signals":[]},{"name":"test","signals":[]}]}"#;
const FINISHED: &str = r#"{"seq":3,"kind":"run_finished","status":"passed","exit_code":0}"#;

fn events(folder: &Path) -> PathBuf {
    folder.join(EVENTS_FILE)
}

fn log(folder: &Path, job: &str) -> PathBuf {
    folder.join("logs").join(format!("{job}.log"))
}

/// Everything a follower is handed, as one text per message.
fn shown(messages: &[TailMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|message| match &message.item {
            TailItem::Event(text) => {
                let value: serde_json::Value = serde_json::from_str(text).expect("json");
                format!("event {}", value["kind"].as_str().unwrap_or("?"))
            }
            TailItem::Lines { job, first, texts } => {
                format!("{job} {first}: {}", texts.join("|"))
            }
        })
        .collect()
}

#[test]
fn a_growing_run_is_followed_in_whole_lines_events_before_lines() {
    let folder = run_folder();
    let root = folder.path();
    let mut tail = RunTail::new(root, Cursor::default(), Lines::All);
    assert!(tail.read(false).expect("reads").is_empty(), "no files yet");

    append(&events(root), &format!("{STARTED}\n"));
    append(&log(root, "build"), "compiling\nhalf a li");
    assert_eq!(
        shown(&tail.read(false).expect("reads")),
        ["event run_started", "build 1: compiling"]
    );

    append(&log(root, "build"), "ne\n");
    append(&log(root, "test"), "ok 1\nok 2\n");
    append(
        &events(root),
        r#"{"seq":1,"kind":"job_started","job":"test"}"#,
    );
    let messages = tail.read(false).expect("reads");
    assert_eq!(
        shown(&messages),
        ["build 2: half a line", "test 1: ok 1|ok 2"],
        "the event without its newline yet is held back"
    );
    assert_eq!(
        messages[1].cursor.to_string(),
        "e=1@{};build=2@22;test=2@10".replace("{}", &(STARTED.len() + 1).to_string())
    );

    append(&events(root), "\n");
    append(&log(root, "test"), "no newline at the end");
    append(&events(root), &format!("{FINISHED}\n"));
    assert!(!tail.finished());
    assert_eq!(
        shown(&tail.read(false).expect("reads")),
        [
            "event job_started",
            "event run_finished",
            "test 3: no newline at the end"
        ],
        "once the run finished, a last line without its newline is a line too"
    );
    assert!(tail.finished());
    assert!(tail.read(false).expect("reads").is_empty());
}

#[test]
fn a_follower_resumes_from_any_cursor_with_nothing_lost_or_repeated() {
    let folder = run_folder();
    let root = folder.path();
    append(&events(root), &format!("{STARTED}\n"));
    for n in 1..=1200 {
        append(&log(root, "build"), &format!("line {n}\n"));
    }
    append(&log(root, "test"), "t1\nt2\n");
    append(&events(root), &format!("{FINISHED}\n"));

    let everything = RunTail::new(root, Cursor::default(), Lines::All)
        .read(false)
        .expect("reads");
    assert_eq!(
        shown(&everything)
            .iter()
            .map(|text| text.split(':').next().unwrap_or("").to_owned())
            .collect::<Vec<_>>(),
        [
            "event run_started",
            "event run_finished",
            "build 1",
            "build 501",
            "build 1001",
            "test 1"
        ],
        "lines come 500 to a message"
    );
    let all_lines = |messages: &[TailMessage]| -> Vec<String> {
        messages
            .iter()
            .flat_map(|message| match &message.item {
                TailItem::Lines { job, texts, .. } => texts
                    .iter()
                    .map(|text| format!("{job}:{text}"))
                    .collect::<Vec<_>>(),
                TailItem::Event(text) => vec![text.clone()],
            })
            .collect()
    };
    let whole = all_lines(&everything);
    let mut seen = 0;
    for (index, message) in everything.iter().enumerate() {
        let id = message.cursor.to_string();
        let cursor = Cursor::parse(&id).expect("our own id parses");
        let rest = RunTail::new(root, cursor, Lines::All)
            .read(false)
            .expect("resumes");
        let before = all_lines(&everything[..=index]);
        seen += before.len();
        let mut joined = before;
        joined.extend(all_lines(&rest));
        assert!(
            joined == whole,
            "resumed after message {index} ({id}): {} lines, not {}",
            joined.len(),
            whole.len()
        );
    }
    assert!(seen > 0);
}

#[test]
fn a_cursor_that_does_not_fit_the_run_is_refused() {
    let folder = run_folder();
    let root = folder.path();
    append(&events(root), &format!("{STARTED}\n"));
    append(&log(root, "build"), "one\ntwo\n");
    let resume =
        |id: &str| RunTail::new(root, Cursor::parse(id).expect("parses"), Lines::All).read(false);
    assert!(matches!(
        resume("e=1@999"),
        Err(TailError::Place(PlaceError::NotALineEnd { .. }))
    ));
    let after_started = STARTED.len() + 1;
    assert!(matches!(
        resume(&format!("e=1@{after_started};build=1@2")),
        Err(TailError::Place(PlaceError::NotALineEnd { .. }))
    ));
    assert!(matches!(
        resume(&format!("e=1@{after_started};deploy=1@4")),
        Err(TailError::UnknownJob(job)) if job == "deploy"
    ));
    let rest = resume(&format!("e=1@{after_started};build=1@4")).expect("a right cursor");
    assert_eq!(shown(&rest), ["build 2: two"]);
}

#[test]
fn one_job_is_followed_alone() {
    let folder = run_folder();
    let root = folder.path();
    append(&events(root), &format!("{STARTED}\n"));
    append(&log(root, "build"), "b\n");
    append(&log(root, "test"), "t\n");
    let mut tail = RunTail::new(root, Cursor::default(), Lines::Job("test".to_owned()));
    assert_eq!(
        shown(&tail.read(false).expect("reads")),
        ["event run_started", "test 1: t"]
    );
    let mut unknown = RunTail::new(root, Cursor::default(), Lines::Job("nope".to_owned()));
    assert!(matches!(unknown.read(false), Err(TailError::UnknownJob(_))));
}
