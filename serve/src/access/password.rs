//! Users' passwords as argon2id hashes, and the random values of sessions.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Why a password could not be hashed or a random value made.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("the system's random source failed: {0}")]
    Random(String),
}

/// The argon2id hash of `password` (a PHC string, with its salt and parameters).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError::Hash(error.to_string()))
}

/// Whether `password` is the one `hash` was made of. `None` (no such user) takes as long
/// as a wrong password, so that timing does not tell which names exist.
pub fn password_matches(password: &str, hash: Option<&str>) -> bool {
    static STAND_IN: OnceLock<Option<String>> = OnceLock::new();
    let stand_in = STAND_IN.get_or_init(|| hash_password("no such user").ok());
    let (hash, real) = match (hash, stand_in) {
        (Some(hash), _) => (hash, true),
        (None, Some(stand_in)) => (stand_in.as_str(), false),
        (None, None) => return false,
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let verified = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    verified && real
}

/// 32 random bytes as hex: a session cookie's value or a CSRF token.
pub fn random_token() -> Result<String, PasswordError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| PasswordError::Random(error.to_string()))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// What the database keeps of a session cookie: its SHA-256.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_its_hash_only() -> Result<(), PasswordError> {
        let hash = hash_password("correct horse")?;
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(password_matches("correct horse", Some(&hash)));
        assert!(!password_matches("correct horse ", Some(&hash)));
        assert!(!password_matches("no such user", None), "no user, no match");
        assert!(!password_matches("x", Some("not a hash")));
        Ok(())
    }

    #[test]
    fn random_tokens_differ() -> Result<(), PasswordError> {
        let (a, b) = (random_token()?, random_token()?);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        Ok(())
    }
}
