//! Getting a job's image: used if present, pulled otherwise, or built from its context.
//! Each image is prepared once per run, however many jobs use it.

use super::build_context::pack_context;
use super::engine::Engine;
use crate::executor::{ImageSource, ProgressSink};
use bollard::query_parameters::{BuildImageOptions, CreateImageOptions};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OnceCell};

/// Pull progress arrives per layer and per chunk; a person needs a few lines a second.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// The image to run, or why there is none; set once, awaited by every job that needs it.
type Prepared = Arc<OnceCell<Result<String, String>>>;

/// The images this run has prepared.
#[derive(Default)]
pub struct ImageCache {
    prepared: Mutex<HashMap<ImageKey, Prepared>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ImageKey(String);

impl ImageCache {
    /// The image to create the container from, once it is there.
    pub async fn prepare(
        &self,
        engine: &Engine,
        source: &ImageSource,
        progress: Option<&ProgressSink>,
    ) -> Result<String, String> {
        let key = ImageKey(format!("{source:?}"));
        let cell = self.prepared.lock().await.entry(key).or_default().clone();
        cell.get_or_init(|| async {
            match source {
                ImageSource::Named(name) => ensure_pulled(engine, name, progress).await,
                ImageSource::Build {
                    context,
                    dockerfile,
                    args,
                    tag,
                } => {
                    let tar = pack_context(context.clone(), dockerfile.clone())
                        .await
                        .map_err(|e| format!("cannot read the build context: {e}"))?;
                    build(engine, tar, dockerfile.as_deref(), args, tag, progress).await
                }
            }
        })
        .await
        .clone()
    }
}

/// `busybox` means `busybox:latest`; without a tag the engine would pull every tag.
fn with_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

async fn ensure_pulled(
    engine: &Engine,
    name: &str,
    progress: Option<&ProgressSink>,
) -> Result<String, String> {
    if engine.quick.inspect_image(name).await.is_ok() {
        return Ok(name.to_string());
    }
    let say = |text: String| {
        if let Some(progress) = progress {
            progress(text);
        }
    };
    say(format!("pulling {name}"));
    let options = CreateImageOptions {
        from_image: Some(with_tag(name)),
        ..Default::default()
    };
    let mut pull = engine.long.create_image(Some(options), None, None);
    let mut last_said = Instant::now();
    let mut layers: HashMap<String, String> = HashMap::new();
    while let Some(item) = pull.next().await {
        let info = item.map_err(|error| format!("cannot pull it: {}", engine_message(&error)))?;
        if let (Some(id), Some(status)) = (info.id, info.status) {
            layers.insert(id, status);
        }
        if last_said.elapsed() >= PROGRESS_EVERY {
            last_said = Instant::now();
            let done = layers
                .values()
                .filter(|s| s.contains("complete") || s.contains("exists"))
                .count();
            say(format!("pulling {name}: {done}/{} layers", layers.len()));
        }
    }
    say(format!("pulled {name}"));
    Ok(name.to_string())
}

async fn build(
    engine: &Engine,
    tar: Vec<u8>,
    dockerfile: Option<&str>,
    args: &std::collections::BTreeMap<String, String>,
    tag: &str,
    progress: Option<&ProgressSink>,
) -> Result<String, String> {
    let options = BuildImageOptions {
        dockerfile: dockerfile.unwrap_or("Dockerfile").to_string(),
        t: Some(tag.to_string()),
        rm: true,
        forcerm: true,
        buildargs: Some(args.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        ..Default::default()
    };
    let body = bollard::body_full(tar.into());
    let mut stream = engine.long.build_image(options, None, Some(body));
    // The last lines of output go into the error: they say which step failed.
    let mut tail: Vec<String> = Vec::new();
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(error) => {
                tail.push(engine_message(&error));
                return Err(format!("cannot build it:\n{}", tail.join("\n")));
            }
        };
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            tail.push(detail);
            return Err(format!("cannot build it:\n{}", tail.join("\n")));
        }
        if let Some(text) = info.stream {
            for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                if let Some(progress) = progress {
                    progress(format!("build: {line}"));
                }
                tail.push(line.to_string());
                if tail.len() > 10 {
                    tail.remove(0);
                }
            }
        }
    }
    Ok(tag.to_string())
}

/// The engine's own words, without bollard's wrapping.
pub fn engine_message(error: &bollard::errors::Error) -> String {
    use bollard::errors::Error;
    match error {
        Error::DockerResponseServerError { message, .. } => message.clone(),
        Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::with_tag;

    #[test]
    fn a_bare_name_means_latest() {
        assert_eq!(with_tag("busybox"), "busybox:latest");
        assert_eq!(with_tag("busybox:1.36"), "busybox:1.36");
        assert_eq!(with_tag("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(with_tag("app@sha256:abc"), "app@sha256:abc");
    }
}
