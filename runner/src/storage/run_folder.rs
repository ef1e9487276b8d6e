//! The run folder: `.pipekit/runs/<run-id>/` and the paths inside it.

use super::runs_dir::RunsDir;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why the run folder could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A directory of the run folder could not be created.
    #[error("failed to create run folder `{}`", path.display())]
    CreateDirectory {
        /// The directory that could not be created.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },

    /// A file of the run folder could not be written.
    #[error("failed to write `{}`", path.display())]
    WriteFile {
        /// The file that could not be written.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },

    /// A job name that cannot be used as a directory name.
    #[error("job name `{name}` cannot be used as a folder name")]
    InvalidJobName {
        /// The offending name.
        name: String,
    },

    /// Every candidate run id was already taken.
    #[error("failed to find a free run id under `{}`", runs_dir.display())]
    NoFreeRunId {
        /// `.pipekit/runs/`.
        runs_dir: PathBuf,
    },
}

/// The owner record's name inside a run folder (see `RunFolder::owner_path`).
pub const OWNER_FILE: &str = "owner.json";

/// How many suffixes to try before giving up: collisions need two runs in the same millisecond.
const RUN_ID_ATTEMPTS: u32 = 64;

/// The space a run sets aside for its reports; see `SpaceReserve`.
pub const SPACE_RESERVE_FILE: &str = ".space-reserve";

/// The folder one run writes everything into.
#[derive(Debug, Clone)]
pub struct RunFolder {
    id: String,
    root: PathBuf,
    shared_root: PathBuf,
    started_at: SystemTime,
    /// The first file of the run that could not be written (a full disk), and why.
    write_failure: Arc<OnceLock<String>>,
}

impl RunFolder {
    /// Creates `base_dir/.pipekit/runs/<run-id>/` with `shared/<job>/`, `logs/` and `artifacts/`.
    pub fn create(base_dir: &Path, job_names: &[&str]) -> Result<RunFolder, StorageError> {
        RunFolder::create_in(&RunsDir::Beside(base_dir.to_owned()), job_names)
    }

    /// Creates `<runs>/<run-id>/` with `shared/<job>/`, `logs/` and `artifacts/`.
    pub fn create_in(runs: &RunsDir, job_names: &[&str]) -> Result<RunFolder, StorageError> {
        // Checked before anything touches the disk, so a bad name leaves no half-made folder.
        if let Some(name) = job_names.iter().find(|name| !is_folder_name(name)) {
            return Err(StorageError::InvalidJobName {
                name: (*name).to_owned(),
            });
        }
        let runs_dir = runs.path();
        create_dir_all(&runs_dir)?;
        if let RunsDir::Beside(dir) = runs {
            ignore_in_git(&dir.join(".pipekit"))?;
        }

        let started_at = SystemTime::now();
        let (id, root) = reserve_run_dir(&runs_dir, started_at)?;
        let folder = RunFolder {
            id,
            shared_root: root.join("shared"),
            root,
            started_at,
            write_failure: Arc::default(),
        };
        for dir in [folder.logs_dir(), folder.root.join("artifacts")] {
            create_dir(&dir)?;
        }
        // Without it every silent job's log is a file of its own, as before; not worth failing for.
        let _ = std::fs::File::create(folder.empty_log_path());
        create_dir(&folder.shared_root)?;
        for job in job_names {
            create_dir(&folder.job_shared_dir(job))?;
        }
        Ok(folder)
    }

    /// The paths of a run folder that exists already (an earlier run's, to read from);
    /// its id is its folder's name.
    pub fn existing(root: &Path) -> RunFolder {
        RunFolder {
            id: root
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            shared_root: root.join("shared"),
            root: root.to_owned(),
            started_at: SystemTime::now(),
            write_failure: Arc::default(),
        }
    }

    /// The run id, e.g. `20261122-001500-123-a1b2`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `.pipekit/runs/<run-id>/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `shared/`, seen by every job as `$PIPEKIT_SHARED`.
    pub fn shared_root(&self) -> &Path {
        &self.shared_root
    }

    /// `shared/<job>/`.
    pub fn job_shared_dir(&self, job: &str) -> PathBuf {
        self.shared_root().join(job)
    }

    /// `shared/<job>/.env`, read when the job starts.
    pub fn job_env_file(&self, job: &str) -> PathBuf {
        self.job_shared_dir(job).join(".env")
    }

    /// `logs/<job>.log`.
    pub fn log_path(&self, job: &str) -> PathBuf {
        self.logs_dir().join(format!("{job}.log"))
    }

    /// `logs/.empty`: the one empty file the log of every job that printed nothing is a hard
    /// link to. Its name cannot be a job's log: those all end in `.log`.
    pub fn empty_log_path(&self) -> PathBuf {
        self.logs_dir().join(".empty")
    }

    /// `artifacts/<job>.tar.zst`.
    pub fn artifact_path(&self, job: &str) -> PathBuf {
        self.root.join("artifacts").join(format!("{job}.tar.zst"))
    }

    /// `junit.xml`.
    pub fn junit_path(&self) -> PathBuf {
        self.root.join("junit.xml")
    }

    /// `.space-reserve`: room kept for the reports while the run lasts.
    pub fn space_reserve_path(&self) -> PathBuf {
        self.root.join(SPACE_RESERVE_FILE)
    }

    /// `run.json`.
    pub fn run_json_path(&self) -> PathBuf {
        self.root.join("run.json")
    }

    /// `owner.json`: the live pipekit-ci that runs it; gone once the run ended.
    pub fn owner_path(&self) -> PathBuf {
        self.root.join(OWNER_FILE)
    }

    /// Notes that `path` could not be written; true for the run's first such failure, the
    /// one worth telling the user about. A run with one ends as errored.
    pub fn note_write_failure(&self, path: &Path, error: &io::Error) -> bool {
        let mut first = false;
        self.write_failure.get_or_init(|| {
            first = true;
            format!("cannot write {}: {error}", path.display())
        });
        first
    }

    /// The first write failure of the run, if any.
    pub fn write_failure(&self) -> Option<&str> {
        self.write_failure.get().map(String::as_str)
    }

    /// When the folder was created, as RFC 3339 in UTC.
    pub fn started_at_rfc3339(&self) -> String {
        rfc3339(self.started_at)
    }

    fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
}

/// Formats a time as RFC 3339 in UTC with milliseconds, e.g. `2026-11-22T00:15:00.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let civil = CivilTime::from(time);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second, civil.millis
    )
}

/// Creates the run's directory under a fresh id; `create_dir` fails rather than sharing a folder.
fn reserve_run_dir(runs_dir: &Path, now: SystemTime) -> Result<(String, PathBuf), StorageError> {
    let civil = CivilTime::from(now);
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or_default();
    let seed = (u64::from(std::process::id()) << 32) ^ (nanos as u64);
    for attempt in 0..RUN_ID_ATTEMPTS {
        let suffix = mix(seed.wrapping_add(u64::from(attempt))) & 0xffff;
        let id = format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}-{:03}-{suffix:04x}",
            civil.year,
            civil.month,
            civil.day,
            civil.hour,
            civil.minute,
            civil.second,
            civil.millis
        );
        let root = runs_dir.join(&id);
        match std::fs::create_dir(&root) {
            Ok(()) => return Ok((id, root)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(StorageError::CreateDirectory { path: root, source }),
        }
    }
    Err(StorageError::NoFreeRunId {
        runs_dir: runs_dir.to_owned(),
    })
}

/// splitmix64's finalizer: spreads nearby seeds (same pid, close nanos) over the suffix space.
fn mix(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// What `.pipekit/.gitignore` says: the run folders (and itself) are not the user's to
/// commit; pipeline files in `.pipekit/*.yml` are.
const GITIGNORE: &str = "# Written by pipekit-ci: run folders stay out of git; pipeline files here do not.\n/runs/\n/.gitignore\n";

/// Keeps run folders out of `git status` without touching the user's own `.gitignore`.
fn ignore_in_git(pipekit_dir: &Path) -> Result<(), StorageError> {
    let path = pipekit_dir.join(".gitignore");
    let write = |path: PathBuf| {
        std::fs::write(&path, GITIGNORE).map_err(|source| StorageError::WriteFile { path, source })
    };
    match std::fs::symlink_metadata(&path) {
        // An earlier version ignored everything, pipeline files included.
        Ok(meta) if meta.is_file() && std::fs::read(&path).is_ok_and(|text| text == b"*\n") => {
            write(path)
        }
        Ok(_) => Ok(()),
        Err(_) => write(path),
    }
}

fn is_folder_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

fn create_dir(path: &Path) -> Result<(), StorageError> {
    std::fs::create_dir(path).map_err(|source| StorageError::CreateDirectory {
        path: path.to_owned(),
        source,
    })
}

fn create_dir_all(path: &Path) -> Result<(), StorageError> {
    std::fs::create_dir_all(path).map_err(|source| StorageError::CreateDirectory {
        path: path.to_owned(),
        source,
    })
}

/// A UTC calendar date and time of day.
struct CivilTime {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
    millis: u32,
}

impl From<SystemTime> for CivilTime {
    fn from(time: SystemTime) -> Self {
        // Times before 1970 only come from a broken clock; the epoch is as good an answer as any.
        let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let seconds = since_epoch.as_secs();
        let days = (seconds / 86_400) as i64;
        let second_of_day = seconds % 86_400;
        let (year, month, day) = civil_from_days(days);
        CivilTime {
            year,
            month,
            day,
            hour: second_of_day / 3600,
            minute: second_of_day % 3600 / 60,
            second: second_of_day % 60,
            millis: since_epoch.subsec_millis(),
        }
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_known_instants() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.005Z"),
            (1_709_251_199, 999, "2024-02-29T23:59:59.999Z"),
            (1_795_306_500, 123, "2026-11-22T00:15:00.123Z"),
            (4_107_542_400, 0, "2100-03-01T00:00:00.000Z"),
        ];
        for (seconds, millis, expected) in cases {
            let time = UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis);
            assert_eq!(rfc3339(time), expected, "{seconds}s");
        }
    }

    #[test]
    fn a_runs_folder_given_as_it_is_holds_the_run_folders_itself()
    -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let runs = data.path().join("runs/app");
        let folder = RunFolder::create_in(&RunsDir::At(runs.clone()), &["build"])?;
        assert_eq!(folder.root().parent(), Some(runs.as_path()));
        assert!(folder.job_shared_dir("build").is_dir());
        // No `.pipekit/` and no `.gitignore`: the data folder is nobody's work tree.
        assert!(!data.path().join(".pipekit").exists());
        assert!(!data.path().join("runs/.gitignore").exists());
        assert_eq!(
            RunsDir::Beside("/p".into()).path(),
            Path::new("/p/.pipekit/runs")
        );
        Ok(())
    }

    #[test]
    fn create_makes_every_folder_the_spec_promises() -> Result<(), Box<dyn std::error::Error>> {
        let base = tempfile::tempdir()?;
        let folder = RunFolder::create(base.path(), &["build", "web"])?;

        assert!(folder.root().starts_with(base.path().join(".pipekit/runs")));
        for dir in [
            folder.job_shared_dir("build"),
            folder.job_shared_dir("web"),
            folder.root().join("logs"),
            folder.root().join("artifacts"),
        ] {
            assert!(dir.is_dir(), "{} is missing", dir.display());
        }
        assert_eq!(
            folder.job_env_file("web"),
            folder.root().join("shared/web/.env")
        );
        assert_eq!(folder.log_path("web"), folder.root().join("logs/web.log"));
        assert_eq!(
            folder.artifact_path("build"),
            folder.root().join("artifacts/build.tar.zst")
        );
        assert_eq!(folder.junit_path(), folder.root().join("junit.xml"));
        assert_eq!(folder.run_json_path(), folder.root().join("run.json"));
        assert!(base.path().join(".pipekit/.gitignore").is_file());
        Ok(())
    }

    #[test]
    fn run_ids_are_unique_and_shaped_like_timestamps() -> Result<(), Box<dyn std::error::Error>> {
        let base = tempfile::tempdir()?;
        let mut ids = Vec::new();
        for _ in 0..50 {
            ids.push(RunFolder::create(base.path(), &[])?.id().to_owned());
        }
        for id in &ids {
            let parts: Vec<&str> = id.split('-').collect();
            let lengths: Vec<usize> = parts.iter().map(|part| part.len()).collect();
            assert_eq!(lengths, [8, 6, 3, 4], "{id}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
        Ok(())
    }

    #[test]
    fn job_names_that_would_leave_the_shared_folder_are_refused()
    -> Result<(), Box<dyn std::error::Error>> {
        let base = tempfile::tempdir()?;
        for name in ["", "..", "a/b"] {
            let error = RunFolder::create(base.path(), &["ok", name]).err();
            assert!(
                matches!(error, Some(StorageError::InvalidJobName { .. })),
                "{name:?}"
            );
        }
        assert!(!base.path().join(".pipekit").exists());
        Ok(())
    }

    #[test]
    fn started_at_is_rfc3339() -> Result<(), Box<dyn std::error::Error>> {
        let base = tempfile::tempdir()?;
        let folder = RunFolder::create(base.path(), &[])?;
        let started = folder.started_at_rfc3339();
        assert_eq!(started.len(), "2026-11-22T00:15:00.123Z".len());
        assert!(started.ends_with('Z'));
        assert!(folder.id().starts_with(&started[..4]));
        Ok(())
    }
}
