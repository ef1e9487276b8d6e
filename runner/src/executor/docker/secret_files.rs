//! Compose's `/run/secrets/<name>`: a job's secrets as files in its container.
//!
//! They are uploaded into the created container (the Engine API's archive upload) before it
//! starts, rather than bind-mounted from a host file: nothing is written to the host's disk
//! (not in the run folder, not in a temporary one that a kill -9 would leave behind), the
//! files go away with the container, and a job with any `user:` can read them.

use std::io;

use crate::secrets::SecretFile;

/// Where Compose puts a service's secrets.
pub const SECRETS_DIR: &str = "run/secrets";

/// A tar archive of `run/secrets/<name>` files, to be extracted at the container's `/`.
/// Read-only for everyone (mode 0444, owned by root), as Compose makes them; the folders
/// are created by the engine when the image lacks them.
pub fn secrets_archive(secrets: &[SecretFile]) -> io::Result<Vec<u8>> {
    let mut archive = tar::Builder::new(Vec::new());
    for secret in secrets {
        let mut header = tar::Header::new_gnu();
        header.set_size(secret.value.len() as u64);
        header.set_mode(0o444);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        archive.append_data(
            &mut header,
            format!("{SECRETS_DIR}/{}", secret.name),
            secret.value.as_bytes(),
        )?;
    }
    archive.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_secret_becomes_a_read_only_file_under_run_secrets() -> io::Result<()> {
        let secrets = [
            SecretFile {
                name: "api_token".to_owned(),
                value: "tok-12345678".to_owned(),
            },
            SecretFile {
                name: "key".to_owned(),
                value: "line one\nline two".to_owned(),
            },
        ];
        let bytes = secrets_archive(&secrets)?;
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut found = Vec::new();
        for entry in archive.entries()? {
            let mut entry = entry?;
            let mut text = String::new();
            entry.read_to_string(&mut text)?;
            let path = entry.path()?.display().to_string();
            found.push((path, entry.header().mode()?, text));
        }
        assert_eq!(
            found,
            [
                (
                    "run/secrets/api_token".to_owned(),
                    0o444,
                    "tok-12345678".to_owned()
                ),
                (
                    "run/secrets/key".to_owned(),
                    0o444,
                    "line one\nline two".to_owned()
                ),
            ]
        );
        Ok(())
    }
}
