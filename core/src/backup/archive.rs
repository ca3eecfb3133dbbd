//! The backup file: a `.zip` holding `database.db`, `config.json` and `manifest.json`
//! (WinZip AES-256 on every entry when encrypted, so 7-Zip can open it as a last
//! resort), and reading one back with every check: entry names, sizes, SHA-256, the
//! passphrase, and SQLite's own checks on the extracted database.
//!
//! Encryption is authentication too: each WinZip AES entry carries an HMAC of its
//! encrypted bytes under a key derived from the passphrase, which the reader checks to
//! the last byte. From archive format 2 the manifest is encrypted like the rest, so
//! nothing the screen says about an encrypted backup comes from bytes anyone could have
//! written without the passphrase. Whether an archive is encrypted is decided by what
//! its entries are ([`check`] refuses a plain entry in an encrypted backup, ZipCrypto,
//! and a passphrase given for a plain backup), never by the manifest's `encrypted`.
//!
//! `zipwrite` writes the archive, its database entry deflated on every core by
//! `pdeflate` (zlib-rs); `zip` (8.x) reads it back, checking CRCs and WinZip AES.
//! Never trust an archive: names are checked against path traversal, and every entry
//! is read through a limit taken from the manifest, so a size bomb stops early.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::result::ZipError;
use zip::{AesMode, ZipArchive};

use super::pdeflate::{self, Failure};
use super::zipwrite::{self, Method, Unopened, Unsealed, ZipOut};
use crate::error::{Error, Result};
use crate::work::{Cancel, Progress};

pub const DB_ENTRY: &str = "database.db";
pub const CONFIG_ENTRY: &str = "config.json";
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// The archive format this build writes and reads. 2: an encrypted archive's manifest
/// is encrypted too (format 1 left it plain; such archives are still read).
pub const FORMAT_VERSION: u32 = 2;
/// No manifest is this large; a bigger one is an attack or damage.
const MAX_MANIFEST: u64 = 1 << 20;
/// The largest `config.json` in a backup (defaults are under 1 KiB).
const MAX_CONFIG: u64 = 1 << 20;
/// Deflate's largest expansion (about 1032:1), rounded up: an entry claiming more is lying.
const MAX_RATIO: u64 = 1100;
const CHUNK: usize = 1 << 20;

/// Tables counted in the manifest (and compared after a restore).
pub const COUNTED_TABLES: &[&str] = &[
    "users",
    "persons",
    "keys",
    "groups",
    "group_members",
    "group_keys",
    "key_log",
    "audit_log",
    "backups",
    // Schema 4 on (a backup of an older schema has and counts none of these).
    "key_sets",
    "key_set_keys",
    "receipts",
    // Schema 5 on.
    "areas",
    "key_areas",
    "stocktakes",
    "stocktake_scans",
    "clearances",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub app_version: String,
    pub schema_version: i64,
    /// Unix seconds UTC.
    pub created_at: i64,
    pub created_at_iso: String,
    pub site: String,
    /// For display only; never used to decide anything.
    pub source_machine: String,
    /// `full`, `database`, `config`.
    pub kind: String,
    pub reason: Option<String>,
    pub encrypted: bool,
    pub entries: Vec<Entry>,
    /// Rows per table in the database entry.
    pub counts: std::collections::BTreeMap<String, i64>,
    /// The newest audit row of the database entry (its id and hash): an anchor of the
    /// trail off the machine, checked by `audit verify --against` (`crate::anchors`).
    /// `None` in a configuration backup and in backups made before it was written.
    #[serde(default)]
    pub audit_tip: Option<crate::audit::Tip>,
}

/// Row counts of the counted tables.
pub fn table_counts(conn: &Connection) -> Result<std::collections::BTreeMap<String, i64>> {
    let mut out = std::collections::BTreeMap::new();
    let mut exists =
        conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?;
    for t in COUNTED_TABLES {
        if !exists.exists([t])? {
            continue;
        }
        // Table names are constants above, never user input.
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?;
        out.insert((*t).to_string(), n);
    }
    Ok(out)
}

/// Content to put into an archive.
pub(crate) struct Contents<'a> {
    pub database: Option<&'a Path>,
    pub config: Option<&'a [u8]>,
    pub manifest: Manifest,
}

fn corrupt(file: &Path, entry: &str, reason: impl Into<String>) -> Error {
    Error::CorruptArchive {
        file: file.display().to_string(),
        entry: entry.to_string(),
        reason: reason.into(),
    }
}

/// Writes the archive to `out` (a `.partial` file the caller renames when done), with
/// the manifest last, so its hashes describe exactly what was written.
///
/// `complete` fills in the rest of the manifest (schema version, counts) just before it
/// is written: the checks of the snapshot that produce them run while it is compressed.
pub(crate) fn write(
    out: &Path,
    mut contents: Contents,
    passphrase: Option<(&str, AesMode)>,
    compress: bool,
    progress: &mut dyn FnMut(Progress),
    complete: &mut dyn FnMut(&mut Manifest) -> Result<()>,
    cancel: &Cancel,
) -> Result<()> {
    let file = create_private(out).map_err(|e| Error::io("create", out, e))?;
    let werr = |e: std::io::Error| Error::io("write", out, e);
    let modified = crate::time::zip_time(contents.manifest.created_at);
    let mut zip = ZipOut::new(BufWriter::with_capacity(CHUNK, file), modified).map_err(werr)?;
    let method = if compress {
        Method::Deflated
    } else {
        Method::Stored
    };
    let mut entries = Vec::new();
    if let Some(db) = contents.database {
        let size = std::fs::metadata(db)
            .map_err(|e| Error::io("read", db, e))?
            .len();
        let f = File::open(db).map_err(|e| Error::io("read", db, e))?;
        let mut entry = zip
            .start(DB_ENTRY, method, size, passphrase)
            .map_err(werr)?;
        // Deflate on every core (pdeflate); the SHA-256 of the plain snapshot is computed
        // on another thread from the same blocks.
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::sync::Arc<Vec<u8>>>(4);
        let (summary, sha256) = std::thread::scope(|s| {
            let hasher = s.spawn(move || {
                let mut h = Sha256::new();
                for block in rx {
                    h.update(&block[..]);
                }
                hex::encode(h.finalize())
            });
            let deflated = pdeflate::deflate(
                f,
                &pdeflate::Options::new(compress),
                Some(tx),
                &mut |bytes| entry.write(bytes),
                &mut |done| progress(Progress::new("write", done, size.max(1))),
                cancel,
            );
            let sha256 = hasher.join().expect("hashing does not panic");
            deflated.map(|summary| (summary, sha256))
        })
        .map_err(|failure| match failure {
            Failure::Read(e) => Error::io("read", db, e),
            Failure::Write(e) => werr(e),
            Failure::Cancelled => Error::Cancelled,
            Failure::Deflate(reason) => Error::BackupFailed {
                step: "compress".into(),
                reason,
            },
        })?;
        entry.finish(summary.crc32, summary.plain).map_err(werr)?;
        entries.push(Entry {
            name: DB_ENTRY.into(),
            size: summary.plain,
            sha256,
        });
    }
    if let Some(cfg) = contents.config {
        zip.add(CONFIG_ENTRY, cfg, method, passphrase)
            .map_err(werr)?;
        entries.push(Entry {
            name: CONFIG_ENTRY.into(),
            size: cfg.len() as u64,
            sha256: hex::encode(Sha256::digest(cfg)),
        });
    }
    contents.manifest.entries = entries;
    complete(&mut contents.manifest)?;
    // Encrypted with the rest: a reader without the passphrase learns nothing from it,
    // and nobody without it can write one that decrypts.
    let text = serde_json::to_vec_pretty(&contents.manifest).expect("manifest serialises");
    zip.add(MANIFEST_ENTRY, &text, method, passphrase)
        .map_err(werr)?;
    let writer = zip.finish().map_err(werr)?;
    let file = writer
        .into_inner()
        .map_err(|e| Error::io("write", out, e.into_error()))?;
    // The bytes are on the drive before anyone renames the file to its final name.
    file.sync_all().map_err(|e| Error::io("flush", out, e))?;
    Ok(())
}

/// Creates a file only its owner can read, where the OS has such permissions.
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// Makes the next reads of `file` come from the drive itself, not from the OS's cache of
/// what was just written (counterfeit sticks accept every write and keep only part of
/// it). Linux: flush, then `posix_fadvise(DONTNEED)` drops the cached pages. macOS:
/// `F_NOCACHE` on this handle. Windows has no such call for an open handle: there
/// [`file_sha256`] opens the archive for unbuffered reads instead, which is the read
/// that proves the drive holds the bytes written (the later pass compares the entries
/// with the manifest).
pub(crate) fn drop_cache(file: &File) {
    #[cfg(target_os = "linux")]
    {
        let _ = file.sync_all();
        let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(target_os = "macos")]
    {
        let _ = rustix::fs::fcntl_nocache(file, true);
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = file;
    }
}

/// Unbuffered reads need buffers, offsets and lengths in whole sectors (Windows); 4 KiB
/// covers the sector sizes of disks and sticks in use.
const SECTOR: usize = 4096;

/// SHA-256 of a whole file, read from the drive.
pub(crate) fn file_sha256(path: &Path) -> Result<(String, u64)> {
    #[cfg(windows)]
    {
        match sha256_of(open_unbuffered(path), true) {
            // A drive whose sectors are larger than `SECTOR` refuses unbuffered reads
            // of that size: read it the ordinary way rather than fail the backup.
            Err(e) if e.raw_os_error() == Some(87) => {}
            other => return other.map_err(|e| Error::io("read", path, e)),
        }
    }
    let f = File::open(path);
    if let Ok(f) = &f {
        drop_cache(f);
    }
    sha256_of(f, false).map_err(|e| Error::io("read", path, e))
}

/// Opens `path` so that reads bypass the cache (`FILE_FLAG_NO_BUFFERING`).
#[cfg(windows)]
fn open_unbuffered(path: &Path) -> std::io::Result<File> {
    use std::os::windows::fs::OpenOptionsExt;
    const FILE_FLAG_NO_BUFFERING: u32 = 0x2000_0000;
    const FILE_FLAG_SEQUENTIAL_SCAN: u32 = 0x0800_0000;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_NO_BUFFERING | FILE_FLAG_SEQUENTIAL_SCAN)
        .open(path)
}

/// Hashes everything `file` reads, in sector-aligned chunks so the same loop serves
/// unbuffered handles. With `unbuffered`, a read that is not whole sectors is the end of
/// the file (reading on from an unaligned offset would be refused).
fn sha256_of(file: std::io::Result<File>, unbuffered: bool) -> std::io::Result<(String, u64)> {
    let mut f = file?;
    let mut raw = vec![0u8; CHUNK + SECTOR];
    let start = raw.as_ptr().align_offset(SECTOR).min(SECTOR);
    let buf = &mut raw[start..start + CHUNK];
    let mut h = Sha256::new();
    let mut n_total = 0u64;
    loop {
        let n = f.read(buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        n_total += n as u64;
        if unbuffered && n % SECTOR != 0 {
            break;
        }
    }
    Ok((hex::encode(h.finalize()), n_total))
}

/// What reading a backup back found.
#[derive(Debug)]
pub struct Checked {
    pub manifest: Manifest,
    /// Every entry was WinZip AES and decrypted and authenticated with the passphrase
    /// (a fact found while reading, not the manifest's word).
    pub encrypted: bool,
    /// The extracted database (in `work_dir`), when the archive has one.
    pub database: Option<PathBuf>,
    pub config: Option<Vec<u8>>,
}

fn zip_error(file: &Path, entry: &str, e: ZipError) -> Error {
    match e {
        ZipError::InvalidPassword => Error::WrongPassphrase,
        ZipError::UnsupportedArchive(m) if m == ZipError::PASSWORD_REQUIRED => {
            Error::PassphraseRequired
        }
        ZipError::Io(io) => corrupt(file, entry, io.to_string()),
        other => corrupt(file, entry, other.to_string()),
    }
}

/// Copies at most `limit` bytes of an entry to `out`, hashing them; more than `limit`
/// means the archive lies about its sizes.
fn copy_limited(
    file: &Path,
    name: &str,
    r: &mut dyn Read,
    out: &mut dyn Write,
    limit: u64,
) -> Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = read_limited(file, name, r, &mut buf, &mut total, limit)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| Error::io("write", name, e))?;
    }
    Ok((hex::encode(h.finalize()), total))
}

/// One read of an entry into `buf`, counted into `total`: 0 at its end. A wrong
/// passphrase is refused when the entry is opened; any read error after that (a corrupt
/// deflate stream, a failed AES authentication) is damage, and so is more data than
/// `limit`, the size the manifest gives.
fn read_limited(
    file: &Path,
    name: &str,
    r: &mut dyn Read,
    buf: &mut [u8],
    total: &mut u64,
    limit: u64,
) -> Result<usize> {
    let n = r
        .read(buf)
        .map_err(|e| corrupt(file, name, e.to_string()))?;
    *total += n as u64;
    if *total > limit {
        return Err(corrupt(
            file,
            name,
            "the entry is larger than its manifest says",
        ));
    }
    Ok(n)
}

/// [`copy_limited`] on two cores, for extracting the database: this thread inflates
/// (and decrypts) while another hashes what came out and writes it, the two handing
/// chunks back and forth, so a restore's extraction takes about the longer of the two,
/// not their sum.
fn copy_limited_on_two_cores(
    file: &Path,
    name: &str,
    r: &mut dyn Read,
    out: &mut (dyn Write + Send),
    limit: u64,
) -> Result<(String, u64)> {
    use std::sync::mpsc::sync_channel;
    const IN_FLIGHT: usize = 4;
    let (full_tx, full_rx) = sync_channel::<(Vec<u8>, usize)>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        empty_tx
            .send(vec![0u8; CHUNK])
            .expect("the channel has room");
    }
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> Result<String> {
            let mut h = Sha256::new();
            for (buf, n) in full_rx {
                h.update(&buf[..n]);
                out.write_all(&buf[..n])
                    .map_err(|e| Error::io("write", name, e))?;
                // The reader may have stopped (an error): a buffer it no longer takes
                // is simply dropped.
                let _ = empty_tx.send(buf);
            }
            Ok(hex::encode(h.finalize()))
        });
        let mut total = 0u64;
        let read = (|| -> Result<()> {
            loop {
                // The writer stopped (a write failed): its error is the one to report.
                let Ok(mut buf) = empty_rx.recv() else {
                    return Ok(());
                };
                let n = read_limited(file, name, r, &mut buf, &mut total, limit)?;
                if n == 0 {
                    return Ok(());
                }
                if full_tx.send((buf, n)).is_err() {
                    return Ok(());
                }
            }
        })();
        drop(full_tx);
        let written = writer.join().expect("the writer does not panic");
        read?;
        Ok((written?, total))
    })
}

/// Reads a backup and checks everything: the entry names (no paths), the manifest, each
/// entry's size and SHA-256 (decrypting with `passphrase` if needed), and then SQLite's
/// `quick_check` and `foreign_key_check` on the extracted database and its row counts.
/// The database is extracted into `work_dir`.
pub fn check(
    path: &Path,
    passphrase: Option<&str>,
    work_dir: &Path,
    cancel: &Cancel,
) -> Result<Checked> {
    check_archive(path, passphrase, work_dir, cancel, true, &mut |_| {})
}

/// [`check`], reporting `verify` progress as it goes: the database's bytes as they are
/// extracted, then SQLite's checks of it (weighed as an eighth of its size: they read it
/// again), so a check of a large backup moves a bar instead of standing still.
pub fn check_reporting(
    path: &Path,
    passphrase: Option<&str>,
    work_dir: &Path,
    cancel: &Cancel,
    progress: &mut dyn FnMut(Progress),
) -> Result<Checked> {
    check_archive(path, passphrase, work_dir, cancel, true, progress)
}

/// A reader that says how many bytes it has given so far, each time it gives more.
struct Reporting<'a, R> {
    inner: R,
    done: u64,
    on_read: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for Reporting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        (self.on_read)(self.done);
        Ok(n)
    }
}

/// [`check`], or with `extract` false the read-back check of a backup just made: every
/// entry is decompressed (and decrypted) and its size and SHA-256 compared with the
/// manifest, but the database is not written out and SQLite's checks are not run again.
/// They ran on the snapshot ([`sqlite_checks`]) whose SHA-256 the manifest holds, so
/// equal hashes mean the same, checked bytes.
pub(crate) fn check_archive(
    path: &Path,
    passphrase: Option<&str>,
    work_dir: &Path,
    cancel: &Cancel,
    extract: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Checked> {
    let f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    drop_cache(&f);
    let mut zip = ZipArchive::new(BufReader::with_capacity(CHUNK, f))
        .map_err(|e| zip_error(path, "archive", e))?;
    // Only our three names, each at most once, none with a folder or a drive in it.
    let mut seen = std::collections::HashSet::new();
    // Per entry: (encrypted at all, encrypted with WinZip AES).
    let mut sealed = std::collections::HashMap::new();
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| zip_error(path, "archive", e))?;
        let name = entry.name().to_string();
        sealed.insert(
            name.clone(),
            (entry.encrypted(), is_aes(entry.extra_data())),
        );
        if ![DB_ENTRY, CONFIG_ENTRY, MANIFEST_ENTRY].contains(&name.as_str())
            || entry.enclosed_name().is_none()
        {
            return Err(corrupt(
                path,
                &name,
                "unexpected entry (a path, or a file that is not part of a backup)",
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(corrupt(path, &name, "the entry appears twice"));
        }
    }
    let (manifest_sealed, manifest_aes) = sealed
        .get(MANIFEST_ENTRY)
        .copied()
        .ok_or_else(|| corrupt(path, MANIFEST_ENTRY, "missing"))?;
    if manifest_sealed && !manifest_aes {
        return Err(corrupt(path, MANIFEST_ENTRY, NOT_AES));
    }
    let manifest: Manifest = {
        let entry = match (manifest_sealed, passphrase) {
            (true, None) => return Err(Error::PassphraseRequired),
            (true, Some(p)) => zip.by_name_decrypt(MANIFEST_ENTRY, p.as_bytes()),
            (false, _) => zip.by_name(MANIFEST_ENTRY),
        }
        .map_err(|e| zip_error(path, MANIFEST_ENTRY, e))?;
        read_manifest_entry(path, entry)?
    };
    let encrypted = encryption(path, &manifest, manifest_sealed, passphrase, &sealed)?;
    if manifest.format_version > FORMAT_VERSION {
        return Err(corrupt(
            path,
            MANIFEST_ENTRY,
            format!(
                "archive format {} is newer than this Atslegas reads",
                manifest.format_version
            ),
        ));
    }
    if manifest.schema_version > crate::db::SCHEMA_VERSION {
        return Err(Error::NewerBackup {
            file: path.display().to_string(),
            found: manifest.schema_version,
            supported: crate::db::SCHEMA_VERSION,
            made_by: manifest.app_version.clone(),
            app_version: crate::db::APP_VERSION.into(),
        });
    }
    let mut checked = Checked {
        manifest: manifest.clone(),
        encrypted,
        database: None,
        config: None,
    };
    // The database's bytes, then (when it is extracted) SQLite's checks of it; reported
    // at each whole percent.
    let db_size = manifest
        .entries
        .iter()
        .find(|e| e.name == DB_ENTRY)
        .map_or(0, |e| e.size);
    let total = db_size + if extract { db_size / 8 } else { 0 };
    let mut percent = 0;
    let mut report = |done: u64| {
        let now = done.min(total) * 100 / total.max(1);
        if now > percent {
            percent = now;
            progress(Progress::new("verify", done.min(total), total));
        }
    };
    for e in &manifest.entries {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        if !seen.contains(&e.name) || e.name == MANIFEST_ENTRY {
            return Err(corrupt(
                path,
                &e.name,
                "listed in the manifest but not in the archive",
            ));
        }
        let (mut entry, stored) = match passphrase.filter(|_| encrypted) {
            Some(p) if e.name == DB_ENTRY => open_sealed(path, &mut zip, p)?,
            sealed => {
                let z = match sealed {
                    Some(p) => zip.by_name_decrypt(&e.name, p.as_bytes()),
                    None => zip.by_name(&e.name),
                }
                .map_err(|err| zip_error(path, &e.name, err))?;
                let stored = z.compressed_size();
                (Opened::Zip(Box::new(z)), stored)
            }
        };
        // Limits of our own, never only the manifest's word (SPEC §13): deflate cannot
        // expand more than about 1032 times, and a configuration is small.
        if e.size > stored.saturating_add(64).saturating_mul(MAX_RATIO) {
            return Err(corrupt(
                path,
                &e.name,
                "the manifest claims far more data than the entry can hold",
            ));
        }
        if e.name == CONFIG_ENTRY && e.size > MAX_CONFIG {
            return Err(corrupt(
                path,
                &e.name,
                "larger than the 1 MiB a configuration may be",
            ));
        }
        // The database is extracted to be checked: refuse up front what cannot fit,
        // rather than fill the disk (writing past the free space fails anyway).
        if e.name == DB_ENTRY && extract {
            let free = fs4::available_space(work_dir).unwrap_or(u64::MAX);
            if e.size > free {
                return Err(Error::NoSpace {
                    path: work_dir.to_path_buf(),
                    needed: e.size,
                    available: free,
                });
            }
        }
        let (sha, size) = if e.name == DB_ENTRY && !extract {
            // A backup's read-back: inflating and hashing on a core each (the archive's
            // own SHA-256, beside it, is a fraction of either).
            let mut entry = Reporting {
                inner: &mut entry,
                done: 0,
                on_read: &mut report,
            };
            copy_limited_on_two_cores(path, &e.name, &mut entry, &mut std::io::sink(), e.size)?
        } else if e.name == DB_ENTRY {
            let target = work_dir.join("restore-check.db");
            let _ = std::fs::remove_file(&target);
            let mut out = BufWriter::new(
                create_private(&target).map_err(|err| Error::io("create", &target, err))?,
            );
            let mut entry = Reporting {
                inner: &mut entry,
                done: 0,
                on_read: &mut report,
            };
            let r = copy_limited_on_two_cores(path, &e.name, &mut entry, &mut out, e.size)?;
            out.flush()
                .map_err(|err| Error::io("write", &target, err))?;
            checked.database = Some(target);
            r
        } else {
            let mut buf = Vec::new();
            let r = copy_limited(path, &e.name, &mut entry, &mut buf, e.size)?;
            checked.config = Some(buf);
            r
        };
        entry
            .finish()
            .map_err(|err| corrupt(path, &e.name, err.to_string()))?;
        if size != e.size || sha != e.sha256 {
            return Err(corrupt(
                path,
                &e.name,
                "the content does not match its checksum",
            ));
        }
    }
    if let Some(db) = &checked.database {
        check_database(path, db, &manifest)?;
    }
    report(total);
    Ok(checked)
}

const NOT_AES: &str = "encrypted with the old ZipCrypto method, which Atslegas never \
     uses and which proves nothing about who wrote it";

/// True when a zip entry's extra data holds the WinZip AES field (0x9901): its bytes
/// are then authenticated by an HMAC under the passphrase's key.
fn is_aes(extra: Option<&[u8]>) -> bool {
    aes_field(extra).is_some()
}

/// The WinZip AES field (0x9901) of an entry's extra data: its strength byte and the
/// compression method under the encryption; `(0, 0)` when the field is too short to say.
fn aes_field(extra: Option<&[u8]>) -> Option<(u8, u16)> {
    let mut rest = extra.unwrap_or_default();
    while rest.len() >= 4 {
        let id = u16::from_le_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        if id == 0x9901 {
            // Vendor version (2), vendor id "AE" (2), strength (1), method (2).
            return Some(match rest.get(4..(4 + len).min(rest.len())) {
                Some(f) if f.len() >= 7 => (f[4], u16::from_le_bytes([f[5], f[6]])),
                _ => (0, 0),
            });
        }
        rest = rest.get(4 + len..).unwrap_or_default();
    }
    None
}

/// An entry opened for reading: by the `zip` crate, or (the database of an encrypted
/// backup) its AES layer by [`zipwrite::Unsealed`] and its deflate stream by `flate2`.
enum Opened<'a> {
    Zip(Box<zip::read::ZipFile<'a, BufReader<File>>>),
    Sealed(Box<Unsealed<zip::read::ZipFile<'a, BufReader<File>>>>),
    SealedDeflated(
        Box<flate2::read::DeflateDecoder<Unsealed<zip::read::ZipFile<'a, BufReader<File>>>>>,
    ),
}

impl Read for Opened<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Opened::Zip(z) => z.read(buf),
            Opened::Sealed(u) => u.read(buf),
            Opened::SealedDeflated(d) => d.read(buf),
        }
    }
}

impl Opened<'_> {
    /// After the last byte: checks the authentication code of an AES entry opened here
    /// (the `zip` crate checks its own at the end of the data).
    fn finish(self) -> std::io::Result<()> {
        match self {
            Opened::Zip(_) => Ok(()),
            Opened::Sealed(u) => u.finish(),
            Opened::SealedDeflated(d) => d.into_inner().finish(),
        }
    }
}

/// Opens the database entry of an encrypted archive with [`Unsealed`] (see there why).
fn open_sealed<'a>(
    path: &Path,
    zip: &'a mut ZipArchive<BufReader<File>>,
    passphrase: &str,
) -> Result<(Opened<'a>, u64)> {
    let index = zip
        .index_for_name(DB_ENTRY)
        .ok_or_else(|| corrupt(path, DB_ENTRY, "missing"))?;
    let raw = zip
        .by_index_raw(index)
        .map_err(|e| zip_error(path, DB_ENTRY, e))?;
    let (strength, method) =
        aes_field(raw.extra_data()).ok_or_else(|| corrupt(path, DB_ENTRY, NOT_AES))?;
    let mode = zipwrite::aes_mode(strength)
        .ok_or_else(|| corrupt(path, DB_ENTRY, "an AES strength that does not exist"))?;
    let stored = raw.compressed_size();
    let unsealed = Unsealed::open(raw, stored, passphrase, mode).map_err(|u| match u {
        Unopened::WrongPassphrase => Error::WrongPassphrase,
        Unopened::Truncated => corrupt(path, DB_ENTRY, "shorter than its encryption needs"),
        Unopened::Io(e) => corrupt(path, DB_ENTRY, e.to_string()),
    })?;
    let opened = match method {
        8 => Opened::SealedDeflated(Box::new(flate2::read::DeflateDecoder::new(unsealed))),
        0 => Opened::Sealed(Box::new(unsealed)),
        _ => {
            return Err(corrupt(
                path,
                DB_ENTRY,
                "compressed by a method Atslegas never uses",
            ))
        }
    };
    Ok((opened, stored))
}

/// Decides from what the entries are whether the archive is encrypted, and refuses a
/// mix: in an encrypted backup every entry is WinZip AES (format 2: the manifest too;
/// format 1 left the manifest plain), and a plain backup neither claims encryption nor
/// is opened with a passphrase (an unencrypted file where an encrypted backup was
/// expected may have been put there by anyone).
fn encryption(
    path: &Path,
    manifest: &Manifest,
    manifest_sealed: bool,
    passphrase: Option<&str>,
    sealed: &std::collections::HashMap<String, (bool, bool)>,
) -> Result<bool> {
    let legacy = manifest.format_version < 2;
    let encrypted = if manifest_sealed {
        if legacy || !manifest.encrypted {
            return Err(corrupt(
                path,
                MANIFEST_ENTRY,
                "encrypted, yet it says the backup is not (or is of a format that never \
                 encrypted it): the file was altered",
            ));
        }
        true
    } else if manifest.encrypted && !legacy {
        return Err(corrupt(
            path,
            MANIFEST_ENTRY,
            "it says the backup is encrypted, but the manifest itself is not, as it always \
             is in an encrypted backup: the file was altered after it was made, and is not \
             trusted",
        ));
    } else if manifest.encrypted {
        // Format 1: the data entries are encrypted, the manifest is not.
        if passphrase.is_none() {
            return Err(Error::PassphraseRequired);
        }
        true
    } else {
        if passphrase.is_some() {
            return Err(Error::invalid_rule(
                "passphrase",
                "passphrase_for_plain_backup",
                serde_json::json!({ "file": path.display().to_string() }),
                format!(
                    "{} is not encrypted, but a passphrase was given. If you expected an \
                     encrypted backup, this file is not it (it may have been replaced); if \
                     you made it without encryption, check it again with no passphrase",
                    path.display()
                ),
            ));
        }
        false
    };
    for (name, (is_sealed, aes)) in sealed {
        if name == MANIFEST_ENTRY {
            continue;
        }
        if encrypted && !is_sealed {
            return Err(corrupt(
                path,
                name,
                "not encrypted, in an encrypted backup: it was put there after the backup \
                 was made",
            ));
        }
        if *is_sealed && !aes {
            return Err(corrupt(path, name, NOT_AES));
        }
        if !encrypted && *is_sealed {
            return Err(corrupt(
                path,
                name,
                "encrypted, though the backup says it is not: the file was altered",
            ));
        }
    }
    Ok(encrypted)
}

/// Reads and parses the opened `manifest.json` entry of `path`, at most [`MAX_MANIFEST`]
/// bytes. A failed AES authentication shows as a read error at the end of the entry.
fn read_manifest_entry(path: &Path, entry: impl Read) -> Result<Manifest> {
    let mut text = Vec::new();
    entry
        .take(MAX_MANIFEST + 1)
        .read_to_end(&mut text)
        .map_err(|e| corrupt(path, MANIFEST_ENTRY, e.to_string()))?;
    if text.len() as u64 > MAX_MANIFEST {
        return Err(corrupt(path, MANIFEST_ENTRY, "too large"));
    }
    parse_manifest(&text).map_err(|reason| corrupt(path, MANIFEST_ENTRY, reason))
}

/// Parses the bytes of a `manifest.json`, or says why they are not one. Only the shape
/// is checked here; [`check`] then compares the versions, entries and counts with the
/// archive. Public so the `manifest_parser` fuzz target (fuzz/) can call it directly.
pub fn parse_manifest(text: &[u8]) -> std::result::Result<Manifest, String> {
    serde_json::from_slice(text).map_err(|e| format!("not a valid manifest ({e})"))
}

/// What SQLite's checks found in a sound database: its schema version and row counts.
pub(crate) type Sound = (i64, std::collections::BTreeMap<String, i64>);

/// SQLite's own checks (`quick_check`, `foreign_key_check`) on a database file opened by
/// `conn`, then its schema version and row counts; `Err` says what is wrong.
pub(crate) fn sqlite_checks(conn: &Connection) -> std::result::Result<Sound, String> {
    let quick: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if quick != "ok" {
        return Err(format!("integrity check failed: {quick}"));
    }
    let fk_problems: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(|e| e.to_string())?;
    if fk_problems > 0 {
        return Err(format!("{fk_problems} broken references between tables"));
    }
    let version = crate::db::schema_version(conn).map_err(|e| e.to_string())?;
    let counts = table_counts(conn).map_err(|e| e.to_string())?;
    Ok((version, counts))
}

/// SQLite's own checks on an extracted database, and its counts against the manifest.
fn check_database(archive: &Path, db: &Path, manifest: &Manifest) -> Result<()> {
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // Nothing the file defines may run while it is read (SPEC §13).
    conn.pragma_update(None, "trusted_schema", false)?;
    let (version, counts) =
        sqlite_checks(&conn).map_err(|reason| corrupt(archive, DB_ENTRY, reason))?;
    // Our schema word for word, then rows that keep its UNIQUE rules.
    let changed = match crate::db::foreign_schema(&conn, version)? {
        Some(reason) => Some(reason),
        None => crate::db::unique_rules_broken(&conn, version)?,
    };
    if let Some(reason) = changed {
        return Err(corrupt(
            archive,
            DB_ENTRY,
            format!("{reason}: the file was changed outside Atslegas, and is not restored"),
        ));
    }
    if version != manifest.schema_version {
        return Err(corrupt(
            archive,
            DB_ENTRY,
            "the schema version differs from the manifest's",
        ));
    }
    if counts != manifest.counts {
        return Err(corrupt(
            archive,
            DB_ENTRY,
            "the row counts differ from the manifest's",
        ));
    }
    // The tip the manifest names (an anchor of the live trail, `crate::anchors`) must be
    // the one of the trail this archive holds. Format 2 always names it.
    let tip = crate::audit::tip(&conn)?;
    if tip != manifest.audit_tip && (manifest.audit_tip.is_some() || manifest.format_version >= 2) {
        return Err(corrupt(
            archive,
            DB_ENTRY,
            "its audit trail does not end at the row the manifest names",
        ));
    }
    Ok(())
}

/// What can be told of an archive without its passphrase and without checking it (for
/// listing a drive and for retention). Nothing in it is verified.
#[derive(Debug, Clone)]
pub struct Outline {
    /// A plain backup's manifest (and a format 1 encrypted one's); `None` when the
    /// manifest is sealed with the rest of an encrypted backup.
    pub manifest: Option<Manifest>,
    /// Whether its entries are encrypted (from the zip's structure).
    pub encrypted: bool,
    /// `full`, `database` or `config`: from the manifest, else from which entries the
    /// archive has.
    pub kind: String,
}

/// Opens an archive only far enough to outline it (for listing a drive).
pub fn outline(path: &Path) -> Result<Outline> {
    let f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut zip = ZipArchive::new(BufReader::new(f)).map_err(|e| zip_error(path, "archive", e))?;
    let (mut encrypted, mut names) = (false, Vec::new());
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| zip_error(path, "archive", e))?;
        encrypted |= entry.encrypted();
        names.push(entry.name().to_string());
    }
    let has = |n: &str| names.iter().any(|x| x == n);
    let kind = match (has(DB_ENTRY), has(CONFIG_ENTRY)) {
        (true, true) => "full",
        (true, false) => "database",
        _ => "config",
    };
    let entry = zip
        .by_name(MANIFEST_ENTRY)
        .map_err(|e| zip_error(path, MANIFEST_ENTRY, e));
    let manifest = match entry {
        Err(Error::PassphraseRequired) => None,
        Err(e) => return Err(e),
        Ok(entry) => Some(read_manifest_entry(path, entry)?),
    };
    Ok(Outline {
        kind: manifest.as_ref().map_or(kind.into(), |m| m.kind.clone()),
        manifest,
        encrypted,
    })
}

/// Compares the archive with the `NAME.zip.sha256` beside it, when there is one (it is
/// written only after a verified backup).
pub fn check_sidecar(path: &Path) -> Result<()> {
    let Some(expected) = sidecar_sha256(path) else {
        return Ok(());
    };
    let (actual, _) = file_sha256(path)?;
    sidecar_matches(path, &expected, &actual)
}

/// [`check_sidecar`] for an archive whose SHA-256 is known already: read back from the
/// drive by the backup that wrote it, a moment ago. Only the `.sha256` is read.
pub(crate) fn check_sidecar_known(path: &Path, sha256: &str) -> Result<()> {
    match sidecar_sha256(path) {
        Some(expected) => sidecar_matches(path, &expected, sha256),
        None => Ok(()),
    }
}

/// The hash a `NAME.zip.sha256` beside `path` records, when there is one.
fn sidecar_sha256(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(super::naming::sidecar(path)).ok()?;
    Some(text.split_whitespace().next().unwrap_or("").to_string())
}

fn sidecar_matches(path: &Path, expected: &str, actual: &str) -> Result<()> {
    if actual != expected {
        return Err(corrupt(
            path,
            "archive",
            "the file does not match its .sha256 checksum",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extraction on two cores writes and hashes exactly what the one-core copy
    /// does, for sizes around its chunk, and refuses an entry past its limit.
    #[test]
    fn extracting_on_two_cores_gives_the_same_bytes_hash_and_refusals() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..3 * CHUNK + 17)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, data.len()] {
            let part = &data[..len];
            let (mut one, mut two) = (Vec::new(), Vec::new());
            let a = copy_limited(
                Path::new("x.zip"),
                DB_ENTRY,
                &mut &part[..],
                &mut one,
                len as u64,
            )
            .unwrap();
            let b = copy_limited_on_two_cores(
                Path::new("x.zip"),
                DB_ENTRY,
                &mut &part[..],
                &mut two,
                len as u64,
            )
            .unwrap();
            assert_eq!(a, b, "{len} bytes");
            assert_eq!(one, two, "{len} bytes");
            assert_eq!(two, part);
        }
        let e = copy_limited_on_two_cores(
            Path::new("x.zip"),
            DB_ENTRY,
            &mut &data[..],
            &mut Vec::new(),
            CHUNK as u64,
        )
        .unwrap_err();
        assert!(e.message().contains("larger than its manifest"), "{e}");
    }

    /// A write that fails (a full disk) is the error reported, and nothing hangs.
    #[test]
    fn a_failing_write_while_extracting_on_two_cores_is_reported() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("no space left"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let data = vec![7u8; 5 * CHUNK];
        let e = copy_limited_on_two_cores(
            Path::new("x.zip"),
            DB_ENTRY,
            &mut &data[..],
            &mut Full,
            data.len() as u64,
        )
        .unwrap_err();
        assert!(e.message().contains("no space left"), "{e}");
    }

    #[test]
    fn the_read_back_hash_covers_every_byte_whatever_the_size() {
        let dir = tempfile::tempdir().unwrap();
        for size in [
            0,
            1,
            SECTOR - 1,
            SECTOR,
            SECTOR + 1,
            CHUNK,
            CHUNK + 5,
            3 * CHUNK + SECTOR,
        ] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
            let path = dir.path().join(format!("f{size}"));
            std::fs::write(&path, &data).unwrap();
            let (hash, n) = file_sha256(&path).unwrap();
            assert_eq!(n, size as u64);
            assert_eq!(hash, hex::encode(Sha256::digest(&data)), "size {size}");
            // The loop unbuffered handles use stops only at a short read, never early.
            let (again, m) = sha256_of(File::open(&path), true).unwrap();
            assert_eq!((again, m), (hash, size as u64));
        }
    }
}
