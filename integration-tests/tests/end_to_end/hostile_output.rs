//! Jobs whose output is hostile: one endless line, bytes no report format can hold, more
//! output than anyone wants to keep.

use crate::common::{
    JobState, Project, RunJson, RunStatus, eventually, find_test_case, parse_junit, pipeline_suite,
};
use quick_xml::events::Event;
use std::path::Path;
use std::time::Duration;

/// What pipekit-ci may use, at most, while a job prints 100 MB without a newline.
const PEAK_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

#[test]
fn a_100_mb_line_costs_bounded_memory_and_the_line_after_it_still_fires_a_signal() {
    let project = Project::new(
        r#"
services:
  talker:
    signals:
      ready: Grep(stdout, "^ready$"):120
    command: sh talker.sh
  listener:
    depends_on: [talker.ready]
    command: echo heard ready
"#,
    );
    // The talker waits for the test to let it go, so the test can read pipekit-ci's peak
    // memory after the whole line went through it, before it exits.
    project.write(
        "talker.sh",
        r#"head -c 100000000 /dev/zero | tr '\0' x
printf '\nready\n'
while [ ! -e "$PIPEKIT_SHARED/release" ]; do sleep 0.05; done
"#,
    );
    let started = project.spawn(&["run", "--no-progress", "--log-limit", "8M"]);
    let heard = eventually(Duration::from_secs(180), || {
        project.run_dirs().iter().any(|dir| {
            std::fs::read_to_string(dir.join("logs/listener.log"))
                .is_ok_and(|log| log.contains("heard ready"))
        })
    });
    let peak = peak_memory_bytes(started.pid().as_raw());
    for dir in project.run_dirs() {
        let _ = std::fs::write(dir.join("shared/release"), "");
    }
    let finished = started.wait(Duration::from_secs(60));
    assert!(heard, "the listener never ran:\n{}", finished.stderr);
    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("talker", JobState::Passed), ("listener", JobState::Passed)]);

    let peak = peak.expect("pipekit-ci's /proc/<pid>/status has a VmHWM line");
    println!("pipekit-ci's peak memory (VmHWM): {} KiB", peak / 1024);
    assert!(
        peak < PEAK_MEMORY_BYTES,
        "pipekit-ci's peak memory was {} MiB while a job printed a 100 MB line",
        peak / (1024 * 1024)
    );
    // The line that fired the signal was past the 8 MiB the log keeps.
    let log_size = std::fs::metadata(project.run_dir().join("logs/talker.log"))
        .map(|metadata| metadata.len())
        .expect("the talker's log");
    assert!(
        log_size < 8 * 1024 * 1024 + 1024,
        "the log holds {log_size} bytes"
    );
}

/// VmHWM: the most resident memory the process has had so far.
fn peak_memory_bytes(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn escapes_nul_invalid_utf8_and_markup_in_output_keep_the_reports_valid() {
    let project = Project::new(
        r#"
services:
  hostile:
    command: sh hostile.sh
"#,
    );
    project.write(
        "hostile.sh",
        r#"for stream in 1 2; do
  printf '\033[31mred\033[0m \033]0;title\007 plain\n' >&$stream
  printf 'nul:\000:end\n' >&$stream
  printf 'invalid:\377\376\300:end\n' >&$stream
  printf 'nonchar:\357\277\276:end\n' >&$stream
  printf 'cdata:]]><x/>:end\n' >&$stream
  printf 'close:</system-out><x/><failure>&amp;&bogus;<!--:end\n' >&$stream
done
exit 1
"#,
    );
    let finished = project.run_pipeline(&[]);
    finished.assert_code(1);

    let run_dir = project.run_dir();
    let junit = std::fs::read_to_string(run_dir.join("junit.xml")).expect("junit.xml");
    let elements = xml_elements(&junit).unwrap_or_else(|error| {
        panic!("junit.xml is not well-formed XML: {error}\n{junit}");
    });
    assert!(
        !elements.iter().any(|name| name == "x"),
        "job output injected an element: {elements:?}"
    );
    let failures = elements.iter().filter(|name| *name == "failure").count();
    assert_eq!(failures, 1, "one failure element, the job's: {elements:?}");
    if let Some(bad) = junit.chars().find(|c| !is_xml_char(*c)) {
        panic!("junit.xml holds {bad:?}, which XML 1.0 forbids");
    }

    // The markup is kept as text, so a reader sees what the job printed.
    let report = parse_junit(&run_dir.join("junit.xml"));
    let case = find_test_case(pipeline_suite(&report, "pipekit"), "hostile");
    let system_out = case
        .system_out
        .as_ref()
        .map(|out| out.as_str().to_owned())
        .unwrap_or_default();
    for kept in [
        "cdata:]]><x/>:end",
        "close:</system-out><x/><failure>&amp;&bogus;",
    ] {
        assert!(
            system_out.contains(kept),
            "`{kept}` is missing from <system-out>:\n{system_out}"
        );
    }

    let run = RunJson::read(&run_dir);
    assert_eq!(run.status, RunStatus::Failed);
    run.assert_states(&[("hostile", JobState::Failed)]);
}

/// The names of every element, in document order; an error unless the document is
/// well-formed (matching tags, one root, only XML's own entities).
fn xml_elements(text: &str) -> Result<Vec<String>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| format!("at byte {}: {error}", reader.buffer_position()))?;
        let name =
            |name: quick_xml::name::QName<'_>| String::from_utf8_lossy(name.as_ref()).into_owned();
        match event {
            Event::Start(start) => {
                roots += usize::from(depth == 0);
                depth += 1;
                names.push(name(start.name()));
            }
            Event::Empty(empty) => {
                roots += usize::from(depth == 0);
                names.push(name(empty.name()));
            }
            Event::End(_) => depth = depth.checked_sub(1).ok_or("an end tag too many")?,
            Event::GeneralRef(reference) => {
                let known = reference.is_char_ref()
                    || matches!(
                        reference.as_ref(),
                        b"lt" | b"gt" | b"amp" | b"quot" | b"apos"
                    );
                if !known {
                    return Err(format!("undefined entity {reference:?}"));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (depth, roots) {
        (0, 1) => Ok(names),
        (0, roots) => Err(format!("{roots} root elements")),
        (depth, _) => Err(format!("{depth} elements left open")),
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// The log limit the `yes` test sets: 256 KiB.
const LIMIT: u64 = 256 * 1024;

#[test]
fn a_job_printing_without_end_is_capped_with_a_marker_and_keeps_its_real_status() {
    let project = Project::new(
        r#"
services:
  chatty:
    command: yes | head -c 300000; timeout 3 yes; exit 0
  counted:
    command: yes | head -c 1310720; exit 1
"#,
    );
    // Through the variable (the flag is used by the 100 MB line test).
    let finished =
        project.run_with_env(&["run", "--no-progress"], &[("PIPEKIT_LOG_LIMIT", "256K")]);
    finished.assert_code(1);
    let run = project.run_json();
    run.assert_states(&[("chatty", JobState::Passed), ("counted", JobState::Failed)]);
    assert_eq!(run.job("counted").exit_code, Some(1));

    let run_dir = project.run_dir();
    for job in ["chatty", "counted"] {
        let log = read_lossy(&run_dir.join(format!("logs/{job}.log")));
        let kept = log
            .find("[pipekit-ci: log truncated")
            .unwrap_or_else(|| panic!("no truncation marker in {job}'s log"));
        assert_eq!(kept as u64, LIMIT, "{job}'s log keeps exactly the limit");
        assert!(
            log.len() as u64 <= LIMIT + 512,
            "{job}'s log is {} bytes",
            log.len()
        );
        let shown = finished
            .stderr
            .lines()
            .filter(|line| line.starts_with(job) && line.contains("| [pipekit-ci: log truncated"))
            .count();
        assert_eq!(shown, 1, "the console shows {job}'s marker once");
    }
    // `yes | head -c 1.25 MiB`: exactly what was not kept is counted, which also shows the
    // output was drained to its end (else `yes` would never have finished).
    let counted = read_lossy(&run_dir.join("logs/counted.log"));
    assert!(
        counted.contains(&format!("{} further bytes not kept", 1310720 - LIMIT)),
        "the end of the log says how much was dropped:\n{}",
        &counted[counted.len().saturating_sub(400)..]
    );
    // Past the limit the console shows nothing either: the 256 KiB of `y` lines kept per job,
    // and the failure diagnosis repeats a few of them.
    let shown_lines = finished
        .stderr
        .lines()
        .filter(|line| line.ends_with("| y"))
        .count();
    assert!(
        shown_lines as u64 <= 2 * (LIMIT / 2) + 100,
        "the console showed {shown_lines} lines of `yes`"
    );

    let report = parse_junit(&run_dir.join("junit.xml"));
    let suite = pipeline_suite(&report, "pipekit");
    for job in ["chatty", "counted"] {
        let case = find_test_case(suite, job);
        let system_out = case
            .system_out
            .as_ref()
            .map(|out| out.as_str().to_owned())
            .unwrap_or_default();
        assert!(
            system_out.contains("log truncated after 256 KiB"),
            "{job}'s <system-out> does not say the log was truncated"
        );
    }
}

fn read_lossy(path: &Path) -> String {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}
