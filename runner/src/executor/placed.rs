//! The executors of one run, one per [`Placement`]: the run's plan says where each job
//! goes, and the driver takes the executor of that place. A new place (a cluster) is a new
//! variant and one more executor here, not a change to the driver.

use super::Executor;
use std::sync::Arc;

/// Where a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placement {
    /// A process on this machine (the embedded default).
    Host,
    /// A container of the run's engine.
    Container,
}

/// The run's executors by placement.
#[derive(Clone)]
pub struct Executors {
    host: Arc<dyn Executor>,
    /// Absent when no job of the run needs a container, or under `--executor local`.
    container: Option<Arc<dyn Executor>>,
}

impl Executors {
    pub fn new(host: Arc<dyn Executor>, container: Option<Arc<dyn Executor>>) -> Executors {
        Executors { host, container }
    }

    /// Only host processes.
    pub fn host_only(host: Arc<dyn Executor>) -> Executors {
        Executors::new(host, None)
    }

    /// The executor of `placement`; `None` when the run has none there (no engine).
    pub fn at(&self, placement: Placement) -> Option<Arc<dyn Executor>> {
        match placement {
            Placement::Host => Some(self.host.clone()),
            Placement::Container => self.container.clone(),
        }
    }

    /// The host's executor, which every run has.
    pub fn host(&self) -> Arc<dyn Executor> {
        self.host.clone()
    }

    /// Ends every executor's side of the run, each once.
    pub async fn shutdown(&self) {
        self.host.shutdown().await;
        if let Some(container) = &self.container {
            container.shutdown().await;
        }
    }
}
