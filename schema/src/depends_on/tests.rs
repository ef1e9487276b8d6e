use super::*;

#[test]
fn parses_every_reference_form() {
    let cases = [
        ("database", "database", Wanted::Started, "database"),
        (
            "database.ready",
            "database",
            Wanted::Signal("ready".to_owned()),
            "ready",
        ),
        (
            "build.ExitCode(0)",
            "build",
            Wanted::ExitCode(0),
            "ExitCode(0)",
        ),
        (
            "build.ExitCode( 255 )",
            "build",
            Wanted::ExitCode(255),
            "ExitCode( 255 )",
        ),
        ("build.Started", "build", Wanted::Started, "Started"),
        ("build.Exited", "build", Wanted::Exited, "Exited"),
        ("db.Healthy", "db", Wanted::Healthy, "Healthy"),
        (
            "  db.ready  ",
            "db",
            Wanted::Signal("ready".to_owned()),
            "ready",
        ),
        (
            "db.started",
            "db",
            Wanted::Signal("started".to_owned()),
            "started",
        ),
        (
            "my_job-2.log-line_1",
            "my_job-2",
            Wanted::Signal("log-line_1".to_owned()),
            "log-line_1",
        ),
    ];
    for (text, job, wanted, wanted_text) in cases {
        let reference = parse_reference(text).unwrap_or_else(|error| panic!("{text}: {error:?}"));
        assert_eq!(reference.job, job, "{text}");
        assert_eq!(text.get(reference.job_range.clone()), Some(job), "{text}");
        assert_eq!(reference.wanted, wanted, "{text}");
        assert_eq!(
            text.get(reference.wanted_range.clone()),
            Some(wanted_text),
            "{text}"
        );
    }
}

#[test]
fn reports_malformed_references() {
    let cases = [
        ("", "expected a job name", ""),
        (".ready", "expected a job name", "."),
        ("db.", "expected a signal after `db.`", ""),
        ("db.ExitCode", "`ExitCode` needs an exit code", ""),
        ("db.ExitCode()", "`ExitCode` needs a number", ")"),
        ("db.ExitCode(256)", "exit code 256 is out of range", "256"),
        ("db.ExitCode(-1)", "exit code -1 is out of range", "-1"),
        ("db.ExitCode(x)", "`ExitCode` needs a number", "x"),
        ("db.ExitCode(0", "expected `)` after the exit code", ""),
        (
            "db.exitcode(0)",
            "`exitcode(…)` cannot be used in `depends_on`",
            "exitcode",
        ),
        (
            "db.Grep(stdout, \"x\")",
            "`Grep(…)` cannot be used in `depends_on`",
            "Grep",
        ),
        (
            "db.ready.now",
            "`db.ready.now` is not a valid reference",
            ".now",
        ),
        ("db ready", "`db ready` is not a valid reference", "ready"),
        ("db.1st", "expected a signal after `db.`", "1"),
    ];
    for (text, message, highlighted) in cases {
        let error = match parse_reference(text) {
            Ok(reference) => panic!("{text} parsed as {reference:?}"),
            Err(error) => error,
        };
        assert_eq!(error.message, message, "{text}");
        assert_eq!(
            text.get(error.range.clone()),
            Some(highlighted),
            "{text}: {:?}",
            error.range
        );
    }
}

#[test]
fn suggests_exit_code_for_its_misspellings() {
    let error = parse_reference("db.Exitcode(0)").expect_err("misspelt");
    assert_eq!(
        error.hint.as_deref(),
        Some("did you mean `db.ExitCode(0)`?")
    );
}

#[test]
fn plain_references_read_as_the_cursor_reads_them() {
    let texts = [
        "db",
        "db.ready",
        "db.Started",
        "db.Exited",
        "db.Healthy",
        "l0-j10.ExitCode(0)",
        "b.ExitCode(007)",
        "b.ExitCode(255)",
        "b.ExitCode(256)",
        "b.ExitCode(-1)",
        "b.ExitCode(1000)",
        "b.ExitCode()",
        "b.ExitCode",
        "b.ExitCode(0",
        "b.Exitcode(0)",
        "b.ready_2-x",
        "b.2ready",
        "b.",
        ".ready",
        "a.b.c",
        "a..b",
        "",
        "db.ready)",
        "b.ExitCode(1)x",
    ];
    for text in texts {
        let spelled = parse_spelled(text);
        match parse_plain(text) {
            Some(plain) => assert_eq!(Ok(plain), spelled, "{text:?}"),
            None => assert!(
                spelled.is_err(),
                "{text:?} is valid but left to the cursor: {spelled:?}"
            ),
        }
    }
    // What the quick path takes, it takes whole: the common forms never reach the cursor.
    for text in ["db", "db.ready", "l0-j10.ExitCode(0)", "db.Healthy"] {
        assert!(parse_plain(text).is_some(), "{text:?}");
    }
}
