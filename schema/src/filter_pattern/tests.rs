use super::*;

fn pattern(text: &str) -> FilterPattern {
    FilterPattern::new(text).unwrap_or_else(|error| panic!("{text}: {error}"))
}

#[test]
fn translates_each_special_character() {
    let cases = [
        ("main", r"main"),
        ("release/*", r"release/[^/]*"),
        ("release/**", r"release/.*"),
        ("**/*.md", r"(?:.+/)?[^/]*\.md"),
        ("docs/**/x", r"docs/(?:.+/)?x"),
        ("v[0-9]+.*", r"v[0-9]+\.[^/]*"),
        ("colou?r", r"colou?r"),
        ("[CBa-f]at", r"[CBa-f]at"),
        (r"a\+b\*", r"a\+b\*"),
        ("feat+ure(1){2}", r"feat+ure\(1\)\{2\}"),
        ("!", r"!"),
        ("ünï", r"ünï"),
    ];
    for (glob, expected) in cases {
        assert_eq!(to_regex(glob).as_deref(), Ok(expected), "{glob}");
    }
}

#[test]
fn matches_like_github() {
    // (pattern, matching names, names that do not match)
    let cases: [(&str, &[&str], &[&str]); 14] = [
        ("main", &["main"], &["main2", "xmain", "feature/main"]),
        (
            "feature/*",
            &["feature/a", "feature/", "feature/my-branch"],
            &["feature/a/b", "feature"],
        ),
        (
            "feature/**",
            &["feature/a", "feature/a/b/c"],
            &["feature", "features/a"],
        ),
        ("*", &["main", "v1.0"], &["a/b"]),
        ("**", &["main", "a/b/c", ""], &[]),
        (
            "**/*.md",
            &["README.md", "docs/a.md", "a/b/c/x.md"],
            &["README.mdx", "docs/a.txt"],
        ),
        ("**.js", &["a.js", "src/lib/a.js"], &["a.ts"]),
        (
            "docs/**",
            &["docs/a", "docs/internal/b/c.md"],
            &["docs", "src/docs/a"],
        ),
        (
            "v[0-9]+.*",
            &["v1.0", "v10.2", "v2.x-beta"],
            &["v.1", "va.1", "v1.2/3", "v1"],
        ),
        ("v2*", &["v2", "v2.0", "v2-beta"], &["v1", "v2/x"]),
        // `?` repeats the character before it, as in a regex; it is not the shell's `?`.
        ("colou?r", &["color", "colour"], &["colouur", "colonr"]),
        ("[CB]at", &["Cat", "Bat"], &["cat", "At", "CBat"]),
        ("[1-2]00", &["100", "200"], &["300", "1000"]),
        (r"release\+hotfix", &["release+hotfix"], &["releasehotfix"]),
    ];
    for (text, matching, other) in cases {
        let pattern = pattern(text);
        for name in matching {
            assert!(pattern.matches(name), "`{text}` should match `{name}`");
        }
        for name in other {
            assert!(!pattern.matches(name), "`{text}` should not match `{name}`");
        }
    }
}

#[test]
fn a_leading_bang_negates_and_is_kept_in_the_text() {
    let negated = pattern("!docs/internal/**");
    assert!(negated.is_negated());
    assert!(negated.matches("docs/internal/a.md"));
    assert_eq!(negated.as_str(), "!docs/internal/**");
    assert_eq!(negated.to_string(), "!docs/internal/**");
    let inner = pattern("a!b");
    assert!(!inner.is_negated());
    assert!(inner.matches("a!b"));
}

#[test]
fn refuses_what_github_refuses_and_points_at_it() {
    let cases = [
        ("", "the pattern is empty", 0..0),
        ("!", "`!` alone negates nothing", 0..1),
        ("release/[0-9", "this `[` is never closed by a `]`", 8..12),
        ("!a[", "this `[` is never closed by a `]`", 2..3),
        ("a[]b", "the set `[]` is empty", 1..3),
        ("v[z-a]", "`z-a` is not a range GitHub accepts", 2..5),
        ("v[a-Z]", "`a-Z` is not a range GitHub accepts", 2..5),
        ("v[!a]", "`!` cannot stand in a `[...]` set", 2..3),
        ("v[a-]", "`-` cannot stand in a `[...]` set", 3..4),
        ("+main", "`+` has no character before it to repeat", 0..1),
        ("!?x", "`?` has no character before it to repeat", 1..2),
        (
            "a*+",
            "`+` follows a wildcard or a repetition, which it cannot repeat",
            2..3,
        ),
        (
            "a++",
            "`+` follows a wildcard or a repetition, which it cannot repeat",
            2..3,
        ),
        ("a\\", "the pattern ends with a lone `\\`", 1..2),
    ];
    for (text, message, range) in cases {
        let error = FilterPattern::new(text).expect_err(text);
        assert_eq!(
            (error.message.as_str(), error.range.clone()),
            (message, range),
            "{text}"
        );
    }
}

#[test]
fn patterns_compare_by_their_text() {
    assert_eq!(pattern("main"), pattern("main"));
    assert_ne!(pattern("main"), pattern("!main"));
}

#[test]
fn never_panics_on_odd_input() {
    let long = "a?".repeat(200_000);
    for text in [
        "[", "]", "[é]", "[a-é]", "[é-a]", "é[", "!é?", "\\é", "[[]", "[]]", "a[-]", "**+", "!!",
        "?", &long,
    ] {
        let Err(error) = FilterPattern::new(text) else {
            continue;
        };
        assert!(
            error.range.end <= text.len() && text.is_char_boundary(error.range.start),
            "{text}: {error:?}"
        );
    }
}
