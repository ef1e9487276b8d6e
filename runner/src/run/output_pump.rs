//! Reads one output stream of a job line by line: into the log file, through the `Grep`
//! matchers, and out to the reporters. Memory stays bounded whatever the job prints.

use super::driver::Message;
use super::log_writer::LogWriter;
use crate::scheduler::SchedulerEvent;
use crate::secrets::Masker;
use crate::signals::GrepMatcher;
use pipekit_schema::{JobId, Stream};
use std::sync::Arc;
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
    /// Every secret of the run becomes `***` before a line goes anywhere.
    pub masker: Arc<Masker>,
}

impl OutputPump {
    /// Runs until the stream ends (the job and everything holding its pipe exited).
    pub async fn run(mut self, mut reader: impl AsyncRead + Unpin) {
        // Not zeroed: `read_buf` fills spare capacity, and most jobs print a few lines, so
        // zeroing 64 KiB per stream was the larger part of a short job's output cost.
        let mut chunk: Vec<u8> = Vec::with_capacity(MAX_LINE_BYTES);
        let mut partial: Vec<u8> = Vec::with_capacity(1024);
        // A long line is cut only once the bytes after the cut show whether a secret
        // crosses it (0 without secrets: cut at once, as always).
        let lookahead = self.masker.lookahead();
        loop {
            chunk.clear();
            match reader.read_buf(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let mut rest = &chunk[..];
            while let Some(newline) = rest.iter().position(|byte| *byte == b'\n') {
                partial.extend_from_slice(&rest[..newline]);
                self.emit(&partial).await;
                partial.clear();
                rest = &rest[newline + 1..];
            }
            partial.extend_from_slice(rest);
            while partial.len() >= MAX_LINE_BYTES + lookahead {
                let cut = self.masker.safe_cut(&partial, MAX_LINE_BYTES);
                let tail = partial.split_off(cut);
                self.emit(&partial).await;
                partial = tail;
            }
            self.log.flush();
        }
        if !partial.is_empty() {
            self.emit(&partial).await;
        }
        self.log.finish();
    }

    async fn emit(&mut self, raw: &[u8]) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = self.masker.mask_bytes(raw);
        let raw = raw.as_ref();
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
        pump_chunks(vec![input], Masker::default()).await
    }

    /// Hands the pump each chunk in its own read, as a job's separate writes arrive.
    struct Chunks(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if let Some(mut chunk) = self.0.pop_front() {
                let room = buf.remaining().min(chunk.len());
                buf.put_slice(&chunk[..room]);
                if room < chunk.len() {
                    self.0.push_front(chunk.split_off(room));
                }
            }
            std::task::Poll::Ready(Ok(()))
        }
    }

    async fn pump_chunks(chunks: Vec<Vec<u8>>, masker: Masker) -> (Vec<String>, String) {
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
            masker: Arc::new(masker),
        };
        let task = tokio::spawn(pump.run(Chunks(chunks.into())));
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

    fn secret_masker() -> Masker {
        Masker::new(["abcdef-secret"]).expect("masker")
    }

    #[tokio::test]
    async fn a_secret_split_across_two_writes_is_masked() {
        let chunks = vec![
            b"token abcdef".to_vec(),
            b"-secret end\nabc".to_vec(),
            b"def-secret".to_vec(),
        ];
        let (lines, log) = pump_chunks(chunks, secret_masker()).await;
        assert_eq!(lines, ["token *** end", "***"]);
        assert_eq!(log, "token *** end\n***\n");
    }

    #[tokio::test]
    async fn a_secret_across_the_cut_of_a_long_line_is_masked() {
        // The secret starts 4 bytes before the cut; its end arrives in a later write.
        let mut first = vec![b'x'; MAX_LINE_BYTES - 4];
        first.extend_from_slice(b"abcd");
        let mut third = b"ret".to_vec();
        third.extend_from_slice(&[b'y'; 100]);
        let chunks = vec![first, b"ef-sec".to_vec(), third, b"\n".to_vec()];
        let (lines, log) = pump_chunks(chunks, secret_masker()).await;
        assert!(
            !log.contains("abcd") && !log.contains("ret"),
            "the secret leaked"
        );
        assert_eq!(
            lines.len(),
            2,
            "{:?}",
            lines.iter().map(String::len).collect::<Vec<_>>()
        );
        assert!(lines[0].ends_with("x***"));
        assert_eq!(lines[1], "y".repeat(100));
    }

    #[tokio::test]
    async fn a_prefix_at_the_end_of_a_chunk_that_never_completes_is_kept() {
        let mut first = vec![b'x'; MAX_LINE_BYTES - 4];
        first.extend_from_slice(b"abcd");
        let chunks = vec![first, b"XYZ\n".to_vec()];
        let (lines, _) = pump_chunks(chunks, secret_masker()).await;
        let joined: String = lines.concat();
        assert!(joined.ends_with("abcdXYZ"), "bytes were lost");
        assert_eq!(joined.len(), MAX_LINE_BYTES + 3);
    }
}
