//! Paths between the files of a project, worked out on their text alone (no disk).

use std::path::{Component, Path, PathBuf};

/// `path` as written in `naming_file`, joined to that file's folder and tidied:
/// `pipelines/ci.yml` naming `../base.yml` gives `base.yml`.
pub(crate) fn joined(naming_file: &str, path: &str) -> String {
    let folder = Path::new(naming_file).parent().unwrap_or(Path::new(""));
    display(&tidy(&folder.join(path)))
}

/// `path` inside `folder` (both relative to the working directory), tidied.
pub(crate) fn within(folder: &str, path: &str) -> String {
    display(&tidy(&Path::new(folder).join(path)))
}

/// The folder of a file, as a path string (`""` for the working directory).
pub(crate) fn folder_of(file: &str) -> String {
    display(&tidy(Path::new(file).parent().unwrap_or(Path::new(""))))
}

/// `path` (relative to the folder `from`) seen from the folder `to`, when that can be
/// worked out without the disk; `None` when `to` climbs out of where `from` is.
pub(crate) fn rebased(path: &str, from: &str, to: &str) -> Option<String> {
    if Path::new(path).is_absolute() {
        return Some(path.to_owned());
    }
    let target = tidy(&Path::new(from).join(path));
    let to = tidy(Path::new(to));
    if target.is_absolute() != to.is_absolute() {
        return None;
    }
    let target_parts: Vec<Component<'_>> = target.components().collect();
    let to_parts: Vec<Component<'_>> = to.components().collect();
    let common = target_parts
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let climbs = to_parts.get(common..).unwrap_or_default();
    if climbs.contains(&Component::ParentDir) {
        return None;
    }
    let mut relative = PathBuf::new();
    for _ in climbs {
        relative.push("..");
    }
    for part in target_parts.get(common..).unwrap_or_default() {
        relative.push(part);
    }
    let shown = display(&relative);
    Some(if shown.is_empty() {
        ".".to_owned()
    } else if shown.starts_with("..") {
        shown
    } else {
        format!("./{shown}")
    })
}

/// Removes `.` and `a/..` without looking at the disk (a leading `..` stays).
fn tidy(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            Component::ParentDir if matches!(parts.last(), Some(Component::RootDir)) => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_to_the_naming_files_folder() {
        assert_eq!(joined("ci.yml", "base.yml"), "base.yml");
        assert_eq!(joined("pipelines/ci.yml", "../base.yml"), "base.yml");
        assert_eq!(joined("a/b/ci.yml", "./c/../d.yml"), "a/b/d.yml");
        assert_eq!(joined("/srv/ci.yml", "/etc/x.yml"), "/etc/x.yml");
        assert_eq!(joined("ci.yml", "../up.yml"), "../up.yml");
        assert_eq!(folder_of("ci.yml"), "");
        assert_eq!(folder_of("a/./b/ci.yml"), "a/b");
    }

    #[test]
    fn relative_paths_are_rebased_onto_the_main_files_folder() {
        assert_eq!(rebased("./app", "base", "").as_deref(), Some("./base/app"));
        assert_eq!(
            rebased("./app", "base", "pipelines").as_deref(),
            Some("../base/app")
        );
        assert_eq!(rebased(".", "", "").as_deref(), Some("."));
        assert_eq!(rebased("../x", "a/b", "a").as_deref(), Some("./x"));
        assert_eq!(rebased("/abs", "a", "b").as_deref(), Some("/abs"));
        assert_eq!(rebased("x", "y", "../z"), None);
    }
}
