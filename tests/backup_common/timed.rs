//! Backups made at chosen times: the core's clock seam (`Store::with_clock`) decides each
//! backup's manifest date and file name, so retention tests build weeks of backups in
//! seconds without sleeping. Real files, the real backup path (snapshot, archive, read
//! back, `.sha256`), nothing mocked.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use atslegas_core::backup::{self, AesMode, BackupRequest, Kind};
use atslegas_core::store::Security;
use atslegas_core::work::{Cancel, Locations};
use atslegas_core::{Actor, Store};
use atslegas_tests::Cli;

/// One day in seconds.
pub const DAY: i64 = 86_400;
/// Monday 5 January 2026, 12:00 UTC. Noon UTC is the same calendar day in every time
/// zone within ±11 hours, so the local-calendar rules give the same answer here as in UTC.
pub const MONDAY_NOON: i64 = 1_767_614_400;

/// A store on a CLI data folder whose clock the test sets.
pub struct TimedStore {
    pub store: Store,
    pub loc: Locations,
    clock: Arc<AtomicI64>,
}

impl TimedStore {
    pub fn open(cli: &Cli) -> TimedStore {
        let clock = Arc::new(AtomicI64::new(MONDAY_NOON));
        let c = clock.clone();
        let store = Store::open(&cli.db_path(), Security::default())
            .expect("open the CLI's database through the core")
            .with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
        TimedStore {
            store,
            loc: cli.locations(),
            clock,
        }
    }

    pub fn set_now(&self, at: i64) {
        self.clock.store(at, Ordering::SeqCst);
    }

    /// A verified full backup into `dest`, made "at" `at`; returns the archive.
    pub fn backup_at(&mut self, actor: &Actor, dest: &Path, at: i64, pinned: bool) -> PathBuf {
        self.backup_kind_at(actor, dest, at, pinned, Kind::Full)
    }

    pub fn backup_kind_at(
        &mut self,
        actor: &Actor,
        dest: &Path,
        at: i64,
        pinned: bool,
        kind: Kind,
    ) -> PathBuf {
        self.set_now(at);
        let req = BackupRequest {
            kind,
            destination: dest.to_path_buf(),
            site: "Atslegas".into(),
            reason: None,
            passphrase: None,
            aes: AesMode::Aes256,
            dry_run: false,
            pinned,
            compress: true,
        };
        let r = backup::create(
            &mut self.store,
            actor,
            &self.loc,
            &req,
            &mut |_| {},
            &Cancel::new(),
        )
        .unwrap_or_else(|e| panic!("backup at {at}: {}", e.message()));
        assert!(r.verified, "the backup at {at} verified");
        assert_eq!(
            r.manifest.created_at, at,
            "the manifest carries the clock's time"
        );
        r.file
    }
}

/// The archive and `.sha256` file names in `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.starts_with("atslegas-"))
        .collect();
    v.sort();
    v
}

/// The file name of a path.
pub fn name(p: &Path) -> String {
    p.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}
