//! Who may do what (spec 8): API tokens with roles, whether reads are public, and the web
//! UI's users' passwords and sessions. The API's `Caller` extractor asks
//! [`AccessPolicy`] and the store's sessions who a request comes from.

mod access_policy;
mod password;
mod role;

pub use access_policy::{AccessPolicy, ApiToken};
pub use password::{PasswordError, hash_password, password_matches, random_token, token_digest};
pub use role::Role;
