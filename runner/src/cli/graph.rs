//! `pipekit-ci graph`: the job graph as text, Graphviz dot or Mermaid.

use super::args::{GraphArgs, GraphFormat};
use super::error::CliError;
use super::load::load;
use pipekit_schema::{Awaited, Pipeline};

pub fn print(args: &GraphArgs) -> Result<u8, CliError> {
    let loaded = load(&args.project)?;
    let pipeline = &loaded.parsed.pipeline;
    let text = match args.format {
        GraphFormat::Text => text(pipeline),
        GraphFormat::Dot => dot(pipeline),
        GraphFormat::Mermaid => mermaid(pipeline),
    };
    out_print!("{text}");
    Ok(0)
}

/// What an edge waits for, without the job name: `ExitCode(0)`, `ready`.
fn edge_label(pipeline: &Pipeline, condition: pipekit_schema::Condition) -> String {
    match condition.awaited {
        Awaited::Signal(signal) => pipeline.job(condition.job).signal(signal).name.clone(),
        _ => {
            let described = pipeline.describe(condition);
            let name_len = pipeline.job(condition.job).name.len() + 1;
            described[name_len..].to_string()
        }
    }
}

fn text(pipeline: &Pipeline) -> String {
    let mut out = String::new();
    for job in &pipeline.jobs {
        out.push_str(&job.name);
        if job.detach {
            out.push_str(" (detached)");
        }
        if !job.depends_on.is_empty() {
            let conditions: Vec<String> = job
                .depends_on
                .iter()
                .map(|c| pipeline.describe(*c))
                .collect();
            out.push_str(&format!(" <- {}", conditions.join(", ")));
        }
        out.push('\n');
    }
    out
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn dot(pipeline: &Pipeline) -> String {
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n", quoted(&pipeline.name));
    for job in &pipeline.jobs {
        let shape = if job.detach {
            "box, style=dashed"
        } else {
            "box"
        };
        out.push_str(&format!("  {} [shape={shape}];\n", quoted(&job.name)));
    }
    for job in &pipeline.jobs {
        for condition in &job.depends_on {
            let from = &pipeline.job(condition.job).name;
            let label = edge_label(pipeline, *condition);
            out.push_str(&format!(
                "  {} -> {} [label={}];\n",
                quoted(from),
                quoted(&job.name),
                quoted(&label)
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(pipeline: &Pipeline) -> String {
    // Mermaid ids cannot hold `-`; the label keeps the real name.
    let id = |index: usize| format!("j{index}");
    let mut out = String::from("graph LR\n");
    for (index, job) in pipeline.jobs.iter().enumerate() {
        out.push_str(&format!(
            "  {}[\"{}\"]\n",
            id(index),
            job.name.replace('"', "#quot;")
        ));
    }
    for (index, job) in pipeline.jobs.iter().enumerate() {
        for condition in &job.depends_on {
            let label = edge_label(pipeline, *condition).replace('"', "#quot;");
            out.push_str(&format!(
                "  {} -->|\"{label}\"| {}\n",
                id(condition.job.0),
                id(index)
            ));
        }
    }
    out
}
