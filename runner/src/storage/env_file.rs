//! The `.env` format: `KEY=VALUE` lines a job leaves for the jobs after it.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The largest `.env` file read; anything bigger is a mistake, not configuration.
const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// Why a `.env` file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// A line of `.env` text is malformed.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// A line of a `.env` file is malformed.
    #[error("`{}` line {line}: {message}", path.display())]
    SyntaxInFile {
        /// The file.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// The file exists but could not be read.
    #[error("failed to read env file `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },

    /// The file is not a regular file (a symlink, a FIFO, a directory).
    #[error("env file `{}` is not a regular file", path.display())]
    NotARegularFile {
        /// The file.
        path: PathBuf,
    },

    /// The file is larger than 1 MiB.
    #[error("env file `{}` is larger than {MAX_ENV_FILE_BYTES} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },

    /// The file is not UTF-8 text.
    #[error("env file `{}` is not valid UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
}

/// Parses `.env` text into `(key, value)` pairs in file order; later duplicates win when applied.
pub fn parse_env(text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let syntax_error = |message: String| EnvFileError::Syntax {
            line: index + 1,
            message,
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let assignment = trimmed
            .strip_prefix("export")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .map_or(trimmed, str::trim_start);
        let Some((key, raw_value)) = assignment.split_once('=') else {
            return Err(syntax_error(format!(
                "expected KEY=VALUE, found `{trimmed}`"
            )));
        };
        let key = key.trim_end();
        if !is_valid_key(key) {
            return Err(syntax_error(format!(
                "invalid key `{key}`: keys are letters, digits and `_`, not starting with a digit"
            )));
        }
        let value = parse_value(raw_value).map_err(syntax_error)?;
        pairs.push((key.to_owned(), value));
    }
    Ok(pairs)
}

/// Reads and parses a `.env` file; a missing file means no variables.
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, EnvFileError> {
    let read_error = |source| EnvFileError::Read {
        path: path.to_owned(),
        source,
    };
    // A job (maybe inside a container) wrote this file: a symlink could point at a host secret
    // and a FIFO would block the runner, so neither is followed or waited on.
    let file = match File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            return Err(EnvFileError::NotARegularFile {
                path: path.to_owned(),
            });
        }
        Err(error) => return Err(read_error(error)),
    };
    if !file.metadata().map_err(read_error)?.is_file() {
        return Err(EnvFileError::NotARegularFile {
            path: path.to_owned(),
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_ENV_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_ENV_FILE_BYTES {
        return Err(EnvFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| EnvFileError::NotUtf8 {
        path: path.to_owned(),
    })?;
    parse_env(&text).map_err(|error| match error {
        EnvFileError::Syntax { line, message } => EnvFileError::SyntaxInFile {
            path: path.to_owned(),
            line,
            message,
        },
        other => other,
    })
}

fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses what follows `=`.
fn parse_value(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_start();
    let (value, rest) = match trimmed.chars().next() {
        Some('"') => parse_double_quoted(&trimmed[1..])?,
        Some('\'') => {
            let body = &trimmed[1..];
            let end = body
                .find('\'')
                .ok_or_else(|| "unterminated single-quoted value".to_owned())?;
            (body[..end].to_owned(), &body[end + 1..])
        }
        // Before trimming, so that `KEY= # comment` is an empty value.
        _ => return Ok(strip_inline_comment(raw).trim().to_owned()),
    };
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(value)
    } else {
        Err(format!("unexpected `{rest}` after the closing quote"))
    }
}

/// Returns the unescaped value and the text after the closing quote.
fn parse_double_quoted(body: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &body[index + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, 't')) => value.push('\t'),
                Some((_, escaped @ ('"' | '\\'))) => value.push(escaped),
                // Unknown escapes stay as written, as in dotenv and Compose.
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => break,
            },
            other => value.push(other),
        }
    }
    Err("unterminated double-quoted value".to_owned())
}

/// Cuts an unquoted value at ` #`; a `#` glued to the value (`a#b`) is part of it.
fn strip_inline_comment(raw: &str) -> &str {
    let mut previous_is_space = false;
    for (index, c) in raw.char_indices() {
        if c == '#' && previous_is_space {
            return &raw[..index];
        }
        previous_is_space = c == ' ' || c == '\t';
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_lines() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("\n\n  \n", &[]),
            ("# comment\n  # indented comment", &[]),
            ("KEY=value", &[("KEY", "value")]),
            ("KEY=", &[("KEY", "")]),
            ("_k1=v", &[("_k1", "v")]),
            ("  KEY = value  ", &[("KEY", "value")]),
            ("export KEY=value", &[("KEY", "value")]),
            ("export\tKEY=value", &[("KEY", "value")]),
            ("exported=1", &[("exported", "1")]),
            ("KEY=a=b", &[("KEY", "a=b")]),
            ("KEY=value # comment", &[("KEY", "value")]),
            ("KEY=a#b", &[("KEY", "a#b")]),
            ("KEY=#", &[("KEY", "#")]),
            ("KEY= # comment", &[("KEY", "")]),
            ("KEY=\"quoted value\"", &[("KEY", "quoted value")]),
            ("KEY=\"a\\nb\"", &[("KEY", "a\nb")]),
            ("KEY=\"say \\\"hi\\\"\"", &[("KEY", "say \"hi\"")]),
            ("KEY=\"back\\\\slash\"", &[("KEY", "back\\slash")]),
            ("KEY=\"keep \\$ as is\"", &[("KEY", "keep \\$ as is")]),
            (
                "KEY=\"# not a comment\" # comment",
                &[("KEY", "# not a comment")],
            ),
            ("KEY='literal \\n $x'", &[("KEY", "literal \\n $x")]),
            ("KEY='  spaced  '", &[("KEY", "  spaced  ")]),
            ("KEY=\"\"", &[("KEY", "")]),
            ("A=1\r\nB=2\r\n", &[("A", "1"), ("B", "2")]),
            ("A=1\nA=2", &[("A", "1"), ("A", "2")]),
            ("PASSWORD=s3cret\n", &[("PASSWORD", "s3cret")]),
        ];
        for (text, expected) in cases {
            let parsed = parse_env(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect();
            assert_eq!(parsed, expected, "{text:?}");
        }
    }

    #[test]
    fn reports_the_line_and_the_mistake() {
        let cases = [
            ("A=1\n\nfoo", "line 3: expected KEY=VALUE, found `foo`"),
            (
                "=value",
                "line 1: invalid key ``: keys are letters, digits and `_`, not starting with a digit",
            ),
            (
                "1KEY=v",
                "line 1: invalid key `1KEY`: keys are letters, digits and `_`, not starting with a digit",
            ),
            (
                "MY-KEY=v",
                "line 1: invalid key `MY-KEY`: keys are letters, digits and `_`, not starting with a digit",
            ),
            ("KEY=\"open", "line 1: unterminated double-quoted value"),
            (
                "KEY=\"ends in escape\\",
                "line 1: unterminated double-quoted value",
            ),
            ("KEY='open", "line 1: unterminated single-quoted value"),
            (
                "KEY=\"a\" b",
                "line 1: unexpected `b` after the closing quote",
            ),
            ("export", "line 1: expected KEY=VALUE, found `export`"),
        ];
        for (text, expected) in cases {
            match parse_env(text) {
                Ok(pairs) => panic!("{text:?} parsed as {pairs:?}"),
                Err(error) => assert_eq!(error.to_string(), expected, "{text:?}"),
            }
        }
    }

    #[test]
    fn a_missing_file_has_no_variables() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let pairs = read_env_file(&dir.path().join(".env"));
        assert!(matches!(pairs.as_deref(), Ok([])));
        Ok(())
    }

    #[test]
    fn a_file_error_names_the_file_and_line() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(".env");
        std::fs::write(&path, "A=1\nnot an assignment\n")?;
        let message = read_env_file(&path).map_err(|error| error.to_string());
        assert_eq!(
            message,
            Err(format!(
                "`{}` line 2: expected KEY=VALUE, found `not an assignment`",
                path.display()
            ))
        );
        Ok(())
    }

    #[test]
    fn refuses_symlinks_and_oversized_files() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "TOKEN=1")?;
        let link = dir.path().join(".env");
        std::os::unix::fs::symlink(&secret, &link)?;
        assert!(matches!(
            read_env_file(&link),
            Err(EnvFileError::NotARegularFile { .. })
        ));

        let big = dir.path().join("big.env");
        std::fs::write(
            &big,
            "A=".to_owned() + &"x".repeat(MAX_ENV_FILE_BYTES as usize),
        )?;
        assert!(matches!(
            read_env_file(&big),
            Err(EnvFileError::TooLarge { .. })
        ));
        Ok(())
    }
}
