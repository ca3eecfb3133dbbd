//! The online snapshot: SQLite's backup API driven step by step from its own connection,
//! so the app keeps running, the UI gets progress, and the user can cancel.
//!
//! The source connection holds one read transaction for the whole copy. In WAL mode that
//! pins one consistent version of the database: writers in the app go on committing to
//! the WAL, and the copy neither sees them nor restarts (a plain `run_to_completion`
//! with small steps restarts on every write and may never finish).

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::work::{Cancel, Progress};

/// Pages copied per step (4 MiB at the default page size): large enough to be quick,
/// small enough for a smooth progress bar and a prompt cancel.
const STEP_PAGES: std::ffi::c_int = 1024;
/// How many times a busy or locked source is retried before giving up.
const MAX_BUSY_RETRIES: u32 = 200;

/// Copies the database at `source` into a new file `target` (which must not exist) and
/// leaves it as a self-contained rollback-journal database (no -wal file needed).
pub(crate) fn snapshot(
    source: &Path,
    target: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<()> {
    let mut src = Connection::open(source)?;
    crate::db::wait_for_locks(&mut src, Duration::from_secs(10))?;
    // Pin one version of the database for the whole copy (see the module comment).
    src.execute_batch("BEGIN DEFERRED; SELECT count(*) FROM sqlite_master;")?;
    let mut dst = Connection::open(target)?;
    // A scratch file, read back in this process and removed: flushing it to the disk
    // (about 0.6 s a gigabyte) would protect nothing. The archive made from it is
    // flushed before it gets its final name.
    dst.pragma_update(None, "synchronous", "OFF")?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        let mut retries = 0;
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            match backup.step(STEP_PAGES)? {
                StepResult::Done => break,
                StepResult::More => {
                    let p = backup.progress();
                    let total = p.pagecount.max(1) as u64;
                    progress(Progress::new("snapshot", total - p.remaining as u64, total));
                }
                StepResult::Busy | StepResult::Locked => {
                    retries += 1;
                    if retries > MAX_BUSY_RETRIES {
                        return Err(Error::BackupFailed {
                            step: "snapshot".into(),
                            reason: "the database stayed locked by another program for too long"
                                .into(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                _ => {}
            }
        }
    }
    src.execute_batch("COMMIT")?;
    drop(src);
    // A standalone file: no WAL beside it inside the archive.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    drop(dst);
    progress(Progress::new("snapshot", 1, 1));
    Ok(())
}
