//! A run's files over HTTP: a job's log (all of it, its tail, or a window of it), the JUnit
//! report, a job's artifacts. Logs and archives can be gigabytes, so they are streamed from
//! the file, never read whole into memory.

use super::api_error::ApiError;
use super::run_folder::FoundRun;
use crate::queue_runner::QueueRunner;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes per piece of a streamed file.
const PIECE: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogQuery {
    /// Only the last this many lines (of what `before` leaves).
    tail: Option<u64>,
    /// From this byte on.
    offset: Option<u64>,
    /// Only what comes before this byte: with `tail`, the lines before a window already
    /// shown ("load earlier").
    before: Option<u64>,
}

/// `GET /api/v1/runs/{id}/jobs/{job}/log`: `text/plain`. Where the part sent lies is in
/// `X-Pipekit-Log-Start` / `-End` (bytes) and `X-Pipekit-Log-First-Line` (its first line's
/// number), so a page can ask for what comes before or after it.
pub(super) async fn log(
    State(runner): State<Arc<QueueRunner>>,
    Path((id, job)): Path<(String, String)>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let found = FoundRun::find(&runner, &id)?;
    let job = found.job(&job).await?;
    let path = found
        .started_folder()?
        .join("logs")
        .join(format!("{job}.log"));
    let window = tokio::task::spawn_blocking(move || LogWindow::find(&path, &query))
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))??;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    for (name, value) in [
        ("x-pipekit-log-start", window.start),
        ("x-pipekit-log-end", window.end),
        ("x-pipekit-log-first-line", window.first_line),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    let body = match window.path {
        Some(path) => streamed(path, window.start, window.end).await?,
        None => Body::empty(),
    };
    Ok((headers, body).into_response())
}

/// `GET /api/v1/runs/{id}/junit.xml`: the run's report, once it has one.
pub(super) async fn junit(
    State(runner): State<Arc<QueueRunner>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = FoundRun::find(&runner, &id)?;
    let path = found.started_folder()?.join("junit.xml");
    let length = file_length(&path)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("run {} has no report yet", found.row.id)))?;
    let body = streamed(path, 0, length).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response())
}

/// `GET /api/v1/runs/{id}/artifacts/{job}`: the job's `.tar.zst`, as a download.
pub(super) async fn artifact(
    State(runner): State<Arc<QueueRunner>>,
    Path((id, job)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let found = FoundRun::find(&runner, &id)?;
    let job = found.job(&job).await?;
    let path = found
        .started_folder()?
        .join("artifacts")
        .join(format!("{job}.tar.zst"));
    let length = file_length(&path).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "job `{job}` of run {} has no artifacts",
            found.row.id
        ))
    })?;
    let body = streamed(path, 0, length).await?;
    let disposition = format!(
        "attachment; filename=\"run-{}-{job}.tar.zst\"",
        found.row.id
    );
    let disposition = HeaderValue::from_str(&disposition)
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zstd"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The part of a log a request asks for.
#[derive(Debug, PartialEq, Eq)]
struct LogWindow {
    /// `None`: the job has written nothing yet (its log does not exist).
    path: Option<PathBuf>,
    start: u64,
    end: u64,
    first_line: u64,
}

impl LogWindow {
    fn find(path: &std::path::Path, query: &LogQuery) -> Result<LogWindow, ApiError> {
        let internal = |error: std::io::Error| {
            ApiError::Internal(format!("cannot read `{}`: {error}", path.display()))
        };
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LogWindow {
                    path: None,
                    start: 0,
                    end: 0,
                    first_line: 1,
                });
            }
            Err(error) => return Err(internal(error)),
        };
        let length = file.metadata().map_err(internal)?.len();
        let end = query.before.unwrap_or(length);
        let mut start = query.offset.unwrap_or(0);
        if end > length || start > end {
            return Err(ApiError::BadRequest(format!(
                "the log has {length} bytes: offset {start} and before {end} do not fit it"
            )));
        }
        if let Some(lines) = query.tail {
            start = start.max(tail_start(&mut file, end, lines).map_err(internal)?);
        }
        let first_line = 1 + newlines_before(&mut file, start).map_err(internal)?;
        Ok(LogWindow {
            path: Some(path.to_owned()),
            start,
            end,
            first_line,
        })
    }
}

/// Where the last `lines` lines before byte `end` begin (a last line without its newline
/// counts as one).
fn tail_start(file: &mut File, end: u64, lines: u64) -> std::io::Result<u64> {
    if lines == 0 {
        return Ok(end);
    }
    let mut block = vec![0u8; PIECE];
    let mut position = end;
    // The newline that ends the last line is not a boundary between two lines.
    let mut skip_last = true;
    let mut boundaries = 0;
    while position > 0 {
        let size = PIECE.min(usize::try_from(position).unwrap_or(PIECE));
        position -= size as u64;
        file.seek(SeekFrom::Start(position))?;
        file.read_exact(&mut block[..size])?;
        for (index, byte) in block[..size].iter().enumerate().rev() {
            if std::mem::take(&mut skip_last) && *byte == b'\n' {
                continue;
            }
            if *byte == b'\n' {
                boundaries += 1;
                if boundaries == lines {
                    return Ok(position + index as u64 + 1);
                }
            }
        }
    }
    Ok(0)
}

/// How many lines end before byte `offset`, for the line numbers of a window.
fn newlines_before(file: &mut File, offset: u64) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut block = vec![0u8; 1024 * 1024];
    let mut left = offset;
    let mut count = 0;
    while left > 0 {
        let size = block
            .len()
            .min(usize::try_from(left).unwrap_or(block.len()));
        file.read_exact(&mut block[..size])?;
        count += block[..size].iter().filter(|byte| **byte == b'\n').count() as u64;
        left -= size as u64;
    }
    Ok(count)
}

async fn file_length(path: &std::path::Path) -> Result<Option<u64>, ApiError> {
    match tokio::fs::metadata(path).await {
        Ok(metadata) => Ok(Some(metadata.len())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ApiError::Internal(format!(
            "cannot read `{}`: {error}",
            path.display()
        ))),
    }
}

/// The bytes `start..end` of `path`, read a piece at a time as the client takes them.
async fn streamed(path: PathBuf, start: u64, end: u64) -> Result<Body, ApiError> {
    let mut file = tokio::fs::File::open(&path).await.map_err(|error| {
        ApiError::Internal(format!("cannot read `{}`: {error}", path.display()))
    })?;
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let pieces = futures_util::stream::unfold((file, end - start), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let size = PIECE.min(usize::try_from(left).unwrap_or(PIECE));
        let mut piece = vec![0u8; size];
        match file.read(&mut piece).await {
            // The file got shorter than it was (it never does; a log only grows).
            Ok(0) => None,
            Ok(read) => {
                piece.truncate(read);
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(piece)),
                    (file, left - read as u64),
                ))
            }
            Err(error) => Some((Err(error), (file, 0))),
        }
    });
    Ok(Body::from_stream(pieces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn log_of(text: &str) -> (tempfile::TempDir, PathBuf) {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("job.log");
        File::create(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .expect("log written");
        (folder, path)
    }

    fn window(
        path: &std::path::Path,
        tail: Option<u64>,
        offset: Option<u64>,
        before: Option<u64>,
    ) -> (u64, u64, u64) {
        let query = LogQuery {
            tail,
            offset,
            before,
        };
        let window = LogWindow::find(path, &query).expect("a window");
        (window.start, window.end, window.first_line)
    }

    #[test]
    fn the_tail_of_a_log_is_its_last_lines_with_their_numbers() {
        let (_folder, path) = log_of("one\ntwo\nthree\n");
        assert_eq!(window(&path, None, None, None), (0, 14, 1));
        assert_eq!(window(&path, Some(1), None, None), (8, 14, 3));
        assert_eq!(window(&path, Some(2), None, None), (4, 14, 2));
        assert_eq!(window(&path, Some(9), None, None), (0, 14, 1));
        assert_eq!(window(&path, Some(0), None, None), (14, 14, 4));
        assert_eq!(
            window(&path, Some(1), None, Some(8)),
            (4, 8, 2),
            "load earlier"
        );
        assert_eq!(window(&path, None, Some(4), None), (4, 14, 2));
        let (_partial, partial) = log_of("one\ntwo");
        assert_eq!(window(&partial, Some(1), None, None), (4, 7, 2));
    }

    #[test]
    fn a_tail_is_found_across_many_blocks() {
        let text: String = (1..=100_000).map(|n| format!("line {n}\n")).collect();
        let (_folder, path) = log_of(&text);
        let (start, end, first) = window(&path, Some(5000), None, None);
        assert_eq!(first, 95_001);
        assert!(text[start as usize..end as usize].starts_with("line 95001\n"));
    }

    #[test]
    fn a_window_outside_the_log_is_a_bad_request() {
        let (_folder, path) = log_of("one\n");
        for (offset, before) in [(Some(5), None), (None, Some(9)), (Some(3), Some(2))] {
            let query = LogQuery {
                tail: None,
                offset,
                before,
            };
            assert!(matches!(
                LogWindow::find(&path, &query),
                Err(ApiError::BadRequest(_))
            ));
        }
    }
}
