//! Who may do what (spec 8): API tokens with roles, and whether reads are public. The
//! API's `Caller` extractor asks [`AccessPolicy`] who a request comes from.

mod access_policy;
mod role;

pub use access_policy::{AccessPolicy, ApiToken};
pub use role::Role;
