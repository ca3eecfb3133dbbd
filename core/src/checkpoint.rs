//! Moves the write-ahead log into the database file off the commit path.
//!
//! Every commit waits for its WAL frames to reach the disk (`synchronous = FULL`: a
//! handover that was committed survives a power cut). Copying the WAL back into the
//! database file (a checkpoint) is separate work, and SQLite's default does it inside
//! the commit that crosses 1,000 WAL pages: that commit then also writes and syncs a few
//! megabytes, and a handover at the Desk waits 5-50 ms instead of about 1 ms.
//!
//! A [`Checkpointer`] does it on its own thread and connection instead, when the register
//! is idle:
//! - after [`Timing::idle`] (about a second) without a commit, a `PASSIVE` checkpoint: it
//!   never waits for a lock and never blocks a writer; a commit that lands meanwhile only
//!   means it runs again after the next idle second;
//! - after [`Timing::long_idle`] without a commit, a `TRUNCATE` checkpoint, which also
//!   empties the `-wal` file on disk. Its connection has no busy timeout, so it gives up
//!   at once (and tries again later) rather than hold a writer up.
//!
//! Under writes back to back (an import, a script) there is never an idle second, so
//! SQLite's own automatic checkpoint stays as the backstop, raised to
//! [`WAL_BACKSTOP_PAGES`]: the WAL holds at most that many pages (40 MiB at SQLite's
//! 4 KiB pages, plus the frames of the one transaction that crosses it) before a commit
//! checkpoints it in line, as it always did. At a desk that is one handover in several
//! hundred back to back, and none when people come one at a time.
//!
//! The commit hook (rusqlite's `hooks` feature) tells the thread about every commit on
//! the store's connection, whatever wrote it: the write path, an export's audit row, a
//! restore. Dropping the checkpointer stops and joins its thread.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// SQLite's automatic checkpoint threshold on every connection (`wal_autocheckpoint`),
/// in pages: the bound on the WAL when no idle moment comes.
pub const WAL_BACKSTOP_PAGES: i64 = 10_000;

/// How long the register must be idle before each kind of checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Without a commit this long, a `PASSIVE` checkpoint.
    pub idle: Duration,
    /// Without a commit this long, a `TRUNCATE` checkpoint (the `-wal` file emptied).
    pub long_idle: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            idle: Duration::from_secs(1),
            long_idle: Duration::from_secs(60),
        }
    }
}

/// What the thread knows about the writes it has to move.
#[derive(Debug)]
struct State {
    /// Commits so far: a checkpoint that saw a commit land meanwhile is not the last.
    commits: u64,
    /// When the last commit was seen.
    last_commit: Instant,
    /// Commits not yet known to be in the database file.
    pending: bool,
    /// Whether the `-wal` file was emptied since the last commit.
    truncated: bool,
    stop: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means the other side panicked; the state stays usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn committed(&self) {
        let mut s = self.lock();
        s.commits += 1;
        s.last_commit = Instant::now();
        s.pending = true;
        s.truncated = false;
        drop(s);
        self.wake.notify_one();
    }
}

/// The background checkpointer of one database file; see the module's documentation.
#[derive(Debug)]
pub struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing `path` on its own thread, told of each commit on `writer`.
    pub fn start(writer: &mut Connection, path: &Path, timing: Timing) -> Result<Checkpointer> {
        let own = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never wait for a lock: a busy moment is skipped, and tried again when idle.
        own.busy_timeout(Duration::ZERO)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                commits: 0,
                last_commit: Instant::now(),
                // Whatever an earlier run left in the WAL goes in after the first idle second.
                pending: true,
                truncated: false,
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let hook = Arc::clone(&shared);
        writer.commit_hook(Some(move || {
            hook.committed();
            false // false: let the commit go on
        }))?;
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || run(&own, &for_thread, timing))
            .map_err(|e| crate::error::Error::io("start the checkpoint thread for", path, e))?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The thread: waits for commits, then for idle time, then checkpoints.
fn run(conn: &Connection, shared: &Shared, timing: Timing) {
    let mut state = shared.lock();
    loop {
        if state.stop {
            return;
        }
        let idle_for = state.last_commit.elapsed();
        let (mode, wait) = if state.pending {
            ("PASSIVE", timing.idle)
        } else if !state.truncated {
            ("TRUNCATE", timing.long_idle)
        } else {
            state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        if idle_for < wait {
            state = shared
                .wake
                .wait_timeout(state, wait - idle_for)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            continue;
        }
        let commits = state.commits;
        drop(state);
        let done = checkpoint(conn, mode);
        state = shared.lock();
        let quiet = state.commits == commits;
        match done {
            // Every frame is in the database file and nothing was committed meanwhile.
            Ok(true) if quiet && mode == "PASSIVE" => state.pending = false,
            Ok(true) if quiet => state.truncated = true,
            Ok(_) => {
                // A reader or a writer was busy: try again after another idle period.
                state.last_commit = Instant::now();
            }
            Err(e) => {
                tracing::warn!(error = %e, mode, "background checkpoint failed; SQLite's own checkpoint still bounds the WAL");
                state.last_commit = Instant::now();
            }
        }
    }
}

/// Runs one checkpoint; true when the whole WAL is now in the database file.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<bool> {
    let r = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    match r {
        // (busy, frames in the WAL, frames checkpointed)
        Ok((busy, log, done)) => Ok(busy == 0 && log == done),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(idle_ms: u64, long_ms: u64) -> Timing {
        Timing {
            idle: Duration::from_millis(idle_ms),
            long_idle: Duration::from_millis(long_ms),
        }
    }

    /// A WAL database with a table, and its path.
    fn database(dir: &Path) -> (Connection, std::path::PathBuf) {
        let path = dir.join("db.sqlite");
        let conn = crate::db::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (b BLOB)").unwrap();
        // Start from an empty WAL: the schema itself is in the database file.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        (conn, path)
    }

    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// Waits up to 20 s for `cond` (a loaded machine may be slow to schedule the thread).
    fn eventually(cond: impl Fn() -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        cond()
    }

    fn write_blob(conn: &Connection, bytes: usize) {
        conn.execute("INSERT INTO t VALUES (zeroblob(?1))", [bytes as i64])
            .unwrap();
    }

    #[test]
    fn commits_reach_the_database_file_once_idle_and_the_wal_is_emptied_later() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, path) = database(dir.path());
        let before = size(&path);
        let _c = Checkpointer::start(&mut conn, &path, timing(100, 600)).unwrap();
        write_blob(&conn, 1 << 20);
        // The commit itself left the megabyte in the WAL (the backstop is far away).
        assert!(size(&path) < before + (1 << 20));
        assert!(size(&crate::db::wal_file(&path)) >= 1 << 20);
        assert!(
            eventually(|| size(&path) >= before + (1 << 20)),
            "the idle checkpoint copies the WAL into the database file"
        );
        assert!(
            eventually(|| size(&crate::db::wal_file(&path)) == 0),
            "after a long idle the -wal file is truncated"
        );
    }

    #[test]
    fn no_checkpoint_runs_while_commits_keep_coming() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, path) = database(dir.path());
        let before = size(&path);
        let _c = Checkpointer::start(&mut conn, &path, timing(1_500, 60_000)).unwrap();
        for _ in 0..20 {
            write_blob(&conn, 64 << 10);
            std::thread::sleep(Duration::from_millis(30));
        }
        assert_eq!(
            size(&path),
            before,
            "no idle second, so nothing was checkpointed in the database file"
        );
        assert!(eventually(|| size(&path) >= before + 20 * (64 << 10)));
    }

    #[test]
    fn a_reader_holding_an_older_snapshot_delays_the_checkpoint_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, path) = database(dir.path());
        let before = size(&path);
        let _c = Checkpointer::start(&mut conn, &path, timing(50, 60_000)).unwrap();
        let reader = Connection::open(&path).unwrap();
        let tx = reader.unchecked_transaction().unwrap();
        let seen = |tx: &rusqlite::Transaction| -> i64 {
            tx.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(seen(&tx), 0);
        write_blob(&conn, 1 << 20);
        std::thread::sleep(Duration::from_millis(500));
        // The reader keeps its snapshot, so the new frames cannot go into the file yet.
        assert_eq!(seen(&tx), 0);
        assert!(size(&path) < before + (1 << 20));
        drop(tx);
        assert!(
            eventually(|| size(&path) >= before + (1 << 20)),
            "tried again after the reader ended"
        );
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[test]
    fn dropping_it_stops_its_thread_and_commits_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, path) = database(dir.path());
        let c = Checkpointer::start(&mut conn, &path, timing(60_000, 60_000)).unwrap();
        write_blob(&conn, 1024);
        let started = Instant::now();
        drop(c);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the thread ends when dropped"
        );
        write_blob(&conn, 1024);
    }

    #[test]
    fn a_store_started_with_one_checkpoints_its_own_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("register.db");
        let mut store =
            crate::store::Store::open(&path, crate::store::Security::default()).unwrap();
        store.start_checkpointer(timing(50, 200)).unwrap();
        // A second start keeps the one running.
        store.start_checkpointer(timing(50, 200)).unwrap();
        store
            .conn()
            .execute_batch("CREATE TABLE t (b BLOB); INSERT INTO t VALUES (zeroblob(65536));")
            .unwrap();
        assert!(size(&crate::db::wal_file(&path)) > 0);
        assert!(
            eventually(|| size(&crate::db::wal_file(&path)) == 0),
            "the store's commits reach the file and the WAL is emptied"
        );
        let mut memory = crate::store::Store::open_in_memory().unwrap();
        memory.start_checkpointer(timing(50, 200)).unwrap();
    }

    #[test]
    fn every_connection_bounds_the_wal_by_the_backstop() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = database(dir.path());
        let pages: i64 = conn
            .pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))
            .unwrap();
        assert_eq!(pages, WAL_BACKSTOP_PAGES);
    }
}
