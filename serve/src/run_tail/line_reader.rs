//! Reads a growing file of lines from a place in it, whole lines only: a line being written
//! is held back until its newline arrives, or until the writer is known to be done.

use super::cursor::FilePlace;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// The most a single read takes from one file, so one busy job cannot hold up the others or
/// fill the memory of a slow client's stream.
pub const READ_BUDGET: usize = 256 * 1024;

/// A line as read: its bytes without the newline, and how many bytes of the file it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    pub text: Vec<u8>,
    pub size: u64,
}

#[derive(Debug)]
pub struct LineReader {
    path: PathBuf,
    file: Option<File>,
    /// What has been handed out.
    place: FilePlace,
    /// Bytes read after `place` that do not end in a newline yet.
    pending: Vec<u8>,
}

/// What a place in a file says about the file: it is past its end, or not after a newline.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("`{}` has no line ending at byte {offset}", path.display())]
    NotALineEnd { path: PathBuf, offset: u64 },
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl LineReader {
    pub fn new(path: PathBuf, place: FilePlace) -> LineReader {
        LineReader {
            path,
            file: None,
            place,
            pending: Vec::new(),
        }
    }

    pub fn place(&self) -> FilePlace {
        self.place
    }

    /// The whole lines added since the last read (at most about [`READ_BUDGET`] bytes);
    /// with `writer_done`, also a last line that never got its newline. A file that does
    /// not exist yet has no lines.
    pub fn read(&mut self, writer_done: bool) -> Result<Vec<RawLine>, PlaceError> {
        let read_error = |source| PlaceError::Read {
            path: self.path.clone(),
            source,
        };
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(file) => self.file = Some(self.opened_at_place(file)?),
                Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(error) => return Err(read_error(error)),
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        let start = self.pending.len();
        self.pending.resize(start + READ_BUDGET, 0);
        let read = loop {
            match file.read(&mut self.pending[start..]) {
                Ok(read) => break read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    self.pending.truncate(start);
                    return Err(read_error(error));
                }
            }
        };
        self.pending.truncate(start + read);
        let whole = match self.pending.iter().rposition(|byte| *byte == b'\n') {
            Some(last_newline) => last_newline + 1,
            // A line no pump writes (they cut at 64 KiB) is cut here too, so memory stays
            // bounded whatever the file holds.
            None if writer_done || self.pending.len() >= READ_BUDGET => self.pending.len(),
            None => 0,
        };
        let rest = self.pending.split_off(whole);
        let taken = std::mem::replace(&mut self.pending, rest);
        let mut lines = Vec::new();
        for line in taken.split_inclusive(|byte| *byte == b'\n') {
            let size = line.len() as u64;
            self.place.offset += size;
            self.place.lines += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(line).to_vec();
            lines.push(RawLine { text, size });
        }
        Ok(lines)
    }

    /// `file` positioned at the place, once the place is seen to be right after a newline.
    fn opened_at_place(&self, mut file: File) -> Result<File, PlaceError> {
        let offset = self.place.offset;
        let not_a_line_end = || PlaceError::NotALineEnd {
            path: self.path.clone(),
            offset,
        };
        let read_error = |source| PlaceError::Read {
            path: self.path.clone(),
            source,
        };
        if offset > 0 {
            let length = file.metadata().map_err(read_error)?.len();
            if offset > length {
                return Err(not_a_line_end());
            }
            let mut before = [0u8; 1];
            file.seek(SeekFrom::Start(offset - 1)).map_err(read_error)?;
            file.read_exact(&mut before).map_err(read_error)?;
            if before[0] != b'\n' {
                return Err(not_a_line_end());
            }
        }
        Ok(file)
    }
}
