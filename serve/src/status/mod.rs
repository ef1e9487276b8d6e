//! Commit statuses (spec 8): one per job, context `pipekit/<pipeline>/<job>`, linked to the
//! job's page, sent to the repository's forge through an outbox in the database so that a
//! forge that is down or slow never holds a run up, and a restart loses nothing.
//!
//! [`StatusReporter`] hears the run's events and hands each job's state change to the
//! [`StatusOutbox`]; its writer puts them in the `status_outbox` table, its deliverer posts
//! the oldest undelivered ones with [`ForgeClient`], again with [`retry_delay`] after a
//! failure, until the forge takes them or refuses them for good.

mod api_base;
mod backoff;
mod delivery;
mod forge_client;
mod forge_kind;
mod forge_request;
mod job_status;
mod status_outbox;
mod status_reporter;
mod status_settings;

pub use api_base::ApiBase;
pub use backoff::retry_delay;
pub use delivery::Delivery;
pub use forge_client::{ForgeAnswer, ForgeClient, ForgeClientError};
pub use forge_kind::ForgeKind;
pub use forge_request::{ForgeRepository, ForgeRequest, StatusMessage};
pub use job_status::JobStatus;
pub use status_outbox::{QueuedStatus, StatusOutbox};
pub use status_reporter::StatusReporter;
pub use status_settings::{ForgeTarget, ForgeToken, StatusSettings};
