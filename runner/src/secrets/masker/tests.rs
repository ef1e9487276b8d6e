use super::*;

fn masker(values: &[&str]) -> Masker {
    Masker::new(values.iter().copied()).expect("masker")
}

#[test]
fn no_secrets_means_no_work_and_borrowed_text() {
    let masker = masker(&[]);
    assert!(masker.is_empty());
    assert!(matches!(masker.mask("anything at all"), Cow::Borrowed(_)));
    assert!(matches!(masker.mask_bytes(b"\xff\xfe"), Cow::Borrowed(_)));
    assert_eq!(masker.lookahead(), 0);
    assert_eq!(masker.safe_cut(b"0123456789", 4), 4);
}

#[test]
fn masks_every_occurrence_and_borrows_clean_text() {
    let masker = masker(&["hunter2hunter2", "s3cr3t-token"]);
    let cases = [
        ("token=s3cr3t-token", "token=***"),
        (
            "hunter2hunter2 and s3cr3t-token, again s3cr3t-token",
            "*** and ***, again ***",
        ),
        ("s3cr3t-tokens3cr3t-token", "******"),
        ("s3cr3t-toke", "s3cr3t-toke"),
        ("", ""),
    ];
    for (text, expected) in cases {
        assert_eq!(masker.mask(text), expected, "{text}");
        assert_eq!(
            masker.mask_bytes(text.as_bytes()).as_ref(),
            expected.as_bytes()
        );
    }
    assert!(matches!(masker.mask("nothing here"), Cow::Borrowed(_)));
}

#[test]
fn the_longest_value_wins_where_values_overlap() {
    let masker = masker(&["password1", "password123", "word1234xyz"]);
    assert_eq!(masker.mask("x password123 y"), "x *** y");
    assert_eq!(masker.mask("password1 password12"), "*** ***2");
    // Overlapping values: the leftmost wins, then the longest; nothing of it stays.
    assert_eq!(masker.mask("password1234xyz"), "***4xyz");
}

#[test]
fn masks_raw_bytes_around_invalid_utf8() {
    let masker = masker(&["correct-horse"]);
    assert_eq!(
        masker.mask_bytes(b"\xff correct-horse \xfe").as_ref(),
        b"\xff *** \xfe"
    );
}

#[test]
fn a_multi_line_value_is_masked_whole_and_line_by_line() {
    let key = "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\r\nshort\n-----END KEY-----";
    let masker = masker(&[key]);
    assert_eq!(masker.mask(&format!("key: {key}")), "key: ***");
    assert_eq!(masker.mask("MIIEowIBAAKCAQEA"), "***");
    assert_eq!(masker.mask("-----END KEY-----"), "***");
    // Too short to mask without garbling ordinary output.
    assert_eq!(masker.mask("short"), "short");
}

#[test]
fn a_cut_never_splits_a_secret() {
    let masker = masker(&["abcdefgh"]);
    assert_eq!(masker.lookahead(), 7);
    let cases: [(&[u8], usize, usize); 6] = [
        // Straddling the limit: the cut moves to the secret's end.
        (b"0123abcdefgh4567", 6, 12),
        (b"abcdefgh", 1, 8),
        // Starting at the limit, or ending at it: the limit is safe.
        (b"0123abcdefgh", 4, 4),
        (b"abcdefgh0123", 8, 8),
        // A prefix that never completes: the limit.
        (b"0123abcdefXY4567", 6, 6),
        // No secret in sight.
        (b"0123456789", 5, 5),
    ];
    for (buffer, limit, cut) in cases {
        assert_eq!(
            masker.safe_cut(buffer, limit),
            cut,
            "{}",
            String::from_utf8_lossy(buffer)
        );
    }
}

#[test]
fn xml_escapes_of_values_are_masked_in_reports() {
    let masker = masker(&["a<b>&\"c'd"]).with_xml_escapes().expect("masker");
    for text in [
        "a<b>&\"c'd",
        "a&lt;b&gt;&amp;&quot;c&apos;d",
        "a&lt;b&gt;&amp;\"c'd",
    ] {
        assert_eq!(
            masker.mask(&format!("<x>{text}</x>")),
            "<x>***</x>",
            "{text}"
        );
    }
}

#[test]
fn debug_output_shows_no_value() {
    let masker = masker(&["do-not-print-me"]);
    assert!(!format!("{masker:?}").contains("do-not-print-me"));
}

#[test]
fn json_escapes_find_a_secret_in_a_serialised_string() -> Result<(), SecretError> {
    let secret = "quote\"back\\slash\nline";
    let masker = Masker::new([secret])?.with_json_escapes()?;
    let line = serde_json::to_string(&format!("before {secret} after"))
        .map_err(|error| SecretError::Masker(error.to_string()))?;
    assert!(!line.contains(secret), "{line}");
    assert_eq!(masker.mask(&line), "\"before *** after\"");
    Ok(())
}
