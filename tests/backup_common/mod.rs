//! Shared by the backup tests (`mod backup_common;`): backups made and verified through the
//! CLI, whole-table dumps and fingerprints to compare databases, entries read out of an
//! archive with the `zip` crate and archives crafted by hand, the operations journal, and a
//! tmpfs mount that is always unmounted. Running the CLI and the set-up registers are in
//! `tests/support`. Real files, the real CLI, real mounts: nothing here is mocked.

// reason: each test file uses its own subset of these helpers.
#![allow(dead_code)]

pub mod timed;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atslegas_tests::{
    assert_success, column, open_raw, parse_json, rows, stderr, stdout, value, Cli,
};
use rusqlite::types::Value;
use rusqlite::Connection;

/// A passphrase that passes the core's strength rule (plain ASCII so 7-Zip reads it the
/// same way on every platform).
pub const PASSPHRASE: &str = "Kalns-Upe-Ezers-2026-Zirgs";

pub const DB_ENTRY: &str = "database.db";
pub const CONFIG_ENTRY: &str = "config.json";
pub const MANIFEST_ENTRY: &str = "manifest.json";

// ---------------------------------------------------------------------------------------
// Backups through the CLI

pub fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// `backup create --to DEST [extra] --json`, asserted verified; returns the archive.
pub fn backup_create(cli: &Cli, dest: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["backup", "create", "--to", s(dest)];
    args.extend_from_slice(extra);
    args.push("--json");
    let out = cli.run(&args);
    assert_success(&out, &args.join(" "));
    report_file(&out)
}

/// An encrypted backup with [`PASSPHRASE`] given on standard input.
pub fn backup_create_encrypted(cli: &Cli, dest: &Path) -> PathBuf {
    let args = [
        "backup",
        "create",
        "--to",
        s(dest),
        "--encrypt",
        "--passphrase-stdin",
        "--json",
    ];
    let out = cli.run_stdin(&args, &format!("{PASSPHRASE}\n"));
    assert_success(&out, &args.join(" "));
    report_file(&out)
}

fn report_file(out: &Output) -> PathBuf {
    let v = parse_json(out);
    assert_eq!(
        v["verified"], true,
        "a finished backup reports verified: {v}"
    );
    let file = PathBuf::from(v["file"].as_str().expect("the report names the file"));
    assert!(
        file.is_file(),
        "{} was reported but does not exist",
        file.display()
    );
    file
}

/// Files with a final backup name (`atslegas-*.zip`) in `dir`, sorted.
pub fn final_archives(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("atslegas-") && n.ends_with(".zip")
        })
        .collect();
    v.sort();
    v
}

/// Asserts `backup verify FILE` succeeds (exit 0, "intact").
pub fn assert_verifies(cli: &Cli, file: &Path) {
    let out = cli.run(&["backup", "verify", s(file)]);
    assert_success(&out, &format!("backup verify {}", file.display()));
    assert!(
        stdout(&out).contains("is intact"),
        "verify did not say intact: {}",
        stdout(&out)
    );
}

/// The `.sha256` file written beside an archive.
pub fn sidecar(archive: &Path) -> PathBuf {
    let name = archive.file_name().unwrap().to_string_lossy();
    archive.with_file_name(format!("{name}.sha256"))
}

/// Writes at `bad` an archive made as someone crafting one would: `db` as its database,
/// `archive`'s configuration, a manifest whose hashes match `db`, and a `.sha256` that
/// matches the new file, so only the deeper checks can refuse it.
pub fn write_crafted(bad: &Path, archive: &Path, db: &[u8]) {
    use sha2::{Digest, Sha256};
    let man = manifest_matching(archive, DB_ENTRY, db);
    write_zip(
        bad,
        &[
            (DB_ENTRY, db),
            (CONFIG_ENTRY, &read_entry(archive, CONFIG_ENTRY, None)),
            (MANIFEST_ENTRY, &serde_json::to_vec_pretty(&man).unwrap()),
        ],
    );
    std::fs::write(
        sidecar(bad),
        format!(
            "{}  {}\n",
            hex::encode(Sha256::digest(std::fs::read(bad).unwrap())),
            bad.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------
// Whole tables

pub type Rows = Vec<Vec<Value>>;

/// Every ordinary table (virtual FTS tables are left out: their content is the persons and
/// keys tables and their own shadow tables, which are ordinary tables and included).
pub fn tables(conn: &Connection) -> Vec<String> {
    column(
        conn,
        "SELECT name FROM sqlite_master
          WHERE type = 'table' AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL TABLE%'
          ORDER BY name",
    )
}

/// All rows of `table`, ordered by every column (so by id where the id comes first).
pub fn table_rows(conn: &Connection, table: &str) -> Rows {
    // Table names come from sqlite_master or the tests, never from input.
    let n = conn
        .prepare(&format!("SELECT * FROM \"{table}\""))
        .unwrap_or_else(|e| panic!("read {table}: {e}"))
        .column_count();
    let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT * FROM \"{table}\" ORDER BY {}",
            order.join(", ")
        ))
        .unwrap();
    let rows = stmt
        .query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

/// Every row of every table, by table name.
pub fn dump(conn: &Connection) -> BTreeMap<String, Rows> {
    tables(conn)
        .into_iter()
        .map(|t| {
            let rows = table_rows(conn, &t);
            (t, rows)
        })
        .collect()
}

/// Counts and a hash over every row of the tables a key desk's data lives in: equal
/// fingerprints mean equal persons, keys and key movements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub persons: usize,
    pub keys: usize,
    pub key_log: usize,
    pub hash: u64,
}

pub fn fingerprint(conn: &Connection) -> Fingerprint {
    // DefaultHasher::new() has fixed keys: the same rows give the same hash in this run.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut counts = [0usize; 3];
    for (i, t) in ["persons", "keys", "key_log"].iter().enumerate() {
        let rows = table_rows(conn, t);
        counts[i] = rows.len();
        t.hash(&mut h);
        for r in &rows {
            format!("{r:?}").hash(&mut h);
        }
    }
    Fingerprint {
        persons: counts[0],
        keys: counts[1],
        key_log: counts[2],
        hash: h.finish(),
    }
}

pub fn fingerprint_file(db: &Path) -> Fingerprint {
    fingerprint(&open_raw(db))
}

/// `PRAGMA integrity_check` (the full one) says ok.
pub fn assert_integrity_ok(conn: &Connection, what: &str) {
    let lines: Vec<String> = column(conn, "PRAGMA integrity_check");
    assert_eq!(lines, vec!["ok".to_string()], "integrity_check of {what}");
}

/// A consistent state of the register: SQLite's quick_check, no broken reference, every
/// key's status (and holder) equal to what its latest key-log row says, and an intact
/// audit hash chain.
pub fn assert_consistent(conn: &Connection, what: &str) {
    let quick: String = value(conn, "PRAGMA quick_check");
    assert_eq!(quick, "ok", "quick_check of {what}");
    let fk: i64 = value(conn, "SELECT count(*) FROM pragma_foreign_key_check");
    assert_eq!(fk, 0, "broken references in {what}");
    assert_keys_follow_their_log(conn, what);
    let report = atslegas_core::audit::verify(conn).expect("audit verify runs");
    assert!(
        report.ok,
        "the audit chain of {what} does not verify: {:?}",
        report.problems
    );
}

/// Each key's status equals its latest key-log row (the same order the schema's guard
/// uses: time, then id), and an issued key's holder is the person it was issued to.
pub fn assert_keys_follow_their_log(conn: &Connection, what: &str) {
    type Row = (String, String, Option<i64>, Option<String>, Option<i64>);
    let keys: Vec<Row> = rows(
        conn,
        "SELECT k.number, k.status, k.holder_person_id, l.action, l.person_id
           FROM keys k
           LEFT JOIN key_log l ON l.id = (SELECT id FROM key_log
                                           WHERE key_id = k.id
                                           ORDER BY at DESC, id DESC LIMIT 1)",
    );
    assert!(!keys.is_empty(), "{what} has no keys to check");
    for (number, status, holder, action, log_person) in keys {
        let ok = match action.as_deref() {
            Some("issued") => status == "issued" && holder == log_person,
            Some("lost") => status == "lost" && holder.is_none(),
            // Retiring is the one change outside the log, and only from available.
            None | Some("returned") | Some("found") => {
                (status == "available" || status == "retired") && holder.is_none()
            }
            Some(other) => panic!("key {number} in {what}: unknown action {other}"),
        };
        assert!(
            ok,
            "key {number} in {what} is {status} (holder {holder:?}) but its latest log row \
             says {action:?} (person {log_person:?})"
        );
    }
}

/// Asserts a table's rows equal the expected ones, naming the first difference.
pub fn assert_same_rows(table: &str, expected: &[Vec<Value>], actual: &[Vec<Value>]) {
    if expected == actual {
        return;
    }
    let first = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    panic!(
        "table {table} differs: {} rows expected, {} found; first difference at row {first}:\n\
         expected {:?}\n   found {:?}",
        expected.len(),
        actual.len(),
        expected.get(first),
        actual.get(first)
    );
}

// ---------------------------------------------------------------------------------------
// Archives

/// The bytes of one entry, decrypted with `passphrase` when given.
pub fn read_entry(archive: &Path, entry: &str, passphrase: Option<&str>) -> Vec<u8> {
    let f =
        std::fs::File::open(archive).unwrap_or_else(|e| panic!("open {}: {e}", archive.display()));
    let mut z = zip::ZipArchive::new(f).expect("a readable zip");
    let mut e = match passphrase {
        Some(p) => z.by_name_decrypt(entry, p.as_bytes()),
        None => z.by_name(entry),
    }
    .unwrap_or_else(|e| panic!("entry {entry} of {}: {e}", archive.display()));
    let mut buf = Vec::new();
    e.read_to_end(&mut buf)
        .unwrap_or_else(|e| panic!("read {entry}: {e}"));
    buf
}

/// Extracts `database.db` from `archive` into `dir` and opens it.
pub fn archive_db(archive: &Path, passphrase: Option<&str>, dir: &Path) -> (PathBuf, Connection) {
    let path = dir.join(format!(
        "{}.db",
        archive.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, read_entry(archive, DB_ENTRY, passphrase)).unwrap();
    let conn = open_raw(&path);
    (path, conn)
}

pub fn manifest(archive: &Path) -> serde_json::Value {
    serde_json::from_slice(&read_entry(archive, MANIFEST_ENTRY, None)).expect("manifest is JSON")
}

/// The manifest of `archive` with `entry`'s size and SHA-256 made to match `bytes`, as
/// someone crafting an archive would: only the deeper checks can then catch the change.
pub fn manifest_matching(archive: &Path, entry: &str, bytes: &[u8]) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let mut man = manifest(archive);
    for e in man["entries"].as_array_mut().expect("manifest entries") {
        if e["name"] == entry {
            e["sha256"] = serde_json::json!(hex::encode(Sha256::digest(bytes)));
            e["size"] = serde_json::json!(bytes.len());
        }
    }
    man
}

/// Writes a zip with `entries` (name, bytes) in order, deflated, unencrypted: for
/// archives crafted to attack or confuse the reader.
pub fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(*name, opts)
            .unwrap_or_else(|e| panic!("add {name}: {e}"));
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

/// Where the parts of an archive lie, for damaging it on purpose.
#[derive(Debug, Clone)]
pub struct Layout {
    pub len: u64,
    /// Per entry: (name, local header start, data start, compressed size, central header start).
    pub entries: Vec<(String, u64, u64, u64, u64)>,
    pub central_directory: u64,
}

impl Layout {
    pub fn read(archive: &Path) -> Layout {
        let len = std::fs::metadata(archive).unwrap().len();
        let mut z = zip::ZipArchive::new(std::fs::File::open(archive).unwrap()).unwrap();
        let mut entries = Vec::new();
        for i in 0..z.len() {
            let e = z.by_index_raw(i).unwrap();
            entries.push((
                e.name().to_string(),
                e.header_start(),
                e.data_start().expect("data start is known after reading"),
                e.compressed_size(),
                e.central_header_start(),
            ));
        }
        Layout {
            len,
            entries,
            central_directory: z.central_directory_start(),
        }
    }

    /// (local header, data start, compressed size, central header) of `name`.
    pub fn entry(&self, name: &str) -> (u64, u64, u64, u64) {
        let e = self
            .entries
            .iter()
            .find(|e| e.0 == name)
            .unwrap_or_else(|| panic!("no entry {name} in {:?}", self.entries));
        (e.1, e.2, e.3, e.4)
    }

    /// Whether `offset` lies in an entry's stored (compressed or encrypted) data.
    pub fn in_data(&self, offset: u64) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| offset >= e.2 && offset < e.2 + e.3)
            .map(|e| e.0.as_str())
    }
}

/// A copy of `archive` at `to` with bit `bit` of byte `offset` flipped.
pub fn flipped_copy(archive: &Path, to: &Path, offset: u64, bit: u8) {
    let mut bytes = std::fs::read(archive).unwrap();
    bytes[offset as usize] ^= 1 << bit;
    std::fs::write(to, bytes).unwrap();
}

// ---------------------------------------------------------------------------------------
// What a refused action must leave alone

/// Relative paths of all files under `dir` (folders themselves are not listed).
pub fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The live database's bytes and the data directory's files, to show a refused action
/// changed nothing.
pub struct Untouched {
    db_bytes: Vec<u8>,
    files: BTreeSet<PathBuf>,
}

impl Untouched {
    pub fn capture(cli: &Cli) -> Untouched {
        Untouched {
            db_bytes: std::fs::read(cli.db_path()).unwrap(),
            files: files_under(cli.data_dir()),
        }
    }

    /// The live database is byte for byte the same, and no file appeared or vanished in
    /// the data folder except the operations journal (which records the attempt).
    pub fn assert_unchanged(&self, cli: &Cli, what: &str) {
        let now = std::fs::read(cli.db_path()).unwrap();
        assert!(
            now == self.db_bytes,
            "{what}: the live database file changed"
        );
        let journal = PathBuf::from("operations-journal.jsonl");
        let mut before = self.files.clone();
        let mut after = files_under(cli.data_dir());
        before.remove(&journal);
        after.remove(&journal);
        assert_eq!(after, before, "{what}: files in the data folder changed");
    }
}

// ---------------------------------------------------------------------------------------
// The operations journal

pub fn journal(data_dir: &Path) -> Vec<serde_json::Value> {
    let text =
        std::fs::read_to_string(data_dir.join("operations-journal.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("journal line {l:?}: {e}")))
        .collect()
}

// ---------------------------------------------------------------------------------------
// tmpfs mounts (root only)

/// A tmpfs mounted on a folder, unmounted when dropped (declare it after the temporary
/// folder holding the mount point, so it is dropped first).
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs with `options` on `dir`; panics when it cannot (mounting needs
    /// root). The tests that call it are `#[ignore = "needs root: …"]`, run as their own
    /// step of `scripts/test.sh` when it runs as root, so they never pass without mounting.
    pub fn mount(dir: &Path, options: &str) -> Tmpfs {
        Tmpfs::try_mount(dir, options)
            .unwrap_or_else(|why| panic!("needs root to mount tmpfs on {} ({why})", dir.display()))
    }

    /// [`Tmpfs::mount`] for a test whose assertions hold with or without the mount: prints
    /// why it could not mount and returns None.
    pub fn mount_if_root(dir: &Path, options: &str, test: &str) -> Option<Tmpfs> {
        Tmpfs::try_mount(dir, options)
            .map_err(|why| eprintln!("{test}: without the tmpfs: {why}"))
            .ok()
    }

    fn try_mount(dir: &Path, options: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(Tmpfs {
                dir: dir.to_path_buf(),
            }),
            Ok(o) => Err(format!("uid {}; mount said: {}", uid(), stderr(&o).trim())),
            Err(e) => Err(format!("could not run mount: {e}")),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            // Something still has a file open there: detach it so the folder can go.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// The effective user id, from /proc (Linux), for the message when mounting fails.
fn uid() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".into())
}

// ---------------------------------------------------------------------------------------
// A seeded random source (SplitMix64): the same seed gives the same kill times.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Damages the register's schema (the cell pointers of its first page, where SQLite
/// keeps the list of tables), so SQLite cannot open it at all: nothing can even count its
/// rows. Returns the damaged file's bytes.
pub fn damage_schema(cli: &Cli) -> Vec<u8> {
    let conn = cli.db();
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    drop(conn);
    let path = cli.db_path();
    let mut db = std::fs::read(&path).unwrap();
    // Page 1: the 100-byte file header, then the schema table's b-tree page header.
    let at = 100;
    let cells = usize::from(u16::from_be_bytes([db[at + 3], db[at + 4]]));
    let header = if db[at] == 0x05 { 12 } else { 8 };
    assert!(cells > 0, "the schema page lists tables");
    for b in &mut db[at + header..at + header + 2 * cells] {
        *b = 0xff;
    }
    std::fs::write(&path, &db).unwrap();
    let counted = open_raw(&path).query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    });
    assert!(counted.is_err(), "the schema cannot be read: {counted:?}");
    db
}
