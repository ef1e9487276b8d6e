//! `pipekit-ci serve user add NAME --role R [--data DIR]`: a web UI user, its password read
//! from standard input (so that it is in no shell history or process list).

use crate::access::{Role, hash_password};
use crate::error_chain::error_chain;
use crate::store::RunStore;
use pipekit_runner::cli::CliError;
use std::io::BufRead;
use std::path::Path;
use std::time::SystemTime;

/// Adds the user `name` with `role` to the database in `data`, the password being the
/// first line of `password` (without its line end). 0 once added.
pub fn add_user(
    data: &Path,
    name: &str,
    role: &str,
    password: impl BufRead,
) -> Result<u8, CliError> {
    let role = Role::parse(role).ok_or_else(|| {
        CliError::InvalidInput(format!("`{role}` is no role: viewer, operator or admin"))
    })?;
    if name.is_empty()
        || name.len() > 64
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(CliError::InvalidInput(format!(
            "`{name}` is not a user name: 1 to 64 characters, no spaces"
        )));
    }
    let mut line = String::new();
    password
        .take(64 * 1024)
        .read_line(&mut line)
        .map_err(|error| CliError::Environment(format!("cannot read the password: {error}")))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(CliError::InvalidInput(
            "no password on standard input (its first line is the password)".to_owned(),
        ));
    }
    let hash = hash_password(password).map_err(|error| CliError::Environment(error.to_string()))?;
    std::fs::create_dir_all(data).map_err(|error| {
        CliError::Environment(format!("cannot create `{}`: {error}", data.display()))
    })?;
    let mut store = RunStore::open(&data.join("pipekit.db"))
        .map_err(|error| CliError::Environment(error_chain(&error)))?;
    store
        .add_user(name, role, &hash, SystemTime::now())
        .map_err(|error| match error {
            crate::store::StoreError::UserExists(_) => CliError::InvalidInput(error.to_string()),
            other => CliError::Environment(error_chain(&other)),
        })?;
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("pipekit-ci serve: user `{name}` added ({role})\n").as_bytes(),
    );
    Ok(0)
}
