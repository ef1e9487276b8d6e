//! A container's attached output arrives as one stream of frames tagged stdout or stderr;
//! the driver reads two byte streams, as from a host process. Lines are rebuilt (and
//! bounded) by the driver's output pumps, per stream.

use bollard::container::LogOutput;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWriteExt, DuplexStream};

/// Per stream; a pump that falls behind holds the container's output back, not memory.
const BUFFER: usize = 64 * 1024;

/// Splits `frames` into a stdout and a stderr reader; both end when the frames do.
pub fn split_output<S>(frames: S) -> (DuplexStream, DuplexStream)
where
    S: Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send + Unpin + 'static,
{
    let (stdout_reader, mut stdout) = tokio::io::duplex(BUFFER);
    let (stderr_reader, mut stderr) = tokio::io::duplex(BUFFER);
    tokio::spawn(async move {
        let mut frames = frames;
        while let Some(Ok(frame)) = frames.next().await {
            let written = match frame {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    stdout.write_all(&message).await
                }
                LogOutput::StdErr { message } => stderr.write_all(&message).await,
                LogOutput::StdIn { .. } => Ok(()),
            };
            if written.is_err() {
                break;
            }
        }
    });
    (stdout_reader, stderr_reader)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn frames_go_to_their_stream_in_order() {
        let frames = futures_util::stream::iter(vec![
            Ok(LogOutput::StdOut {
                message: "par".into(),
            }),
            Ok(LogOutput::StdErr {
                message: "oops\n".into(),
            }),
            Ok(LogOutput::StdOut {
                message: "tial\nnext\n".into(),
            }),
        ]);
        let (mut out, mut err) = split_output(frames);
        let mut text = String::new();
        out.read_to_string(&mut text).await.expect("stdout");
        assert_eq!(text, "partial\nnext\n");
        text.clear();
        err.read_to_string(&mut text).await.expect("stderr");
        assert_eq!(text, "oops\n");
    }
}
