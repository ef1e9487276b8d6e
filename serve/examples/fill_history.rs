//! Fills a data folder's history with finished runs, for `bench/serve_history.sh`: the
//! service's own store records them as it records real ones (queued, started, ended), so
//! that the server started on the folder lists a history of that size.
//!
//! ```sh
//! cargo run --release -p pipekit-serve --example fill_history -- DATA_DIR REPOSITORY COUNT
//! ```
//!
//! REPOSITORY is the name the server gives the repository it serves (its folder's, `.git`
//! dropped). Every tenth run fails; the runs are a minute apart, the newest ending now.

use pipekit_serve::store::{NewRun, RunState, RunStore, Trigger};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, repository, count] = args.as_slice() else {
        eprintln!("usage: fill_history DATA_DIR REPOSITORY COUNT");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<u32>() else {
        eprintln!("fill_history: COUNT takes a number of runs, not `{count}`");
        return ExitCode::from(2);
    };
    match fill(std::path::Path::new(data), repository, count) {
        Ok(elapsed) => {
            println!(
                "fill_history: {count} runs of `{repository}` recorded in {:.1} s",
                elapsed.as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("fill_history: {error}");
            ExitCode::FAILURE
        }
    }
}

fn fill(data: &std::path::Path, repository: &str, count: u32) -> Result<Duration, String> {
    std::fs::create_dir_all(data)
        .map_err(|error| format!("cannot create `{}`: {error}", data.display()))?;
    let database = data.join("pipekit.db");
    let mut store = RunStore::open(&database).map_err(|error| error.to_string())?;
    store
        .add_repository(repository, &data.display().to_string())
        .map_err(|error| error.to_string())?;
    let started = Instant::now();
    let now = SystemTime::now();
    for index in 0..count {
        let queued_at = now - Duration::from_secs(60 * u64::from(count - index));
        let run = NewRun {
            repository: repository.to_owned(),
            pipeline: "pipekit.yml".to_owned(),
            branch: Some("main".to_owned()),
            git_ref: Some("refs/heads/main".to_owned()),
            // Distinct commits: a push of the same commit and pipeline is queued only once.
            commit: format!("{index:040x}"),
            message: format!("Change number {index}"),
            author: "Bench <bench@localhost>".to_owned(),
            trigger: Trigger::Hook,
            attempt_of: None,
            rerun: None,
        };
        let id = store
            .enqueue(&run, queued_at)
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("run {index} was not queued: its commit was seen before"))?;
        let row = store
            .start_next(1, queued_at + Duration::from_millis(150))
            .map_err(|error| error.to_string())?
            .ok_or_else(|| "no run was waiting to start".to_owned())?;
        if row.id != id {
            return Err(format!(
                "run {} started instead of {id}: the history was not empty of waiting runs",
                row.id
            ));
        }
        let state = match index % 10 {
            9 => RunState::Failed,
            _ => RunState::Passed,
        };
        store
            .finish(id, state, None, queued_at + Duration::from_secs(20))
            .map_err(|error| error.to_string())?;
    }
    Ok(started.elapsed())
}
