//! Where a follower of a run is: how far into `events.jsonl` and into each job's log it
//! has read. It is the SSE `id:` of every message, so a client that reconnects with
//! `Last-Event-ID` resumes right after what it saw, from the files alone (a restarted
//! server, another server on the same data folder): nothing lost, nothing repeated.

use std::collections::BTreeMap;
use std::fmt;

/// A place in a file of lines: the lines read, and the byte after the last of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilePlace {
    pub lines: u64,
    pub offset: u64,
}

/// Text form: `e=<events>@<offset>` then `;<job>=<lines>@<offset>` for each job read from,
/// e.g. `e=12@3456;build=340@18234`. Job names are Compose service names, which hold no
/// `;`, `=` or `@`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub events: FilePlace,
    pub logs: BTreeMap<String, FilePlace>,
}

/// Why a `Last-Event-ID` is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an event id of this stream")]
pub struct BadCursor(pub String);

impl Cursor {
    pub fn parse(text: &str) -> Result<Cursor, BadCursor> {
        let bad = || BadCursor(text.chars().take(200).collect());
        let mut parts = text.split(';');
        let events = parts
            .next()
            .and_then(|first| first.strip_prefix("e="))
            .and_then(parse_place)
            .ok_or_else(bad)?;
        let mut logs = BTreeMap::new();
        for part in parts {
            let (job, place) = part.split_once('=').ok_or_else(bad)?;
            let place = parse_place(place).ok_or_else(bad)?;
            if job.is_empty() || logs.insert(job.to_owned(), place).is_some() {
                return Err(bad());
            }
        }
        Ok(Cursor { events, logs })
    }
}

fn parse_place(text: &str) -> Option<FilePlace> {
    let (lines, offset) = text.split_once('@')?;
    let place = FilePlace {
        lines: lines.parse().ok()?,
        offset: offset.parse().ok()?,
    };
    // No line is shorter than its newline.
    (place.offset >= place.lines).then_some(place)
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "e={}@{}", self.events.lines, self.events.offset)?;
        for (job, place) in &self.logs {
            if place.lines > 0 || place.offset > 0 {
                write!(f, ";{job}={}@{}", place.lines, place.offset)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_writes() {
        let mut cursor = Cursor::default();
        assert_eq!(cursor.to_string(), "e=0@0");
        cursor.events = FilePlace {
            lines: 12,
            offset: 3456,
        };
        cursor.logs.insert(
            "build".to_owned(),
            FilePlace {
                lines: 340,
                offset: 18234,
            },
        );
        cursor.logs.insert("idle".to_owned(), FilePlace::default());
        let text = cursor.to_string();
        assert_eq!(text, "e=12@3456;build=340@18234");
        let mut back = Cursor::parse(&text).expect("parses");
        back.logs.insert("idle".to_owned(), FilePlace::default());
        assert_eq!(back, cursor);
    }

    #[test]
    fn ids_that_are_not_ours_are_refused() {
        for text in [
            "",
            "12",
            "e=1",
            "e=x@2",
            "e=3@2",
            "e=1@9;build",
            "e=1@9;=1@4",
            "e=1@9;a=1@4;a=2@8",
            "e=1@9;a=-1@4",
        ] {
            assert!(Cursor::parse(text).is_err(), "{text:?} was taken");
        }
    }
}
