//! The bytes of a pipeline file as text: within the size cap, and UTF-8.

use crate::{MAX_PIPELINE_BYTES, Source};

/// Why bytes are not a pipeline file's text. Shown after the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceTextError {
    #[error("{name}:1:1: the pipeline file is larger than {} MiB; split it or trim it", MAX_PIPELINE_BYTES / (1024 * 1024))]
    TooLarge { name: String },
    #[error("{name}: not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { name: String, offset: usize },
}

impl Source {
    /// The file `name` from its bytes. Bytes past [`MAX_PIPELINE_BYTES`] are refused, so a
    /// reader may stop after one byte more.
    pub fn from_bytes(name: String, bytes: Vec<u8>) -> Result<Source, SourceTextError> {
        if bytes.len() > MAX_PIPELINE_BYTES {
            return Err(SourceTextError::TooLarge { name });
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source { name, text }),
            Err(error) => Err(SourceTextError::NotUtf8 {
                name,
                offset: error.utf8_error().valid_up_to(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_the_cap_is_taken_and_the_rest_refused_by_name() {
        let source = Source::from_bytes("ci.yml".into(), b"services: {}\n".to_vec());
        assert_eq!(source.map(|s| s.text), Ok("services: {}\n".to_owned()));
        let large = Source::from_bytes("ci.yml".into(), vec![b'#'; MAX_PIPELINE_BYTES + 1]);
        assert_eq!(
            large.map(drop).map_err(|e| e.to_string()),
            Err("ci.yml:1:1: the pipeline file is larger than 2 MiB; split it or trim it".into())
        );
        let binary = Source::from_bytes("ci.yml".into(), b"ab\xffcd".to_vec());
        assert_eq!(
            binary.map(drop).map_err(|e| e.to_string()),
            Err("ci.yml: not UTF-8 text (invalid byte at offset 2)".into())
        );
    }
}
