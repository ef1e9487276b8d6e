//! Paths tidied as text, without asking the file system (which may not have them yet).

use std::path::{Component, Path, PathBuf};

/// `a/./b/../c` as `a/c`; a `..` above the start stays, one above `/` goes.
pub fn normalized(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir) => {}
                _ => parts.push(component),
            },
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::normalized;
    use std::path::Path;

    #[test]
    fn dot_dot_is_resolved_without_the_file_system() {
        assert_eq!(
            normalized(Path::new("/r/sub/../x.yml")),
            Path::new("/r/x.yml")
        );
        assert_eq!(normalized(Path::new("/r/./a/b/../../c")), Path::new("/r/c"));
        assert_eq!(normalized(Path::new("/../x")), Path::new("/x"));
        assert_eq!(normalized(Path::new("../x")), Path::new("../x"));
    }
}
