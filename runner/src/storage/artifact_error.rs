//! What can go wrong while packing or unpacking artifacts.

use std::io;
use std::path::PathBuf;

/// Why artifacts could not be packed or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// A pattern is not a valid glob.
    #[error("invalid artifact pattern `{pattern}`")]
    InvalidPattern {
        /// The pattern as written.
        pattern: String,
        /// What globset said.
        source: globset::Error,
    },

    /// A pattern is absolute or climbs out with `..`.
    #[error("artifact pattern `{pattern}` reaches outside the source tree")]
    PatternOutsideTree {
        /// The pattern as written.
        pattern: String,
    },

    /// A pattern matched nothing, which is almost always a typo or a build that did not run.
    #[error("artifact pattern `{pattern}` matched no files")]
    NoMatch {
        /// The pattern as written.
        pattern: String,
    },

    /// A symlink to be packed points outside the source tree.
    #[error("symlink `{}` points outside the source tree (to `{}`)", entry.display(), target.display())]
    SymlinkOutsideTree {
        /// The symlink, relative to the source tree.
        entry: PathBuf,
        /// Where it points.
        target: PathBuf,
    },

    /// Something in the source tree could not be read.
    #[error("failed to read `{}`", path.display())]
    ReadSource {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },

    /// The archive could not be written.
    #[error("failed to write archive `{}`", path.display())]
    WriteArchive {
        /// The archive.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },

    /// The archive could not be read or is not a zstd-compressed tar.
    #[error("failed to read archive `{}`", path.display())]
    ReadArchive {
        /// The archive.
        path: PathBuf,
        /// What the OS or the decoder said.
        source: io::Error,
    },

    /// An entry that would land outside the destination, or that cannot be trusted.
    #[error("refused archive entry `{entry}`: {reason}")]
    Refused {
        /// The entry's path as stored in the archive.
        entry: String,
        /// Why.
        reason: String,
    },

    /// The archive unpacks to more bytes than allowed.
    #[error("archive `{}` unpacks to more than {limit} bytes", path.display())]
    TooLarge {
        /// The archive.
        path: PathBuf,
        /// The limit it passed.
        limit: u64,
    },

    /// The archive holds more entries than allowed.
    #[error("archive `{}` has more than {limit} entries", path.display())]
    TooManyEntries {
        /// The archive.
        path: PathBuf,
        /// The limit it passed.
        limit: u64,
    },

    /// A job's artifacts add up to more bytes than allowed.
    #[error("artifacts of `{}` hold more than {limit} bytes", path.display())]
    OutputsTooLarge {
        /// The job's source tree.
        path: PathBuf,
        /// The limit they passed.
        limit: u64,
    },

    /// A job's artifacts hold more entries than allowed.
    #[error("artifacts of `{}` hold more than {limit} entries", path.display())]
    TooManyOutputs {
        /// The job's source tree.
        path: PathBuf,
        /// The limit they passed.
        limit: u64,
    },

    /// An entry could not be written into the destination.
    #[error("failed to extract `{}`", path.display())]
    Extract {
        /// Where it was being written.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}
