use super::*;
use std::collections::HashMap;

fn pipeline(text: &str) -> Pipeline {
    let source = pipekit_schema::Source {
        name: "ci.yml".to_owned(),
        text: text.to_owned(),
    };
    match pipekit_schema::parse(&source) {
        Ok(parsed) => parsed.pipeline,
        Err(diagnostics) => panic!("{diagnostics}"),
    }
}

fn variables(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), OsString::from(value)))
        .collect();
    move |key| map.get(key).cloned()
}

const PIPELINE: &str = "secrets:\n  token: {environment: API_TOKEN}\n  key: {file: ./key.txt}\nservices:\n  a: {command: x, secrets: [token]}\n  b: {command: y, secrets: [key]}\n";

#[test]
fn reads_variables_and_files_and_strips_one_trailing_newline()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("key.txt"), "line one\nline two\r\n\n")?;
    let pipeline = pipeline(PIPELINE);
    let secrets = RunSecrets::resolve(
        &pipeline,
        |_| true,
        dir.path(),
        variables(&[("API_TOKEN", "tok-12345678")]),
    )?;
    let a = secrets.of_job(&pipeline.jobs[0]);
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].name.as_str(), a[0].value.as_str()),
        ("token", "tok-12345678")
    );
    let b = secrets.of_job(&pipeline.jobs[1]);
    assert_eq!(b[0].value, "line one\nline two\r\n");
    let masker = secrets.masker();
    assert_eq!(masker.mask("tok-12345678 / line two"), "*** / ***");
    assert!(!format!("{secrets:?}").contains("tok-12345678"));
    Ok(())
}

#[test]
fn a_missing_source_of_a_needed_secret_names_it() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("key.txt"), "long enough value")?;
    let pipeline = pipeline(PIPELINE);
    let error = RunSecrets::resolve(&pipeline, |_| true, dir.path(), variables(&[]))
        .err()
        .ok_or("resolved without API_TOKEN")?;
    assert_eq!(
        error.to_string(),
        "secret `token` comes from the environment variable `API_TOKEN`, which is not set"
    );
    std::fs::remove_file(dir.path().join("key.txt"))?;
    let error = RunSecrets::resolve(
        &pipeline,
        |_| true,
        dir.path(),
        variables(&[("API_TOKEN", "tok-12345678")]),
    )
    .err()
    .ok_or("resolved without key.txt")?;
    assert!(
        error
            .to_string()
            .starts_with("cannot read the file of secret `key`"),
        "{error}"
    );
    Ok(())
}

#[test]
fn a_secret_no_job_in_scope_needs_may_be_missing() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let pipeline = pipeline(PIPELINE);
    // Only `a` runs: `key.txt` is not there, and need not be.
    let secrets = RunSecrets::resolve(
        &pipeline,
        |id| id == JobId(0),
        dir.path(),
        variables(&[("API_TOKEN", "tok-12345678")]),
    )?;
    assert_eq!(secrets.of_job(&pipeline.jobs[1]), []);
    Ok(())
}

#[test]
fn short_values_are_refused_even_when_unused() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("key.txt"), "1234567\n")?;
    let pipeline = pipeline(PIPELINE);
    let error = RunSecrets::resolve(
        &pipeline,
        |id| id == JobId(0),
        dir.path(),
        variables(&[("API_TOKEN", "tok-12345678")]),
    )
    .err()
    .ok_or("a 7-character secret was accepted")?;
    assert!(
        error
            .to_string()
            .starts_with("secret `key` is 7 characters long; values shorter than 8"),
        "{error}"
    );
    std::fs::write(dir.path().join("key.txt"), "long enough value")?;
    let empty = RunSecrets::resolve(
        &pipeline,
        |_| true,
        dir.path(),
        variables(&[("API_TOKEN", "")]),
    );
    assert!(matches!(
        empty,
        Err(SecretError::TooShort { length: 0, .. })
    ));
    Ok(())
}

#[test]
fn a_folder_or_a_huge_file_is_refused() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("key.txt"))?;
    let pipeline = pipeline(PIPELINE);
    let lookup = || variables(&[("API_TOKEN", "tok-12345678")]);
    let error = RunSecrets::resolve(&pipeline, |_| true, dir.path(), lookup())
        .err()
        .ok_or("a folder was read")?;
    assert!(
        error.to_string().ends_with("is not a regular file"),
        "{error}"
    );
    std::fs::remove_dir(dir.path().join("key.txt"))?;
    std::fs::write(
        dir.path().join("key.txt"),
        vec![b'x'; MAX_SECRET_FILE_BYTES as usize + 1],
    )?;
    let error = RunSecrets::resolve(&pipeline, |_| true, dir.path(), lookup())
        .err()
        .ok_or("a huge file was read")?;
    assert!(error.to_string().contains("larger than"), "{error}");
    // A FIFO would block the open forever, with nobody ever writing to it.
    std::fs::remove_file(dir.path().join("key.txt"))?;
    nix::unistd::mkfifo(
        &dir.path().join("key.txt"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )?;
    let error = RunSecrets::resolve(&pipeline, |_| true, dir.path(), lookup())
        .err()
        .ok_or("a FIFO was read")?;
    assert!(
        error.to_string().ends_with("is not a regular file"),
        "{error}"
    );
    Ok(())
}

#[test]
fn no_declared_secrets_cost_nothing() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = pipeline("services: {a: {command: x}}");
    let secrets = RunSecrets::resolve(
        &pipeline,
        |_| true,
        Path::new("/nonexistent"),
        variables(&[]),
    )?;
    assert!(secrets.masker().is_empty());
    Ok(())
}
