//! The files a pipeline names besides itself (`include`, `extends.file`, `.env`), read for
//! [`pipekit_schema::parse_with`] from the disk.

use pipekit_schema::{FileReader, MAX_PIPELINE_BYTES};
use std::io::Read;
use std::path::PathBuf;

/// Reads paths relative to a folder (the working directory the pipeline's path is
/// relative to), capped at the pipeline size limit.
#[derive(Debug, Clone)]
pub struct DiskFiles {
    base: PathBuf,
}

impl DiskFiles {
    pub fn new(base: impl Into<PathBuf>) -> Self {
        Self { base: base.into() }
    }
}

impl FileReader for DiskFiles {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        let file = match std::fs::File::open(self.base.join(path)) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.to_string()),
        };
        let mut bytes = Vec::new();
        file.take(MAX_PIPELINE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| error.to_string())?;
        if bytes.len() > MAX_PIPELINE_BYTES {
            return Err(format!("larger than {MAX_PIPELINE_BYTES} bytes"));
        }
        String::from_utf8(bytes).map(Some).map_err(|error| {
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                error.utf8_error().valid_up_to()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_none_and_a_binary_one_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("base.yml"), "services: {}\n").expect("write");
        std::fs::write(dir.path().join("binary"), b"a\xffb").expect("write");
        let files = DiskFiles::new(dir.path());
        assert_eq!(
            files.read("base.yml"),
            Ok(Some("services: {}\n".to_owned()))
        );
        assert_eq!(files.read("missing.yml"), Ok(None));
        assert_eq!(
            files.read("binary"),
            Err("not UTF-8 text (invalid byte at offset 1)".to_owned())
        );
    }
}
