//! Owner-only files (SPEC §7, §13): the register's folder is 0700 and the database (with
//! its `-wal` and `-shm`), `config.json` and the operations journal are 0600 on Unix, so
//! another account on the same computer cannot read the password hashes or the session
//! secret. Files are created that way and tightened when found wider; nothing here ever
//! loosens a permission. On Windows the user's profile folder protects them (its ACLs).

use std::fs::OpenOptions;
use std::path::Path;

use crate::error::{Error, Result};

/// Owner read/write only.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// Owner read/write/search only.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// Creates `dir` and any missing parents; the folders it creates are owner-only.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder
        .create(dir)
        .map_err(|e| Error::io("create the folder", dir, e))
}

/// Makes new files of `opts` owner-only (existing files keep their mode: see [`tighten`]).
pub(crate) fn new_file_options(opts: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(FILE_MODE);
    }
    opts
}

/// Takes group and other permissions away from `path` (a file or a folder) when it has
/// any; a path that does not exist is left alone. A file system without Unix permissions
/// (a FAT stick in portable mode) may refuse: that is logged, never fatal, because the
/// register must still open there.
pub(crate) fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            // The owner's own bits stay as they are: only group and others lose theirs.
            if let Err(e) =
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !0o077))
            {
                tracing::warn!(path = %path.display(), error = %e, "could not make it owner-only");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The database file with its `-wal` and `-shm` beside it.
pub(crate) fn tighten_database(db: &Path) {
    tighten(db);
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        tighten(Path::new(&side));
    }
}
