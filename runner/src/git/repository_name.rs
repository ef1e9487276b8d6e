//! What the service calls a repository, in URLs and folder names; the post-receive hook
//! names it the same way when it tells the server.

use std::path::Path;

/// The name of the repository whose work tree (or bare folder) is `root`: the folder's, a
/// `.git` dropped, anything else than letters, digits, `-`, `_` and `.` made a `-`.
pub fn repository_name(root: &Path) -> String {
    let folder = match root.file_name() {
        Some(name) if name == ".git" => root.parent().and_then(Path::file_name),
        other => other,
    };
    let folder = folder
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = folder.strip_suffix(".git").unwrap_or(&folder);
    let name: String = folder
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                true => c,
                false => '-',
            },
        )
        .collect();
    let name = name.trim_start_matches('.').to_owned();
    match is_repository_name(&name) {
        true => name,
        false => "repository".to_owned(),
    }
}

/// Whether `name` may name a repository: it becomes a folder under `runs/` and part of
/// URLs, so letters, digits, `-`, `_` and `.`, not starting with a dot.
pub fn is_repository_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_is_named_after_its_folder() {
        assert_eq!(repository_name(Path::new("/src/app")), "app");
        assert_eq!(repository_name(Path::new("/src/app/")), "app");
        assert_eq!(repository_name(Path::new("/srv/git/app.git")), "app");
        assert_eq!(repository_name(Path::new("/src/my app/.git")), "my-app");
        assert_eq!(repository_name(Path::new("/src/.hidden")), "hidden");
        assert_eq!(repository_name(Path::new("/")), "repository");
    }

    #[test]
    fn repository_names_are_plain_folder_names() {
        for good in ["app", "my-app_2", "app.git"] {
            assert!(is_repository_name(good), "{good}");
        }
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", "../x", "é"] {
            assert!(!is_repository_name(bad), "{bad}");
        }
    }
}
