//! A repository's webhook secret, and the check that a delivery was signed with it.

use super::forge_delivery::{Forge, ForgeDelivery};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The secret a repository's forge signs its webhooks with (never shown, not even in
/// debug output).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

/// Why a delivery's signature is not the secret's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("{forge} deliveries must be signed: no `{header}` header")]
    Missing {
        forge: &'static str,
        header: &'static str,
    },
    #[error("`{header}` is not {expected}")]
    Malformed {
        header: &'static str,
        expected: &'static str,
    },
    #[error("`{header}` does not match this repository's webhook secret")]
    Wrong { header: &'static str },
}

impl WebhookSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> WebhookSecret {
        WebhookSecret(secret.into())
    }

    /// Whether `delivery` of `body` (the raw bytes, as sent) comes with this secret:
    /// GitHub's `sha256=<hex>` and Gitea's `<hex>` are the HMAC-SHA256 of the body, GitLab
    /// sends the secret itself. Compared in constant time, so that timing does not tell
    /// how much of a guess was right.
    pub fn verify(&self, delivery: &ForgeDelivery, body: &[u8]) -> Result<(), SignatureError> {
        let header = delivery.forge.signature_header();
        let Some(signature) = delivery.signature.as_deref() else {
            return Err(SignatureError::Missing {
                forge: delivery.forge.as_str(),
                header,
            });
        };
        let wrong = SignatureError::Wrong { header };
        match delivery.forge {
            Forge::GitLab => {
                // Digests of both, so that the comparison takes as long whatever the lengths.
                let sent = Sha256::digest(signature.as_bytes());
                let ours = Sha256::digest(&self.0);
                match bool::from(sent.as_slice().ct_eq(ours.as_slice())) {
                    true => Ok(()),
                    false => Err(wrong),
                }
            }
            Forge::GitHub | Forge::Gitea => {
                let (hex, expected) = match delivery.forge {
                    Forge::GitHub => (
                        signature.strip_prefix("sha256="),
                        "`sha256=` and 64 hex digits",
                    ),
                    _ => (Some(signature), "64 hex digits"),
                };
                let tag = hex
                    .and_then(decode_hex)
                    .filter(|tag| tag.len() == 32)
                    .ok_or(SignatureError::Malformed { header, expected })?;
                let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
                    .map_err(|_| SignatureError::Wrong { header })?;
                mac.update(body);
                // `verify_slice` compares in constant time.
                mac.verify_slice(&tag).map_err(|_| wrong)
            }
        }
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// `text` as bytes, two hex digits each (either case).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::ForgeEvent;

    /// GitHub's own example (docs, "Validating webhook deliveries"): secret "It's a
    /// Secret to Everybody", payload "Hello, World!".
    const GITHUB_EXAMPLE: &str = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn delivery(forge: Forge, signature: Option<&str>) -> ForgeDelivery {
        ForgeDelivery {
            forge,
            event: ForgeEvent::Push,
            id: None,
            signature: signature.map(str::to_owned),
        }
    }

    #[test]
    fn signatures_are_checked_as_each_forge_makes_them() {
        let secret = WebhookSecret::new("It's a Secret to Everybody");
        let body = b"Hello, World!";
        let github = format!("sha256={GITHUB_EXAMPLE}");
        let upper = GITHUB_EXAMPLE.to_uppercase();
        let wrong = format!("sha256={}", "0".repeat(64));
        let cases: [(Forge, Option<&str>, Result<(), &str>); 10] = [
            (Forge::GitHub, Some(&github), Ok(())),
            (Forge::Gitea, Some(GITHUB_EXAMPLE), Ok(())),
            (Forge::Gitea, Some(&upper), Ok(())),
            (Forge::GitLab, Some("It's a Secret to Everybody"), Ok(())),
            (Forge::GitHub, None, Err("no `X-Hub-Signature-256` header")),
            (Forge::GitHub, Some(GITHUB_EXAMPLE), Err("is not `sha256=`")),
            (Forge::GitHub, Some(&wrong), Err("does not match")),
            (Forge::Gitea, Some("zz"), Err("is not 64 hex digits")),
            (Forge::GitLab, Some("It's a secret"), Err("does not match")),
            (Forge::GitLab, None, Err("no `X-Gitlab-Token` header")),
        ];
        for (forge, signature, expected) in cases {
            let checked = secret
                .verify(&delivery(forge, signature), body)
                .map_err(|error| error.to_string());
            match (checked, expected) {
                (Ok(()), Ok(())) => {}
                (Err(error), Err(part)) => assert!(error.contains(part), "{signature:?}: {error}"),
                (checked, expected) => {
                    panic!("{forge:?} {signature:?}: {checked:?}, not {expected:?}")
                }
            }
        }
    }

    #[test]
    fn a_signature_of_another_body_is_wrong() {
        let secret = WebhookSecret::new("It's a Secret to Everybody");
        let github = format!("sha256={GITHUB_EXAMPLE}");
        let checked = secret.verify(&delivery(Forge::GitHub, Some(&github)), b"Hello, World?");
        assert_eq!(
            checked,
            Err(SignatureError::Wrong {
                header: "X-Hub-Signature-256"
            })
        );
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        let shown = format!("{:?}", WebhookSecret::new("hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
