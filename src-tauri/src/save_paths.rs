//! Where the window may write a file the page names (issue 11, finding 9). The page is
//! not trusted with paths: it passes back a string, and any script running in it could
//! pass another. So the shell remembers what the native save dialog answered (a grant:
//! single use, for a few minutes), and a path it did not answer may only name a NEW
//! file in an EXISTING folder ([`check_typed`]): never a file that is there already.
//!
//! Never: write over an existing file the user did not choose in the dialog. The backup
//! destination is a folder, not a file, and keeps its own rule (the core writes only
//! new names in it); this module is for the exports.
//!
//! Why the shell and not the core: the core's export functions serve the CLI too, whose
//! paths are typed by the account that owns the files anyway; only the window has a
//! page between the user and the path.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use atslegas_core::Error;
use serde_json::json;

use crate::error::CmdResult;

/// How long a path the dialog answered stays granted: enough to start the export the
/// dialog was opened for.
const GRANT_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// At most this many unused grants are kept (the oldest go first).
const MAX_GRANTS: usize = 16;

/// The paths the save dialog answered and no export has used yet.
#[derive(Default)]
pub struct SaveGrants(Mutex<Vec<(PathBuf, Instant)>>);

impl SaveGrants {
    /// Remembers a path the user chose in the save dialog (or its end-to-end stand-in).
    pub fn grant(&self, path: &Path) {
        self.grant_at(path, Instant::now());
    }

    fn grant_at(&self, path: &Path, now: Instant) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.retain(|(p, at)| p != path && now.duration_since(*at) < GRANT_LIFETIME);
        g.push((path.to_path_buf(), now));
        let extra = g.len().saturating_sub(MAX_GRANTS);
        g.drain(..extra);
    }

    /// Whether the dialog answered `path` lately; the grant is used up either way.
    fn take_at(&self, path: &Path, now: Instant) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let found = g.iter().position(|(p, _)| p == path).map(|i| g.remove(i));
        found.is_some_and(|(_, at)| now.duration_since(at) < GRANT_LIFETIME)
    }

    /// The path an export may write, from the page's string: one the dialog answered
    /// (used up now), or else one [`check_typed`] allows.
    pub fn writable(&self, out: &str) -> CmdResult<PathBuf> {
        let path = PathBuf::from(out);
        if !self.take_at(&path, Instant::now()) {
            check_typed(&path)?;
        }
        Ok(path)
    }
}

/// The rule for a path the save dialog did not answer: an absolute path naming a new
/// file (nothing there, not even a dangling link, and no `NAME.partial` the export
/// would write first) in a folder that exists. Another program could still create the
/// file before the export renames its own into place; the page cannot.
pub fn check_typed(path: &Path) -> Result<(), Error> {
    let shown = path.display().to_string();
    let folder = path.parent().filter(|f| !f.as_os_str().is_empty());
    let (Some(folder), Some(_), true) = (folder, path.file_name(), path.is_absolute()) else {
        return Err(Error::invalid_rule(
            "out",
            "save_path_not_absolute",
            json!({ "path": shown }),
            format!("\"{shown}\" is not the full path of a file; choose the file with Save…"),
        ));
    };
    if !folder.is_dir() {
        return Err(Error::invalid_rule(
            "out",
            "save_path_no_folder",
            json!({ "path": shown, "folder": folder.display().to_string() }),
            format!(
                "the folder {} does not exist; choose the file with Save…",
                folder.display()
            ),
        ));
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    for p in [path, Path::new(&partial)] {
        // symlink_metadata: a link is there even when what it points at is not.
        if p.symlink_metadata().is_ok() {
            let there = p.display().to_string();
            return Err(Error::invalid_rule(
                "out",
                "save_path_exists",
                json!({ "path": there }),
                format!(
                    "{there} already exists, and the window writes over a file only when it \
                     was chosen in the Save dialog; choose the file with Save… (or give a \
                     new name)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder under the system's temporary folder, removed when dropped.
    struct Folder(PathBuf);

    impl Folder {
        fn new(name: &str) -> Folder {
            let p = std::env::temp_dir()
                .join(format!("atslegas-save-paths-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Folder(p)
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn rule(r: Result<(), Error>) -> &'static str {
        match r {
            Err(Error::Invalid { rule, .. }) => rule,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_new_file_in_an_existing_folder_may_be_typed() {
        let d = Folder::new("new");
        assert!(check_typed(&d.0.join("keylog.csv")).is_ok());
    }

    #[test]
    fn an_existing_file_is_refused_and_left_alone() {
        let d = Folder::new("exists");
        let f = d.0.join("report.xlsx");
        std::fs::write(&f, b"precious").unwrap();
        let e = check_typed(&f).unwrap_err();
        assert!(e.message().contains(&f.display().to_string()), "{e}");
        assert!(e.message().contains("Save…"), "{e}");
        assert_eq!(rule(Err(e)), "save_path_exists");
        assert_eq!(std::fs::read(&f).unwrap(), b"precious");
        // A folder is something there too.
        assert_eq!(rule(check_typed(&d.0)), "save_path_exists");
    }

    #[test]
    fn a_file_whose_partial_exists_is_refused() {
        let d = Folder::new("partial");
        std::fs::write(d.0.join("a.csv.partial"), b"someone's").unwrap();
        assert_eq!(rule(check_typed(&d.0.join("a.csv"))), "save_path_exists");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_refused() {
        let d = Folder::new("link");
        let link = d.0.join("a.csv");
        std::os::unix::fs::symlink(d.0.join("nowhere"), &link).unwrap();
        assert_eq!(rule(check_typed(&link)), "save_path_exists");
    }

    #[test]
    fn a_missing_folder_or_a_relative_path_is_refused() {
        let d = Folder::new("missing");
        assert_eq!(
            rule(check_typed(&d.0.join("no").join("a.csv"))),
            "save_path_no_folder"
        );
        assert_eq!(
            rule(check_typed(Path::new("a.csv"))),
            "save_path_not_absolute"
        );
        assert_eq!(rule(check_typed(Path::new("/"))), "save_path_not_absolute");
    }

    #[test]
    fn a_granted_path_is_writable_once_even_over_an_existing_file() {
        let d = Folder::new("grant");
        let f = d.0.join("audit.csv");
        std::fs::write(&f, b"old").unwrap();
        let out = f.display().to_string();
        let grants = SaveGrants::default();
        assert!(grants.writable(&out).is_err(), "not chosen in the dialog");
        grants.grant(&f);
        assert_eq!(grants.writable(&out).unwrap(), f);
        let again = grants.writable(&out).unwrap_err();
        assert_eq!(again.code, "invalid_input");
        assert_eq!(again.details["rule"], "save_path_exists");
    }

    #[test]
    fn a_grant_expires() {
        let grants = SaveGrants::default();
        let p = Path::new("/x/a.csv");
        let then = Instant::now();
        grants.grant_at(p, then);
        assert!(!grants.take_at(p, then + GRANT_LIFETIME));
        grants.grant_at(p, then);
        assert!(grants.take_at(p, then + GRANT_LIFETIME / 2));
        assert!(!grants.take_at(p, then + GRANT_LIFETIME / 2));
    }
}
