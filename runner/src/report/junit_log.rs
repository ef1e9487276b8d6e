//! A job's log as `junit.xml` holds it: its end only, with what XML cannot carry removed.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How much of a job's log `<system-out>` holds: its end, where failures usually are.
pub(super) const SYSTEM_OUT_BYTES: u64 = 64 * 1024;

/// How far past a cut the log tail may skip to start on a whole line.
const LINE_START_SEARCH_BYTES: usize = 4096;

/// The end of a log, at most [`SYSTEM_OUT_BYTES`], sanitized; read from the end of the file
/// so a huge log costs no more than a small one. A missing log is an empty one.
pub(super) fn read_log_tail(path: &Path) -> io::Result<String> {
    // One `stat` first: most jobs of a wide graph print nothing, and their logs are all
    // links to one empty file (four system calls fewer per job than opening each).
    let length = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(String::new()),
        Err(error) => return Err(error),
    };
    if length == 0 {
        return Ok(String::new());
    }
    let mut file = File::open(path)?;
    let start = length.saturating_sub(SYSTEM_OUT_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(SYSTEM_OUT_BYTES).read_to_end(&mut bytes)?;

    let mut truncated = start;
    if start > 0 {
        // Starting at a line keeps half an escape sequence or character out of the report.
        let search = &bytes[..bytes.len().min(LINE_START_SEARCH_BYTES)];
        if let Some(newline) = search.iter().position(|&byte| byte == b'\n') {
            bytes.drain(..=newline);
            truncated += newline as u64 + 1;
        }
    }
    let text = sanitize(&String::from_utf8_lossy(&bytes));
    if truncated == 0 {
        Ok(text)
    } else {
        Ok(format!("[... {truncated} bytes truncated ...]\n{text}"))
    }
}

/// The last `count` lines of `text`.
pub(super) fn last_lines(text: &str, count: usize) -> &str {
    let body = text.strip_suffix('\n').unwrap_or(text);
    match body.rmatch_indices('\n').nth(count.saturating_sub(1)) {
        Some((index, _)) => &text[index + 1..],
        None => text,
    }
}

/// Removes ANSI escape sequences and the characters XML 1.0 cannot hold.
pub(crate) fn sanitize(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            if is_xml_char(c) {
                clean.push(c);
            }
            continue;
        }
        match chars.next() {
            // CSI: parameter and intermediate bytes up to one final byte in `@`..=`~`.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            // OSC (titles, hyperlinks): up to BEL or ESC `\`.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            // Character set selection such as ESC ( B carries one more byte.
            Some('\u{20}'..='\u{2f}') => {
                chars.next();
            }
            // Any other ESC x is a two-character sequence, already consumed.
            _ => {}
        }
    }
    clean
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}
