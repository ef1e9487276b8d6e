//! Finding and removing what runs left behind, by label: at the end of a run, for a run
//! whose pipekit-ci was killed outright (`gc`), and what `--keep-running` left (`down`).

use super::DockerError;
use super::control::remove_container;
use super::engine::Engine;
use super::image::engine_message;
use super::labels::{KEEP, Owner, PIPELINE_FILE, RUN};
use bollard::models::ContainerSummaryStateEnum;
use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions};
use std::collections::HashMap;
use std::path::Path;

/// What a clean-up removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub containers: usize,
    pub networks: usize,
}

struct Found {
    id: String,
    labels: HashMap<String, String>,
    running: bool,
}

impl Found {
    fn kept(&self) -> bool {
        self.labels.get(KEEP).is_some_and(|v| v == "true")
    }
    /// Left up by `--keep-running` and still up: a kept job that exited or was stopped
    /// (Ctrl-C) has nothing left to keep.
    fn kept_running(&self) -> bool {
        self.kept() && self.running
    }
    fn run(&self) -> Option<&str> {
        self.labels.get(RUN).map(String::as_str)
    }
    fn owner_is_dead(&self) -> bool {
        Owner::from_labels(&self.labels).is_some_and(|owner| owner.is_dead())
    }
}

/// Removes the containers and the network of one run; `spare_kept` leaves what
/// `--keep-running` keeps (and the network it is attached to).
pub async fn remove_run(engine: &Engine, run_id: &str, spare_kept: bool) -> Removed {
    let label = format!("{RUN}={run_id}");
    let mut removed = Removed::default();
    let mut kept_any = false;
    for container in containers(engine, &label).await.unwrap_or_default() {
        if spare_kept && container.kept_running() {
            kept_any = true;
            continue;
        }
        remove_container(engine, &container.id).await;
        removed.containers += 1;
    }
    if !kept_any {
        for network in networks(engine, &label).await.unwrap_or_default() {
            if engine.quick.remove_network(&network.id).await.is_ok() {
                removed.networks += 1;
            }
        }
    }
    removed
}

/// Removes what runs whose pipekit-ci died (SIGKILL, a crash, a reboot) left behind,
/// except containers `--keep-running` meant to keep.
pub async fn reap_orphans(engine: &Engine) -> Result<Removed, DockerError> {
    let mut removed = Removed::default();
    for container in containers(engine, RUN).await? {
        if container.owner_is_dead() && !container.kept_running() {
            remove_container(engine, &container.id).await;
            removed.containers += 1;
        }
    }
    removed.networks = remove_unused_networks(engine, RUN).await?;
    Ok(removed)
}

/// `pipekit-ci down`: removes what `--keep-running` left up for this pipeline file.
pub async fn down(engine: &Engine, pipeline_file: &Path) -> Result<Removed, DockerError> {
    let label = format!("{PIPELINE_FILE}={}", pipeline_file.display());
    let mut removed = Removed::default();
    for container in containers(engine, &label).await? {
        if container.kept() || container.owner_is_dead() {
            remove_container(engine, &container.id).await;
            removed.containers += 1;
        }
    }
    removed.networks = remove_unused_networks(engine, &label).await?;
    Ok(removed)
}

/// Networks of dead owners that no container of theirs uses any more.
async fn remove_unused_networks(engine: &Engine, label: &str) -> Result<usize, DockerError> {
    let in_use: Vec<String> = containers(engine, RUN)
        .await?
        .iter()
        .filter_map(|c| c.run().map(str::to_string))
        .collect();
    let mut removed = 0;
    for network in networks(engine, label).await? {
        let unused = network
            .run()
            .is_some_and(|run| !in_use.iter().any(|r| r == run));
        if unused
            && network.owner_is_dead()
            && engine.quick.remove_network(&network.id).await.is_ok()
        {
            removed += 1;
        }
    }
    Ok(removed)
}

async fn containers(engine: &Engine, label: &str) -> Result<Vec<Found>, DockerError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([(
            "label".to_string(),
            vec![label.to_string()],
        )])),
        ..Default::default()
    };
    let listed = engine
        .quick
        .list_containers(Some(options))
        .await
        .map_err(|e| refused(engine, "list containers", &e))?;
    Ok(listed
        .into_iter()
        .filter_map(|c| {
            Some(Found {
                id: c.id?,
                labels: c.labels.unwrap_or_default(),
                running: c.state == Some(ContainerSummaryStateEnum::RUNNING),
            })
        })
        .collect())
}

async fn networks(engine: &Engine, label: &str) -> Result<Vec<Found>, DockerError> {
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([(
            "label".to_string(),
            vec![label.to_string()],
        )])),
    };
    let listed = engine
        .quick
        .list_networks(Some(options))
        .await
        .map_err(|e| refused(engine, "list networks", &e))?;
    Ok(listed
        .into_iter()
        .filter_map(|n| {
            Some(Found {
                id: n.id?,
                labels: n.labels.unwrap_or_default(),
                running: false,
            })
        })
        .collect())
}

fn refused(engine: &Engine, what: &'static str, error: &bollard::errors::Error) -> DockerError {
    DockerError::Refused {
        host: engine.host.clone(),
        what,
        reason: engine_message(error),
    }
}
