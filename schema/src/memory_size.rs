//! Compose's `mem_limit`: a number of bytes, or a string with Docker's units (`64m`, `1.5g`).

use crate::context::Context;
use crate::pipeline::MemoryLimit;
use crate::raw::Node;
use crate::raw::Spanned;

/// Docker's units are binary: `1k` is 1024 bytes, as in `docker run --memory`.
const UNITS: [(&str, u64); 9] = [
    ("b", 1),
    ("k", 1 << 10),
    ("kb", 1 << 10),
    ("m", 1 << 20),
    ("mb", 1 << 20),
    ("g", 1 << 30),
    ("gb", 1 << 30),
    ("t", 1 << 40),
    ("tb", 1 << 40),
];

/// Bytes from Compose's notation; `None` for anything else (negative, no number, an unknown
/// unit, more than fits in 63 bits).
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier = match unit.trim() {
        "" => 1,
        unit => UNITS.iter().find(|(name, _)| *name == unit)?.1,
    };
    let number: f64 = number.parse().ok()?;
    let bytes = number * multiplier as f64;
    (bytes.is_finite() && bytes >= 1.0 && bytes < i64::MAX as f64).then_some(bytes as u64)
}

/// Reads `mem_limit`; problems go to `cx`.
pub(crate) fn read(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Option<MemoryLimit> {
    let text = match &node.value {
        Node::Int(bytes) => bytes.to_string(),
        Node::Str(text) => text.clone(),
        _ => {
            cx.wrong_type(node, what, "bytes, or a size like `64m`");
            return None;
        }
    };
    match parse_bytes(&text) {
        Some(bytes) => Some(MemoryLimit { bytes, text }),
        None => {
            let location = cx.at(node);
            cx.error(location, format!("{what} is not a memory size"))
                .with_label(format!("`{text}`"))
                .with_hint("write bytes, or a number with b, k, m or g, like `mem_limit: 64m`");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn compose_sizes_read_as_bytes() {
        let cases = [
            ("1024", Some(1024)),
            ("64m", Some(64 << 20)),
            ("64M", Some(64 << 20)),
            ("16mb", Some(16 << 20)),
            ("1.5g", Some(3 << 29)),
            ("512k", Some(512 << 10)),
            ("100b", Some(100)),
            (" 2g ", Some(2 << 30)),
            ("", None),
            ("m", None),
            ("-5m", None),
            ("0", None),
            ("12q", None),
            ("1..2m", None),
            ("99999999999t", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_bytes(text), expected, "{text:?}");
        }
    }
}
