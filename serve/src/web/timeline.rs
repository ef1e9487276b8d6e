//! The run over time: a row per job, a pale bar while it waited, a bar in its state's colour
//! while it ran, a tick where each signal fired. Where the minutes of a run went is easier
//! seen than read off a table.

use super::run_facts::RunFacts;
use super::svg::{escaped, fitted};
use pipekit_runner::run::Timestamp;
use std::fmt::Write;

const LABEL_WIDTH: f64 = 150.0;
const CHART_WIDTH: f64 = 640.0;
const ROW_HEIGHT: f64 = 22.0;
const AXIS_HEIGHT: f64 = 20.0;

/// The SVG timeline of `facts`; `now` ends the bars of what is still going on.
pub fn timeline(facts: &RunFacts, now: Timestamp) -> String {
    let end = match facts.finished {
        true => facts.last_event.unwrap_or(now),
        false => now,
    };
    let span = facts
        .started
        .map_or(1.0, |started| end.seconds_since(started))
        .max(0.001);
    let x = |at: Timestamp| LABEL_WIDTH + facts.offset(at) / span * CHART_WIDTH;
    let height = AXIS_HEIGHT + ROW_HEIGHT * facts.jobs.len() as f64 + 4.0;
    let width = LABEL_WIDTH + CHART_WIDTH + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="timeline">"#
    );
    for tick in ticks(span) {
        let tick_x = LABEL_WIDTH + tick / span * CHART_WIDTH;
        let _ = write!(
            svg,
            r#"<line class="tick" x1="{tick_x:.1}" y1="{AXIS_HEIGHT}" x2="{tick_x:.1}" y2="{height}"/><text class="axis" x="{tick_x:.1}" y="14">{}</text>"#,
            seconds_label(tick)
        );
    }
    for (row, job) in facts.jobs.iter().enumerate() {
        let y = AXIS_HEIGHT + ROW_HEIGHT * row as f64;
        let _ = write!(
            svg,
            r#"<text class="label" x="0" y="{:.1}">{}</text>"#,
            y + 15.0,
            escaped(&fitted(&job.name, 20))
        );
        let waited_from = job.waiting_since.or(facts.started);
        let waited_to = job.started.or(job.finished).unwrap_or(end);
        if let Some(from) = waited_from
            && waited_to > from
        {
            let _ = write!(
                svg,
                r#"<rect class="waiting" x="{:.1}" y="{:.1}" width="{:.1}" height="14"><title>{} waited {:.2} s{}</title></rect>"#,
                x(from),
                y + 4.0,
                (x(waited_to) - x(from)).max(1.0),
                escaped(&job.name),
                waited_to.seconds_since(from),
                match job.waits_on.is_empty() {
                    true => String::new(),
                    false => escaped(&format!(" on {}", job.waits_on.join(", "))),
                }
            );
        }
        if let Some(started) = job.started {
            let ran_to = job.finished.unwrap_or(end);
            let _ = write!(
                svg,
                r#"<rect class="ran job-{}" x="{:.1}" y="{:.1}" width="{:.1}" height="14"><title>{} {} after {:.2} s</title></rect>"#,
                job.state,
                x(started),
                y + 4.0,
                (x(ran_to) - x(started)).max(1.5),
                escaped(&job.name),
                job.state,
                ran_to.seconds_since(started),
            );
        }
        for (signal, at) in &job.signals {
            let _ = write!(
                svg,
                r#"<path class="signal" d="M{:.1},{:.1} l4,-6 l-8,0 z"><title>{}.{} fired at {:.2} s</title></path>"#,
                x(*at),
                y + 8.0,
                escaped(&job.name),
                escaped(signal),
                facts.offset(*at)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Round marks along `span` seconds, about five of them.
fn ticks(span: f64) -> Vec<f64> {
    let raw = span / 5.0;
    let step = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|step| *step >= raw)
    .unwrap_or(7200.0);
    (0..)
        .map(|n| f64::from(n) * step)
        .take_while(|tick| *tick <= span)
        .collect()
}

fn seconds_label(seconds: f64) -> String {
    match seconds {
        s if s >= 60.0 => format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
        s if s.fract() == 0.0 => format!("{s}s"),
        s => format!("{s:.1}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_within_the_span() {
        let rounded: Vec<f64> = ticks(1.0)
            .iter()
            .map(|tick| (tick * 10.0).round() / 10.0)
            .collect();
        assert_eq!(rounded, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(ticks(300.0), [0.0, 60.0, 120.0, 180.0, 240.0, 300.0]);
        assert_eq!(seconds_label(90.0), "1m30s");
        assert_eq!(seconds_label(0.5), "0.5s");
    }
}
