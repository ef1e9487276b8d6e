//! `Grep(stream, "regex")`: matches each line of one output stream.

use pipekit_schema::{Job, SignalId, SignalKind, Stream};
use regex::RegexSet;

/// The `Grep` signals of one job on one stream that have not fired yet.
#[derive(Debug)]
pub struct GrepMatcher {
    /// One set for all patterns, so a line is scanned once however many signals wait on it.
    set: Option<RegexSet>,
    signals: Vec<SignalId>,
    fired: Vec<bool>,
}

impl GrepMatcher {
    pub fn new(job: &Job, stream: Stream) -> Self {
        let (signals, patterns): (Vec<SignalId>, Vec<&str>) = job
            .signals
            .iter()
            .enumerate()
            .filter_map(|(index, signal)| match &signal.kind {
                SignalKind::Grep { stream: s, regex } if *s == stream => {
                    Some((SignalId(index), regex.as_str()))
                }
                _ => None,
            })
            .unzip();
        // Each pattern compiled on its own within the schema's limits; together they still fit.
        let set = (!patterns.is_empty())
            .then(|| RegexSet::new(&patterns).ok())
            .flatten();
        let fired = vec![false; signals.len()];
        Self {
            set,
            signals,
            fired,
        }
    }

    /// Whether no signal is left to match (the pump can skip matching).
    pub fn is_exhausted(&self) -> bool {
        self.set.is_none() || self.fired.iter().all(|f| *f)
    }

    /// The signals this line fires (each fires once).
    pub fn matches(&mut self, line: &str) -> Vec<SignalId> {
        let Some(set) = &self.set else {
            return Vec::new();
        };
        let mut newly = Vec::new();
        for index in set.matches(line).iter() {
            if !self.fired[index] {
                self.fired[index] = true;
                newly.push(self.signals[index]);
            }
        }
        newly
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipekit_schema::Signal;

    fn grep(name: &str, stream: Stream, pattern: &str) -> Signal {
        Signal {
            name: name.into(),
            kind: SignalKind::Grep {
                stream,
                regex: regex::Regex::new(pattern).expect("regex"),
            },
            timeout: None,
        }
    }

    #[test]
    fn fires_each_signal_once_on_its_own_stream() {
        let job = Job {
            name: "db".into(),
            signals: vec![
                grep("ready", Stream::Stdout, "is ready$"),
                grep("warn", Stream::Stderr, "WARN"),
                grep("port", Stream::Stdout, r"port \d+"),
            ],
            ..Job::default()
        };
        let mut stdout = GrepMatcher::new(&job, Stream::Stdout);
        assert!(stdout.matches("WARN nothing here").is_empty());
        assert_eq!(stdout.matches("listening on port 5432"), vec![SignalId(2)]);
        assert!(stdout.matches("port 1").is_empty(), "fires once");
        assert!(!stdout.is_exhausted());
        assert_eq!(stdout.matches("Database is ready"), vec![SignalId(0)]);
        assert!(stdout.is_exhausted());
        let mut stderr = GrepMatcher::new(&job, Stream::Stderr);
        assert_eq!(stderr.matches("WARN low disk"), vec![SignalId(1)]);
    }
}
