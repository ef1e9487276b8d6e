//! The run's jobs as a picture: a layered graph, each job in the column after the last job
//! it depends on, coloured by its state, an arrow from each dependency, each box a link to
//! the job's log.

use super::run_facts::RunFacts;
use super::svg::{escaped, fitted};
use std::collections::HashMap;
use std::fmt::Write;

const BOX_WIDTH: u32 = 150;
const BOX_HEIGHT: u32 = 30;
const COLUMN_GAP: u32 = 50;
const ROW_GAP: u32 = 12;
const MARGIN: u32 = 8;

/// The SVG of `facts`' jobs; `link` gives each job's page.
pub fn job_graph(facts: &RunFacts, link: impl Fn(&str) -> String) -> String {
    let columns = columns(facts);
    let mut rows_in_column: HashMap<usize, u32> = HashMap::new();
    let mut places: HashMap<&str, (u32, u32)> = HashMap::new();
    for (job, column) in facts.jobs.iter().zip(&columns) {
        let row = rows_in_column.entry(*column).or_default();
        let x = MARGIN + *column as u32 * (BOX_WIDTH + COLUMN_GAP);
        let y = MARGIN + *row * (BOX_HEIGHT + ROW_GAP);
        *row += 1;
        places.insert(job.name.as_str(), (x, y));
    }
    let width = MARGIN * 2
        + (columns.iter().max().map_or(0, |most| *most as u32 + 1)) * (BOX_WIDTH + COLUMN_GAP);
    let height =
        MARGIN * 2 + rows_in_column.values().max().copied().unwrap_or(0) * (BOX_HEIGHT + ROW_GAP);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="job-graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="job graph">"#
    );
    for job in &facts.jobs {
        let Some(&(x, y)) = places.get(job.name.as_str()) else {
            continue;
        };
        for dependency in &job.depends_on {
            if let Some(&(from_x, from_y)) = places.get(dependency.as_str()) {
                let (x1, y1) = (from_x + BOX_WIDTH, from_y + BOX_HEIGHT / 2);
                let (x2, y2) = (x, y + BOX_HEIGHT / 2);
                let bend = (x2.saturating_sub(x1)) / 2;
                let _ = write!(
                    svg,
                    r#"<path class="edge" d="M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}"/>"#,
                    x1 + bend,
                    x2.saturating_sub(bend)
                );
            }
        }
    }
    for job in &facts.jobs {
        let Some(&(x, y)) = places.get(job.name.as_str()) else {
            continue;
        };
        let mut title = format!("{}: {}", job.name, job.state);
        if !job.waits_on.is_empty() {
            let _ = write!(title, ", waiting on {}", job.waits_on.join(", "));
        }
        if let Some(reason) = &job.reason {
            let _ = write!(title, " ({reason})");
        }
        let _ = write!(
            svg,
            r#"<a href="{href}" class="job job-{state}" data-job="{name}"><title>{title}</title><rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="4"/><text x="{tx}" y="{ty}">{label}</text></a>"#,
            href = escaped(&link(&job.name)),
            state = job.state,
            name = escaped(&job.name),
            title = escaped(&title),
            tx = x + 8,
            ty = y + BOX_HEIGHT / 2 + 4,
            label = escaped(&fitted(&job.name, 20)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Each job's column: one after the furthest of its dependencies (0 for none). The
/// pipeline was validated acyclic; a cycle in a hand-edited file is cut, not followed.
fn columns(facts: &RunFacts) -> Vec<usize> {
    let index: HashMap<&str, usize> = facts
        .jobs
        .iter()
        .enumerate()
        .map(|(at, job)| (job.name.as_str(), at))
        .collect();
    let mut columns: Vec<Option<usize>> = vec![None; facts.jobs.len()];
    fn column_of(
        at: usize,
        facts: &RunFacts,
        index: &HashMap<&str, usize>,
        columns: &mut Vec<Option<usize>>,
        depth: usize,
    ) -> usize {
        if let Some(known) = columns[at] {
            return known;
        }
        if depth > facts.jobs.len() {
            return 0;
        }
        let column = facts.jobs[at]
            .depends_on
            .iter()
            .filter_map(|name| index.get(name.as_str()))
            .map(|&dependency| column_of(dependency, facts, index, columns, depth + 1) + 1)
            .max()
            .unwrap_or(0);
        columns[at] = Some(column);
        column
    }
    (0..facts.jobs.len())
        .map(|at| column_of(at, facts, &index, &mut columns, 0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::run_facts::JobFacts;

    fn job(name: &str, depends_on: &[&str]) -> JobFacts {
        JobFacts {
            name: name.to_owned(),
            depends_on: depends_on.iter().map(|name| (*name).to_owned()).collect(),
            state: "waiting",
            waiting_since: None,
            waits_on: vec!["db.ready".to_owned()],
            started: None,
            finished: None,
            exit_code: None,
            reason: None,
            signals: Vec::new(),
            artifact_bytes: None,
        }
    }

    #[test]
    fn jobs_stand_one_column_after_their_furthest_dependency() {
        let facts = RunFacts {
            jobs: vec![
                job("db", &[]),
                job("migrate", &["db"]),
                job("test", &["db", "migrate"]),
                job("<lint>", &[]),
            ],
            ..RunFacts::default()
        };
        assert_eq!(columns(&facts), [0, 1, 2, 0]);
        let svg = job_graph(&facts, |name| format!("/jobs/{name}"));
        assert_eq!(svg.matches("<path").count(), 3, "{svg}");
        assert!(
            svg.contains("&lt;lint&gt;") && !svg.contains("<lint>"),
            "{svg}"
        );
        assert!(svg.contains("waiting on db.ready"), "{svg}");
    }
}
