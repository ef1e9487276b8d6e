//! The bits of SVG the pictures share.

/// `text` made safe inside SVG (and HTML) text and attribute values.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `name` cut to `width` characters, with an ellipsis when cut: boxes have a fixed width.
pub fn fitted(name: &str, width: usize) -> String {
    match name.chars().count() > width {
        true => name
            .chars()
            .take(width.saturating_sub(1))
            .chain(['…'])
            .collect(),
        false => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped_and_long_names_cut() {
        assert_eq!(
            escaped(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(fitted("abcdef", 4), "abc…");
        assert_eq!(fitted("abc", 4), "abc");
    }
}
