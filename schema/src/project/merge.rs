//! Compose's merge rules, for override files (`-f a -f b`) and `extends`.
//!
//! As the Compose specification says: mappings merge key by key, the later file winning;
//! `command`, `entrypoint` and `healthcheck.test` are replaced whole; sequences are
//! appended without repeating an entry, and `volumes`, `secrets` and `configs` keep one
//! entry per mount target; fields written either as a `KEY=VALUE` list or as a mapping
//! (`environment`, `labels`, `extra_hosts`, …) merge as mappings.

use crate::raw::{Node, Spanned};

/// Fields replaced whole by the later value.
const REPLACED: [&str; 3] = ["command", "entrypoint", "test"];

/// Fields that are a mapping or a `KEY=VALUE` (or, for hosts, `KEY:VALUE`) list.
const KEYED_LISTS: [&str; 7] = [
    "environment",
    "labels",
    "annotations",
    "extra_hosts",
    "sysctls",
    "args",
    "driver_opts",
];

/// Lists whose entries are one per mount target (or per name).
const BY_TARGET: [&str; 4] = ["volumes", "secrets", "configs", "devices"];

/// Merges top-level mappings of two files: services service by service, the rest key by key.
pub(crate) fn merge_files(base: &mut Spanned<Node>, over: Spanned<Node>) {
    let (Node::Map(base_entries), Node::Map(over_entries)) = (&mut base.value, over.value) else {
        return;
    };
    for (key, value) in over_entries {
        match base_entries
            .iter_mut()
            .find(|(existing, _)| existing.value == key.value)
        {
            Some((_, existing)) if key.value == "services" => merge_services(existing, value),
            Some((_, existing)) => merge_value(&key.value, existing, value),
            None => base_entries.push((key, value)),
        }
    }
}

/// Merges `services:` mappings: a service in both is merged, a new one added.
fn merge_services(base: &mut Spanned<Node>, over: Spanned<Node>) {
    match (&mut base.value, over.value) {
        (Node::Map(base_services), Node::Map(over_services)) => {
            for (name, service) in over_services {
                match base_services
                    .iter_mut()
                    .find(|(existing, _)| existing.value == name.value)
                {
                    Some((_, existing)) => merge_service(existing, service),
                    None => base_services.push((name, service)),
                }
            }
        }
        (_, value) => {
            base.value = value;
            base.referenced = over.referenced;
            base.defined = over.defined;
        }
    }
}

/// Merges one service over another. A field the later one sets to nothing (Compose's
/// `field: !reset`; the tag itself is not kept by the YAML reader) is removed.
pub(crate) fn merge_service(base: &mut Spanned<Node>, over: Spanned<Node>) {
    if !matches!(base.value, Node::Map(_)) {
        merge_plain(base, over);
        return;
    }
    let (Node::Map(base_fields), Node::Map(over_fields)) = (&mut base.value, over.value) else {
        return;
    };
    for (key, value) in over_fields {
        let existing = base_fields
            .iter()
            .position(|(name, _)| name.value == key.value);
        match (existing, &value.value) {
            (Some(at), Node::Null) => {
                base_fields.remove(at);
            }
            (Some(at), _) => {
                if let Some((_, field)) = base_fields.get_mut(at) {
                    merge_value(&key.value, field, value);
                }
            }
            (None, _) => base_fields.push((key, value)),
        }
    }
}

/// Merges `over` into `base`, the field being called `field`.
pub(crate) fn merge_value(field: &str, base: &mut Spanned<Node>, over: Spanned<Node>) {
    if REPLACED.contains(&field) {
        *base = over;
        return;
    }
    if KEYED_LISTS.contains(&field) || field == "depends_on" || field == "networks" {
        let mut over = over;
        if matches!(base.value, Node::Map(_)) || matches!(over.value, Node::Map(_)) {
            keyed(field, base);
            keyed(field, &mut over);
        }
        merge_plain(base, over);
        return;
    }
    if BY_TARGET.contains(&field)
        && let (Node::Seq(base_items), Node::Seq(over_items)) = (&mut base.value, &over.value)
    {
        for item in over_items {
            let target = mount_target(&item.value);
            match base_items
                .iter_mut()
                .find(|existing| target.is_some() && mount_target(&existing.value) == target)
            {
                Some(existing) => *existing = item.clone(),
                None => base_items.push(item.clone()),
            }
        }
        return;
    }
    merge_plain(base, over);
}

/// Mappings key by key, sequences appended without repeats, anything else replaced.
fn merge_plain(base: &mut Spanned<Node>, over: Spanned<Node>) {
    match (&mut base.value, over.value) {
        (Node::Map(base_entries), Node::Map(over_entries)) => {
            for (key, value) in over_entries {
                match base_entries
                    .iter_mut()
                    .find(|(existing, _)| existing.value == key.value)
                {
                    Some((_, existing)) => merge_value(&key.value, existing, value),
                    None => base_entries.push((key, value)),
                }
            }
        }
        (Node::Seq(base_items), Node::Seq(over_items)) => {
            for item in over_items {
                if !base_items
                    .iter()
                    .any(|existing| existing.value == item.value)
                {
                    base_items.push(item);
                }
            }
        }
        (_, value) => {
            base.value = value;
            base.referenced = over.referenced;
            base.defined = over.defined;
        }
    }
}

/// Turns a `KEY=VALUE` list (or a list of names, for `depends_on` and `networks`) into the
/// mapping it means, each entry keeping its place.
fn keyed(field: &str, node: &mut Spanned<Node>) {
    let Node::Seq(items) = &node.value else {
        return;
    };
    let entries = items
        .iter()
        .map(|item| {
            let text = match &item.value {
                Node::Str(text) => text.clone(),
                Node::Int(number) => number.to_string(),
                other => format!("{other:?}"),
            };
            let split = match field {
                "depends_on" | "networks" => None,
                "extra_hosts" => text
                    .split_once('=')
                    .or_else(|| text.split_once(':'))
                    .map(|(key, value)| (key.to_owned(), value.to_owned())),
                _ => text
                    .split_once('=')
                    .map(|(key, value)| (key.to_owned(), value.to_owned())),
            };
            let (key, value) = match split {
                Some((key, value)) => (key, Node::Str(value)),
                None if field == "depends_on" => (
                    text,
                    Node::Map(vec![(
                        Spanned {
                            value: "condition".to_owned(),
                            referenced: item.referenced,
                            defined: item.defined,
                        },
                        Spanned {
                            value: Node::Str("service_started".to_owned()),
                            referenced: item.referenced,
                            defined: item.defined,
                        },
                    )]),
                ),
                None => (text, Node::Null),
            };
            (
                Spanned {
                    value: key,
                    referenced: item.referenced,
                    defined: item.defined,
                },
                Spanned {
                    value,
                    referenced: item.referenced,
                    defined: item.defined,
                },
            )
        })
        .collect();
    node.value = Node::Map(entries);
}

/// The container path of a `volumes` entry (`src:dst[:mode]` or `{target: dst}`), or the
/// name of a `secrets`/`configs` entry.
fn mount_target(node: &Node) -> Option<String> {
    match node {
        Node::Str(text) => {
            let mut parts = text.split(':');
            let first = parts.next()?;
            Some(parts.next().unwrap_or(first).to_owned())
        }
        Node::Map(entries) => entries
            .iter()
            .find(|(key, _)| key.value == "target")
            .or_else(|| entries.iter().find(|(key, _)| key.value == "source"))
            .and_then(|(_, value)| match &value.value {
                Node::Str(text) => Some(text.clone()),
                _ => None,
            }),
        _ => None,
    }
}
