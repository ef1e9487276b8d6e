//! Reads one output stream of a job line by line: into the log file, through the `Grep`
//! matchers, and out to the reporters. Memory stays bounded whatever the job prints.

use super::driver::Message;
use super::log_writer::LogWriter;
use crate::scheduler::SchedulerEvent;
use crate::signals::GrepMatcher;
use pipekit_schema::{JobId, Stream};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// Longer lines are cut into pieces of this size, so a 100 MB line without a newline costs
/// no more memory than a short one, and the lines after it are still matched.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Where one stream's lines go.
pub struct OutputPump {
    pub job: JobId,
    pub stream: Stream,
    pub log: LogWriter,
    pub matcher: GrepMatcher,
    pub messages: mpsc::Sender<Message>,
}

impl OutputPump {
    /// Runs until the stream ends (the job and everything holding its pipe exited).
    pub async fn run(mut self, mut reader: impl AsyncRead + Unpin) {
        let mut chunk = vec![0u8; MAX_LINE_BYTES];
        let mut partial: Vec<u8> = Vec::with_capacity(1024);
        loop {
            let read = match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            let mut rest = &chunk[..read];
            while let Some(newline) = rest.iter().position(|byte| *byte == b'\n') {
                partial.extend_from_slice(&rest[..newline]);
                self.emit(&partial).await;
                partial.clear();
                rest = &rest[newline + 1..];
            }
            partial.extend_from_slice(rest);
            while partial.len() >= MAX_LINE_BYTES {
                let tail = partial.split_off(MAX_LINE_BYTES);
                self.emit(&partial).await;
                partial = tail;
            }
            self.log.flush();
        }
        if !partial.is_empty() {
            self.emit(&partial).await;
        }
        self.log.flush();
    }

    async fn emit(&mut self, raw: &[u8]) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // Neither a full disk nor the log limit stops the job or its signals.
        let echo = self.log.write_line(raw);
        let line = String::from_utf8_lossy(raw).into_owned();
        let fired = match self.matcher.is_exhausted() {
            true => Vec::new(),
            false => self.matcher.matches(&line),
        };
        // The line first, so that reporters show what made the signal fire before it fires.
        for line in [echo.line.then_some(line), echo.note].into_iter().flatten() {
            let output = Message::Output {
                job: self.job,
                stream: self.stream,
                line,
            };
            let _ = self.messages.send(output).await;
        }
        for signal in fired {
            let event = SchedulerEvent::SignalFired(self.job, signal);
            let _ = self.messages.send(Message::Scheduler(event)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::RunFolder;
    use pipekit_schema::Job;

    async fn pump_bytes(input: Vec<u8>) -> (Vec<String>, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = std::sync::Arc::new(RunFolder::create(dir.path(), &["job"]).expect("folder"));
        let log_path = folder.log_path("job");
        let log = LogWriter::new(log_path.clone(), None, folder);
        let (sender, mut receiver) = mpsc::channel(16);
        let pump = OutputPump {
            job: JobId(0),
            stream: Stream::Stdout,
            log,
            matcher: GrepMatcher::new(&Job::default(), Stream::Stdout),
            messages: sender,
        };
        let task = tokio::spawn(pump.run(std::io::Cursor::new(input)));
        let mut lines = Vec::new();
        while let Some(message) = receiver.recv().await {
            if let Message::Output { line, .. } = message {
                lines.push(line);
            }
        }
        task.await.expect("pump");
        (lines, std::fs::read_to_string(log_path).expect("read log"))
    }

    #[tokio::test]
    async fn splits_lines_and_keeps_the_last_unterminated_one() {
        let (lines, log) = pump_bytes(b"one\r\ntwo\n\nthree".to_vec()).await;
        assert_eq!(lines, ["one", "two", "", "three"]);
        assert_eq!(log, "one\ntwo\n\nthree\n");
    }

    #[tokio::test]
    async fn cuts_an_endless_line_into_bounded_pieces() {
        let mut input = vec![b'x'; MAX_LINE_BYTES * 3 + 10];
        input.extend_from_slice(b"\nafter\n");
        let (lines, _) = pump_bytes(input).await;
        assert_eq!(lines.len(), 5);
        assert!(lines[..3].iter().all(|line| line.len() == MAX_LINE_BYTES));
        assert_eq!(lines[3].len(), 10);
        assert_eq!(lines[4], "after");
    }
}
