//! A run as a line of a page: the stored run with what people read off it.

use crate::api::RunView;
use crate::store::RunRow;

#[derive(Debug, Clone)]
pub struct RunLine {
    pub id: i64,
    pub number: i64,
    pub repository: String,
    pub pipeline: String,
    pub branch: String,
    pub short_sha: String,
    /// The commit message's first line.
    pub title: String,
    pub author: String,
    pub trigger: &'static str,
    pub status: &'static str,
    pub queued_at: String,
    pub duration: String,
    pub attempt_of: Option<i64>,
    pub attempt_of_id: i64,
    /// What a re-run of only some jobs ran again (empty: every job).
    pub rerun_of: String,
}

impl From<RunRow> for RunLine {
    fn from(row: RunRow) -> Self {
        let view = RunView::from(row);
        let rerun_of = match &view.rerun {
            Some(rerun) if rerun.failed => "its failed jobs, the others reused".to_owned(),
            Some(rerun) => format!(
                "{}, the others reused",
                rerun.jobs.as_deref().unwrap_or_default().join(", ")
            ),
            None => String::new(),
        };
        RunLine {
            rerun_of,
            id: view.id,
            number: view.number,
            repository: view.repository,
            pipeline: view.pipeline,
            branch: view.branch.unwrap_or_else(|| "—".to_owned()),
            short_sha: view.commit.chars().take(10).collect(),
            title: view.message.lines().next().unwrap_or("").to_owned(),
            author: view.author,
            trigger: view.trigger,
            status: view.status,
            queued_at: view.queued_at,
            duration: view.duration_seconds.map_or_else(String::new, duration),
            attempt_of: view.attempt_of,
            attempt_of_id: view.attempt_of.unwrap_or(0),
        }
    }
}

/// `4.2 s`, `3 min 05 s`, `1 h 02 min`.
pub fn duration(seconds: f64) -> String {
    let whole = seconds as u64;
    match whole {
        0..60 => format!("{seconds:.1} s"),
        60..3600 => format!("{} min {:02} s", whole / 60, whole % 60),
        _ => format!("{} h {:02} min", whole / 3600, whole % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(super::duration(4.25), "4.2 s");
        assert_eq!(super::duration(185.0), "3 min 05 s");
        assert_eq!(super::duration(3720.0), "1 h 02 min");
    }
}
