//! `GET /api/v1/runs/{id}/events`: the run as server-sent events (spec 8): its events of
//! spec 7 as `data:` JSON, and its jobs' lines as `event: line` (several in one event as a
//! JSON array). Every message's `id:` is a [`Cursor`], so `Last-Event-ID` resumes right
//! after it with nothing lost or repeated; the stream ends after `run_finished`.
//!
//! The follower is woken by the run's reporter ([`LiveRuns`](crate::live_runs::LiveRuns))
//! and reads the run folder; it subscribes before its first read, so nothing written in
//! between is missed.

use super::api_error::ApiError;
use super::run_folder::FoundRun;
use crate::queue_runner::QueueRunner;
use crate::run_tail::{Cursor, Lines, PlaceError, RunTail, TailError, TailItem, TailMessage};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How long a follower sleeps when nothing wakes it: the store is asked again then (a run
/// of a server that died ends without `run_finished`).
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// A wake-up can come just before the job's pump flushed its line into the log: one more
/// look this much later finds it.
const LATE_FLUSH: Duration = Duration::from_millis(5);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsQuery {
    /// Only this job's lines (the run's events all the same).
    job: Option<String>,
    /// `false`: no lines at all, only the run's events.
    lines: Option<bool>,
    /// Where to resume, for clients that cannot send `Last-Event-ID`.
    last_event_id: Option<String>,
}

pub(super) async fn events(
    State(runner): State<Arc<QueueRunner>>,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = FoundRun::find(&runner, &id)?;
    let resume = headers
        .get("last-event-id")
        .map(|value| {
            value
                .to_str()
                .map(str::to_owned)
                .map_err(|_| ApiError::BadRequest("Last-Event-ID is not text".to_owned()))
        })
        .transpose()?
        .or(query.last_event_id);
    let cursor = match resume {
        Some(text) => {
            Cursor::parse(&text).map_err(|error| ApiError::BadRequest(error.to_string()))?
        }
        None => Cursor::default(),
    };
    if let Some(job) = &query.job
        && found.folder.is_some()
    {
        found.job(job).await?;
    }
    let lines = match (query.lines, query.job) {
        (Some(false), _) => Lines::None,
        (_, Some(job)) => Lines::Job(job),
        (_, None) => Lines::All,
    };
    let changes = runner.live().follow(found.row.id);
    // The first read here, so that a cursor that does not fit the run is a 400, not a
    // stream that ends at once.
    let mut first = Vec::new();
    let tail = match &found.folder {
        Some(folder) => {
            let tail = RunTail::new(folder, cursor.clone(), lines.clone());
            let run_over = found.row.state.is_finished();
            let (tail, read) = read_blocking(tail, run_over).await?;
            first = read.map_err(|error| match error {
                TailError::Place(PlaceError::Read { .. }) => ApiError::Internal(error.to_string()),
                other => ApiError::BadRequest(other.to_string()),
            })?;
            Some(tail)
        }
        None => None,
    };
    let (sender, receiver) = mpsc::channel(16);
    let follower = Follower {
        runner,
        found,
        cursor,
        lines,
        tail,
    };
    tokio::spawn(follower.follow(first, changes, sender));
    let mut response = Sse::new(messages(receiver))
        .keep_alive(KeepAlive::default())
        .into_response();
    // Proxies (nginx) would otherwise hold the stream back in their buffers.
    response.headers_mut().insert(
        "x-accel-buffering",
        "no".parse()
            .map_err(|_| ApiError::Internal("header".to_owned()))?,
    );
    Ok(response)
}

fn messages(receiver: mpsc::Receiver<Event>) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    })
}

/// One client's follow of one run.
struct Follower {
    runner: Arc<QueueRunner>,
    found: FoundRun,
    /// Where the client came in, for a tail made once the run has a folder.
    cursor: Cursor,
    lines: Lines,
    tail: Option<RunTail>,
}

impl Follower {
    /// Sends `first`, then the run's messages until `run_finished` (or the run's end
    /// without one), or until the client goes away.
    async fn follow(
        mut self,
        first: Vec<TailMessage>,
        mut changes: watch::Receiver<u64>,
        sender: mpsc::Sender<Event>,
    ) {
        let mut run_over = self.found.row.state.is_finished();
        let mut look_again_soon = false;
        let mut messages = first;
        loop {
            let nothing_new = messages.is_empty();
            for message in messages.drain(..) {
                if sender.send(sse_event(message)).await.is_err() {
                    return;
                }
            }
            let finished = self.tail.as_ref().is_some_and(RunTail::finished);
            if nothing_new && (finished || run_over) {
                return;
            }
            if nothing_new {
                let wait = match std::mem::take(&mut look_again_soon) {
                    true => LATE_FLUSH,
                    false => IDLE_CHECK,
                };
                tokio::select! {
                    changed = changes.changed() => {
                        look_again_soon = true;
                        if changed.is_err() {
                            // The run is no longer live; only the store can tell more.
                            changes = self.runner.live().follow(self.found.row.id);
                            look_again_soon = false;
                        }
                    }
                    () = tokio::time::sleep(wait) => {}
                    () = sender.closed() => return,
                }
                if self.tail.is_none() || !look_again_soon {
                    match FoundRun::find(&self.runner, &self.found.row.id.to_string()) {
                        Ok(now) => {
                            run_over = now.row.state.is_finished();
                            self.found = now;
                        }
                        Err(_) => return,
                    }
                }
            }
            if self.tail.is_none() {
                match &self.found.folder {
                    Some(folder) => {
                        self.tail = Some(RunTail::new(
                            folder,
                            self.cursor.clone(),
                            self.lines.clone(),
                        ));
                    }
                    // Ended without ever starting (cancelled in the queue, invalid).
                    None if run_over => return,
                    None => continue,
                }
            }
            let Some(tail) = self.tail.take() else {
                continue;
            };
            let read = match read_blocking(tail, run_over).await {
                Ok((tail, read)) => {
                    self.tail = Some(tail);
                    read
                }
                Err(_) => return,
            };
            messages = match read {
                Ok(messages) => messages,
                Err(error) => {
                    let _ = sender.send(problem_event(&error)).await;
                    return;
                }
            };
        }
    }
}

/// Reads off the runtime's threads: a read may take a quarter MiB from each log.
async fn read_blocking(
    mut tail: RunTail,
    run_over: bool,
) -> Result<(RunTail, Result<Vec<TailMessage>, TailError>), ApiError> {
    tokio::task::spawn_blocking(move || {
        let read = tail.read(run_over);
        (tail, read)
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))
}

fn sse_event(message: TailMessage) -> Event {
    let id = message.cursor.to_string();
    match message.item {
        TailItem::Event(text) => Event::default().id(id).data(text),
        TailItem::Lines { job, first, texts } => {
            let mut lines: Vec<_> = texts
                .into_iter()
                .zip(first..)
                .map(|(text, n)| json!({"job": job, "stream": "output", "n": n, "text": text}))
                .collect();
            let data = match lines.len() {
                1 => lines.remove(0),
                _ => serde_json::Value::Array(lines),
            };
            Event::default().id(id).event("line").data(data.to_string())
        }
    }
}

/// The stream cannot go on (a cursor that does not fit the run, an unreadable file).
fn problem_event(error: &TailError) -> Event {
    Event::default()
        .event("error")
        .data(json!({ "error": error.to_string() }).to_string())
}
