//! Forge webhooks (spec 8): which forge sent a delivery and what it is about
//! ([`ForgeDelivery`]), whether its signature is the repository secret's
//! ([`WebhookSecret`]), and the push it tells of ([`ForgePush`]). No HTTP here: the API's
//! `hooks` handler reads the request and answers.

mod forge_delivery;
mod forge_push;
mod webhook_secret;

pub use forge_delivery::{Forge, ForgeDelivery, ForgeEvent};
pub use forge_push::{ForgePush, PushPayloadError};
pub use webhook_secret::{SignatureError, WebhookSecret};
