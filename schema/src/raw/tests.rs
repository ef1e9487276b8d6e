use std::path::{Path, PathBuf};

use super::*;

/// The event reader's tree, checked against serde-saphyr's; panics where it gives up.
fn read(text: &str) -> Node {
    if let Err(difference) = readers_agree(text) {
        panic!("the readers disagree on {text:?}: {difference}");
    }
    match events::parse(text) {
        Some(tree) => tree.value,
        None => panic!("{text:?} is left to serde-saphyr"),
    }
}

fn scalar_of(text: &str) -> Node {
    match read(&format!("key: {text}\n")) {
        Node::Map(mut entries) => entries.remove(0).1.value,
        other => panic!("not a mapping: {other:?}"),
    }
}

#[test]
fn plain_scalars_are_typed_as_serde_saphyr_types_them() {
    assert_eq!(scalar_of("8080"), Node::Int(8080));
    assert_eq!(scalar_of("-3"), Node::Int(-3));
    assert_eq!(scalar_of("0x1F"), Node::Int(31));
    assert_eq!(scalar_of("1.5"), Node::Float(1.5));
    assert_eq!(scalar_of(".5"), Node::Float(0.5));
    assert_eq!(scalar_of("true"), Node::Bool(true));
    assert_eq!(scalar_of("FALSE"), Node::Bool(false));
    assert_eq!(scalar_of("~"), Node::Null);
    assert_eq!(scalar_of(""), Node::Null);
    // YAML 1.2: the YAML 1.1 booleans are strings.
    assert_eq!(scalar_of("yes"), Node::Str("yes".into()));
    assert_eq!(scalar_of("on"), Node::Str("on".into()));
    assert_eq!(scalar_of("\"8080\""), Node::Str("8080".into()));
    assert_eq!(scalar_of("8080:80"), serde_typed("8080:80"));
    assert_eq!(scalar_of("1_000"), serde_typed("1_000"));
    assert_eq!(scalar_of("0o17"), serde_typed("0o17"));
    assert_eq!(scalar_of("1e3"), serde_typed("1e3"));
    assert_eq!(scalar_of("..."), Node::Str("...".into()));
    assert_eq!(scalar_of("3.8-alpine"), Node::Str("3.8-alpine".into()));
    assert_eq!(scalar_of("1 2"), Node::Str("1 2".into()));
}

fn serde_typed(text: &str) -> Node {
    saphyr::plain_scalar(text).expect("one scalar")
}

#[test]
fn keys_that_are_numbers_or_booleans_keep_their_text() {
    let Node::Map(entries) = read("1: a\ntrue: b\n0x10: c\n") else {
        panic!("not a mapping");
    };
    let keys: Vec<&str> = entries.iter().map(|(key, _)| key.value.as_str()).collect();
    assert_eq!(keys, ["1", "true", "16"]);
}

#[test]
fn spans_are_the_bytes_of_keys_and_values() {
    let text = "a:\n  b: \"x\"\n  c: [1, 'two']\n";
    read(text);
    let tree = parse(&LineIndex::new(text)).expect("valid YAML");
    let Node::Map(entries) = &tree.value else {
        panic!("not a mapping");
    };
    let Node::Map(inner) = &entries[0].1.value else {
        panic!("not a mapping");
    };
    let index = LineIndex::new(text);
    let at = |place: &Place| {
        let location = location_of(&index, place);
        (location.line, location.column, location.len)
    };
    assert_eq!(at(&inner[0].0.referenced), (2, 3, 1));
    assert_eq!(at(&inner[0].1.referenced), (2, 6, 3));
    let Node::Seq(items) = &inner[1].1.value else {
        panic!("not a list");
    };
    assert_eq!(at(&items[1].referenced), (3, 10, 5));
}

#[test]
fn what_serde_saphyr_decides_is_left_to_it() {
    for text in [
        // Anchors, aliases and merge keys.
        "a: &x 1\nb: *x\n",
        "base: &b {x: 1}\njob:\n  <<: *b\n",
        // Tags and directives.
        "a: !!str 1\n",
        "%YAML 1.1\n---\na: yes\n",
        // Keys: written twice, empty, not scalars.
        "a: 1\na: 2\n",
        "1: x\n01: y\n",
        "~: b\n",
        "? [a]\n: b\n",
        // Not one document.
        "",
        "a: 1\n---\nb: 2\n",
        // Not YAML.
        "a: [1, 2\n",
        "a: b: c\n",
    ] {
        let fast = events::parse(text);
        assert!(fast.is_none(), "{text:?} read as {fast:?}");
        let slow = saphyr::parse(&LineIndex::new(text));
        // And the full reader still answers: the tree, or serde-saphyr's diagnostic.
        assert_eq!(
            format!("{:?}", parse(&LineIndex::new(text))),
            format!("{slow:?}")
        );
    }
}

#[test]
fn duplicate_keys_in_wide_mappings_are_left_to_serde_saphyr() {
    let mut text: String = (0..40).map(|n| format!("job{n}: x\n")).collect();
    assert!(events::parse(&text).is_some());
    text.push_str("job7: y\n");
    assert!(events::parse(&text).is_none());
    let error = parse(&LineIndex::new(&text)).expect_err("duplicate key");
    assert_eq!(error.message, "duplicate key `job7`");
}

#[test]
fn deep_nesting_is_left_to_serde_saphyr() {
    let deep = format!("{}1{}\n", "[".repeat(30), "]".repeat(30));
    assert!(events::parse(&deep).is_none());
    let error = parse(&LineIndex::new(&deep)).expect_err("too deep");
    assert!(
        error.message.contains("nested too deeply"),
        "{}",
        error.message
    );
}

#[test]
fn a_wide_graph_is_read_by_the_event_reader() {
    let mut text = String::from("version: \"1\"\nservices:\n");
    for job in 0..50 {
        text.push_str(&format!(
            "  l1-j{job}:\n    command: [\"true\"]\n    depends_on: ["
        ));
        let references: Vec<String> = (0..50).map(|n| format!("l0-j{n}.ExitCode(0)")).collect();
        text.push_str(&references.join(", "));
        text.push_str("]\n");
    }
    read(&text);
}

/// Every YAML file under `root`, recursively.
fn yaml_files(root: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yml" || extension == "yaml")
        {
            found.push(path);
        }
    }
}

/// The readers agree on every file written by others (the Compose and GitHub Actions
/// corpora in `../shared`) and on the project's own pipelines and fixtures; the event
/// reader takes most of them.
#[test]
fn both_readers_build_the_same_tree_for_every_corpus_file() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for folder in ["pipelines", "fixtures", "bench", "integration-tests"] {
        yaml_files(&repository.join(folder), &mut files);
    }
    let ours = files.len();
    for corpus in ["compose-corpus", "gha-corpus"] {
        yaml_files(&repository.join("../shared").join(corpus), &mut files);
    }
    assert!(ours > 20, "only {ours} files of our own found");
    let (mut taken, mut texts) = (0, 0);
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        texts += 1;
        if events::parse(&text).is_some() {
            taken += 1;
        }
        if let Err(difference) = readers_agree(&text) {
            panic!("the readers disagree on {}: {difference}", path.display());
        }
    }
    eprintln!("event reader took {taken} of {texts} files");
    assert!(
        taken * 2 > texts,
        "the event reader took only {taken} of {texts} files"
    );
}
