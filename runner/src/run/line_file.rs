//! An append-only file of whole lines that survives a full disk without a gap.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// How much a file that cannot be written keeps in memory for a later try; past that it
/// gives up (the run already knows its disk is full).
const MAX_UNWRITTEN_BYTES: usize = 4 * 1024 * 1024;

/// Appends lines with one `write` each, unbuffered, so a killed process leaves at most a
/// partial last line. What a full disk refused is kept and written first on the next
/// append, so the file never skips a line it later holds.
#[derive(Debug)]
pub(super) struct LineFile {
    file: File,
    unwritten: Vec<u8>,
    given_up: bool,
}

impl LineFile {
    /// Creates the file; an existing one (or a symlink where it goes) is refused, so
    /// nothing a job put there is appended to.
    pub(super) fn create(path: &Path) -> io::Result<Self> {
        let file = File::options().append(true).create_new(true).open(path)?;
        Ok(Self {
            file,
            unwritten: Vec::new(),
            given_up: false,
        })
    }

    /// Appends `line` (which ends in a newline) after whatever an earlier failure left
    /// unwritten.
    pub(super) fn append(&mut self, line: &[u8]) -> io::Result<()> {
        if self.given_up {
            return Ok(());
        }
        if self.unwritten.len() + line.len() > MAX_UNWRITTEN_BYTES {
            self.given_up = true;
            self.unwritten = Vec::new();
            return Ok(());
        }
        self.unwritten.extend_from_slice(line);
        while !self.unwritten.is_empty() {
            match self.file.write(&self.unwritten) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                // A short write keeps its part: the rest follows it, not a second copy.
                Ok(written) => drop(self.unwritten.drain(..written)),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_and_an_existing_file_is_refused() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        let mut file = LineFile::create(&path)?;
        file.append(b"one\n")?;
        file.append(b"two\n")?;
        assert_eq!(std::fs::read_to_string(&path)?, "one\ntwo\n");
        assert!(LineFile::create(&path).is_err());
        Ok(())
    }

    #[test]
    fn what_a_full_disk_refused_is_written_before_the_next_line() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        let mut file = LineFile::create(&path)?;
        // /dev/full refuses every write with ENOSPC, as a full disk does.
        let mut full = LineFile {
            file: File::options().write(true).open("/dev/full")?,
            unwritten: Vec::new(),
            given_up: false,
        };
        assert!(full.append(b"kept\n").is_err());
        std::mem::swap(&mut full.file, &mut file.file);
        full.append(b"next\n")?;
        assert_eq!(std::fs::read_to_string(&path)?, "kept\nnext\n");
        Ok(())
    }
}
