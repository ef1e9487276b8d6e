//! `--log-limit SIZE`, else `$PIPEKIT_LOG_LIMIT`, else the default.

use super::error::CliError;
use crate::run::parse_log_limit;

/// The variable that sets the limit when the flag is not given (for hooks and CI servers,
/// which call `pipekit-ci run` without asking the user for flags).
pub const LOG_LIMIT_VARIABLE: &str = "PIPEKIT_LOG_LIMIT";

/// The default limit per job. GitLab's runner keeps 4 MiB, which cuts the logs of ordinary
/// verbose builds; GitHub and Woodpecker keep far more. 64 MiB keeps any real build or test
/// log whole, yet stops a runaway job (`yes`) long before it fills a disk, and a 64 MiB file
/// still opens in an editor.
pub const DEFAULT_LOG_LIMIT: u64 = 64 * 1024 * 1024;

/// Bytes a job's log keeps; `None`, all. (A bare `Option<u64>` field would tell clap that the
/// flag may be left out, not that its value may be "no limit".)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimit(pub Option<u64>);

/// clap's parser for `--log-limit`.
pub fn log_limit(text: &str) -> Result<LogLimit, String> {
    parse_log_limit(text).map(LogLimit)
}

/// The limit in force: the flag's, else the variable's (`variable`: its value, if set).
pub fn resolve_log_limit(
    flag: Option<LogLimit>,
    variable: Option<&str>,
) -> Result<Option<u64>, CliError> {
    match (flag, variable) {
        (Some(LogLimit(limit)), _) => Ok(limit),
        (None, Some(text)) => parse_log_limit(text)
            .map_err(|error| CliError::InvalidInput(format!("{LOG_LIMIT_VARIABLE}: {error}"))),
        (None, None) => Ok(Some(DEFAULT_LOG_LIMIT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_variable_which_wins_over_the_default() {
        let flag = Some(LogLimit(Some(1024)));
        assert_eq!(resolve_log_limit(flag, Some("none")).ok(), Some(Some(1024)));
        let no_limit = Some(LogLimit(None));
        assert_eq!(resolve_log_limit(no_limit, Some("1M")).ok(), Some(None));
        assert_eq!(resolve_log_limit(None, Some("2K")).ok(), Some(Some(2048)));
        assert_eq!(resolve_log_limit(None, Some("0")).ok(), Some(None));
        assert_eq!(
            resolve_log_limit(None, None).ok(),
            Some(Some(DEFAULT_LOG_LIMIT))
        );
    }

    #[test]
    fn a_bad_variable_is_invalid_input_naming_it() {
        let error = resolve_log_limit(None, Some("lots")).expect_err("not a size");
        assert_eq!(error.exit_code(), CliError::INVALID_INPUT);
        assert!(error.to_string().contains(LOG_LIMIT_VARIABLE), "{error}");
    }
}
