//! A forge's webhook delivery as its headers describe it: the forge, the event, the
//! delivery id and the signature.

use axum::http::HeaderMap;

/// The forges whose webhooks the service takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    /// Gitea and Forgejo, which sign alike.
    Gitea,
    GitLab,
}

impl Forge {
    pub fn as_str(self) -> &'static str {
        match self {
            Forge::GitHub => "GitHub",
            Forge::Gitea => "Gitea",
            Forge::GitLab => "GitLab",
        }
    }

    /// The header that carries this forge's signature (or, for GitLab, the secret itself).
    pub fn signature_header(self) -> &'static str {
        match self {
            Forge::GitHub => "X-Hub-Signature-256",
            Forge::Gitea => "X-Gitea-Signature",
            Forge::GitLab => "X-Gitlab-Token",
        }
    }
}

/// What a delivery is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgeEvent {
    /// Commits pushed to a branch or a tag (or a ref deleted).
    Push,
    /// "Is anybody there?", sent as the webhook is set up.
    Ping,
    /// Anything else a forge may be told to send (issues, pull requests …), by its name.
    Other(String),
}

/// The headers of one forge delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeDelivery {
    pub forge: Forge,
    pub event: ForgeEvent,
    /// The forge's id of this delivery, the same when it delivers it again.
    pub id: Option<String>,
    /// The signature header's value, as sent.
    pub signature: Option<String>,
}

impl ForgeDelivery {
    /// The delivery `headers` describe, `None` when no forge's event header is there.
    /// Gitea and Forgejo also send GitHub's headers, so theirs are looked at first.
    pub fn from_headers(headers: &HeaderMap) -> Option<ForgeDelivery> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let (forge, event, id, signature) = if let Some(event) = header("x-gitea-event") {
            let signature = header("x-gitea-signature").or_else(|| header("x-forgejo-signature"));
            (Forge::Gitea, event, header("x-gitea-delivery"), signature)
        } else if let Some(event) = header("x-gitlab-event") {
            let id = header("x-gitlab-event-uuid");
            (Forge::GitLab, event, id, header("x-gitlab-token"))
        } else if let Some(event) = header("x-github-event") {
            let id = header("x-github-delivery");
            (Forge::GitHub, event, id, header("x-hub-signature-256"))
        } else {
            return None;
        };
        Some(ForgeDelivery {
            forge,
            event: ForgeEvent::of(forge, event),
            id: id.filter(|id| !id.is_empty()),
            signature,
        })
    }
}

impl ForgeEvent {
    fn of(forge: Forge, name: String) -> ForgeEvent {
        match (forge, name.as_str()) {
            (Forge::GitHub | Forge::Gitea, "push") => ForgeEvent::Push,
            (Forge::GitHub | Forge::Gitea, "ping") => ForgeEvent::Ping,
            // GitLab has no ping: "Test" in its settings sends a push. A tag's push is an
            // event of its own there.
            (Forge::GitLab, "Push Hook" | "Tag Push Hook") => ForgeEvent::Push,
            _ => ForgeEvent::Other(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn each_forge_is_known_by_its_event_header() {
        let cases = [
            (
                headers(&[
                    ("x-github-event", "push"),
                    ("x-github-delivery", "d1"),
                    ("x-hub-signature-256", "sha256=ab"),
                ]),
                Forge::GitHub,
                ForgeEvent::Push,
                Some("d1"),
                Some("sha256=ab"),
            ),
            // Gitea sends GitHub's headers too; its own decide.
            (
                headers(&[
                    ("x-github-event", "push"),
                    ("x-hub-signature-256", "sha256=ab"),
                    ("x-gitea-event", "push"),
                    ("x-gitea-delivery", "d2"),
                    ("x-gitea-signature", "cd"),
                ]),
                Forge::Gitea,
                ForgeEvent::Push,
                Some("d2"),
                Some("cd"),
            ),
            (
                headers(&[
                    ("x-gitlab-event", "Tag Push Hook"),
                    ("x-gitlab-event-uuid", "d3"),
                    ("x-gitlab-token", "s3cret"),
                ]),
                Forge::GitLab,
                ForgeEvent::Push,
                Some("d3"),
                Some("s3cret"),
            ),
            (
                headers(&[("x-github-event", "ping")]),
                Forge::GitHub,
                ForgeEvent::Ping,
                None,
                None,
            ),
            (
                headers(&[("x-gitlab-event", "Issue Hook")]),
                Forge::GitLab,
                ForgeEvent::Other("Issue Hook".to_owned()),
                None,
                None,
            ),
        ];
        for (headers, forge, event, id, signature) in cases {
            let delivery = ForgeDelivery::from_headers(&headers).expect("a forge's delivery");
            assert_eq!(delivery.forge, forge, "{headers:?}");
            assert_eq!(delivery.event, event, "{headers:?}");
            assert_eq!(delivery.id.as_deref(), id, "{headers:?}");
            assert_eq!(delivery.signature.as_deref(), signature, "{headers:?}");
        }
    }

    #[test]
    fn without_an_event_header_it_is_no_forge_delivery() {
        assert_eq!(
            ForgeDelivery::from_headers(&headers(&[("x-pipekit-event", "push")])),
            None
        );
    }
}
