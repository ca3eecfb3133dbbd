//! What the fuzz targets share: a scratch folder, and one function per target that feeds
//! the fuzzer's bytes to the real public entry point of atslegas-core. Errors are the
//! expected answer to garbage; a panic (or an abort under the sanitizer) is a bug.
//!
//! Each function also checks a few properties that must hold for every input, so the
//! fuzzer finds wrong answers as well as crashes.

use std::cell::RefCell;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use atslegas_core::backup::archive::{self, CONFIG_ENTRY, DB_ENTRY, MANIFEST_ENTRY};
use atslegas_core::work::Cancel;
use atslegas_core::config::{Config, Paths};
use atslegas_core::import::{self, Entity, OnExisting};
use atslegas_core::persons::PersonInput;
use atslegas_core::store::Security;
use atslegas_core::{groups, keys, users, Actor, Store};
use sha2::{Digest, Sha256};

/// The passphrase of the encrypted seed archive scripts/fuzz.sh makes; the archive
/// reader tries it, so the fuzzer also reaches the decrypting paths.
pub const SEED_PASSPHRASE: &str = "fuzz seed passphrase 2024";

/// A folder for this process's files (the file handed to a path-taking API, the
/// extracted database). Under `$TMPDIR`, which scripts/fuzz.sh points at a folder it
/// removes afterwards.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("atslegas-fuzz-")
            .tempdir()
            .expect("a scratch folder")
            .keep();
        std::fs::create_dir_all(dir.join("work")).expect("a work folder");
        dir
    })
}

/// Writes `data` to a file named `name` in the scratch folder.
fn as_file(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("write the input file");
    path
}

/// Target `archive_reader`: the bytes are a backup `.zip`. Listing a drive only outlines
/// it; verify and restore run the full check, without and with a passphrase.
pub fn archive_reader(data: &[u8]) {
    let file = as_file("atslegas-fuzz.zip", data);
    let work = scratch().join("work");
    let listed = archive::outline(&file);
    for pass in [None, Some(SEED_PASSPHRASE)] {
        if let Ok(checked) = archive::check(&file, pass, &work, &Cancel::new()) {
            let listed = listed.as_ref().expect("a verified archive can be outlined");
            // A listing shows a verified plain archive's manifest; an encrypted one's
            // is sealed (format 2) or, from format 1, the same manifest.
            if let Some(m) = &listed.manifest {
                assert_eq!(m, &checked.manifest);
            } else {
                assert!(checked.encrypted);
            }
            assert_eq!(listed.encrypted, checked.encrypted);
            assert_eq!(listed.kind, checked.manifest.kind);
            // Checked with a passphrase means encrypted, and the other way round.
            assert_eq!(pass.is_some(), checked.encrypted);
        }
    }
}

/// Target `config_parser`: the bytes are a `config.json` (the one inside a backup is as
/// untrusted as the one on disk). Whatever parses keeps the database and the session
/// folder inside the data folder, and its security values within their ranges.
pub fn config_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(c) = Config::parse(Path::new("config.json"), &text) else {
        return;
    };
    let data_dir = scratch().join("data");
    let paths = Paths {
        data_dir: data_dir.clone(),
        config_file: data_dir.join("config.json"),
        portable: false,
    };
    for p in [c.db_path(&paths), c.session_dir(&paths)] {
        assert!(
            p.starts_with(&data_dir) && p != data_dir,
            "{} leaves the data folder",
            p.display()
        );
    }
    assert!((1..=20).contains(&c.security.max_failed_logins));
    assert!((60..=86_400).contains(&c.security.lockout_seconds));
    assert!((10..=86_400).contains(&c.client_sessions.timeout_seconds));
}

/// A real database and config for [`manifest_parser`] to put beside the fuzzed
/// manifest, with the values a manifest seed refers to by placeholder.
struct Fixture {
    database: Vec<u8>,
    config: Vec<u8>,
    placeholders: Vec<(&'static [u8], Vec<u8>)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let src = scratch().join("fixture-source.db");
        let mut store = Store::open(&src, Security::default()).expect("a database");
        populate(&mut store);
        let db_file = scratch().join("fixture.db");
        store
            .conn()
            .execute("VACUUM INTO ?1", [db_file.to_str().expect("a UTF-8 path")])
            .expect("VACUUM INTO");
        let counts = archive::table_counts(store.conn()).expect("counts");
        drop(store);
        let database = std::fs::read(&db_file).expect("read the fixture database");
        let config = br#"{"site": "fuzz"}"#.to_vec();
        let sha = |b: &[u8]| hex::encode(Sha256::digest(b)).into_bytes();
        let placeholders: Vec<(&'static [u8], Vec<u8>)> = vec![
            (b"@DB_SHA256@", sha(&database)),
            (b"@DB_SIZE@", database.len().to_string().into_bytes()),
            (b"@CONFIG_SHA256@", sha(&config)),
            (b"@CONFIG_SIZE@", config.len().to_string().into_bytes()),
            (
                b"@SCHEMA@",
                atslegas_core::db::SCHEMA_VERSION.to_string().into_bytes(),
            ),
            (
                b"@COUNTS@",
                serde_json::to_vec(&counts).expect("counts as JSON"),
            ),
        ];
        let f = Fixture {
            database,
            config,
            placeholders,
        };
        // The seed describes the fixture: it must pass every check, or the fuzzer would
        // never get past the checksums (update the seed when the manifest changes).
        let seed = substitute(
            include_bytes!("../seeds/manifest_parser/full.json"),
            &f.placeholders,
        );
        let file = as_file("atslegas-fuzz-seed.zip", &zip_with_manifest(&f, &seed));
        if let Err(e) = archive::check(&file, None, &scratch().join("work"), &Cancel::new()) {
            panic!("seeds/manifest_parser/full.json does not describe the fixture: {e}");
        }
        f
    })
}

/// An archive with the fixture's database and config and `manifest` as its manifest.
fn zip_with_manifest(f: &Fixture, manifest: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in [
        (DB_ENTRY, &f.database[..]),
        (CONFIG_ENTRY, &f.config[..]),
        (MANIFEST_ENTRY, manifest),
    ] {
        zip.start_file(name, opts).expect("start an entry");
        zip.write_all(bytes).expect("write an entry");
    }
    zip.finish().expect("finish the archive").into_inner()
}

/// `data` with each placeholder replaced by its value.
fn substitute(data: &[u8], placeholders: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 128);
    let mut i = 0;
    'outer: while i < data.len() {
        for (name, value) in placeholders {
            if data[i..].starts_with(name) {
                out.extend_from_slice(value);
                i += name.len();
                continue 'outer;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

/// Target `manifest_parser`: the bytes are a `manifest.json` (placeholders such as
/// `@DB_SHA256@` stand for the fixture's values, so a seed can describe it). Parsed on
/// its own, then checked inside an archive that holds a real database and config.
pub fn manifest_parser(data: &[u8]) {
    let f = fixture();
    let text = substitute(data, &f.placeholders);
    if let Ok(m) = archive::parse_manifest(&text) {
        // What the writer serialises, the reader reads back unchanged.
        let again = serde_json::to_vec_pretty(&m).expect("a manifest serialises");
        assert_eq!(archive::parse_manifest(&again).as_ref(), Ok(&m));
    }
    let file = as_file("atslegas-fuzz-manifest.zip", &zip_with_manifest(f, &text));
    let work = scratch().join("work");
    if let Ok(checked) = archive::check(&file, None, &work, &Cancel::new()) {
        assert_eq!(
            archive::parse_manifest(&text).as_ref(),
            Ok(&checked.manifest)
        );
        assert!(checked.manifest.format_version <= archive::FORMAT_VERSION);
        assert!(checked.manifest.schema_version <= atslegas_core::db::SCHEMA_VERSION);
    }
}

/// A few records for imports to collide with: persons, keys, a group and the root user.
fn populate(store: &mut Store) {
    let actor = Actor::cli("fuzz");
    users::init_root(store, "root fuzz password 1").expect("root user");
    for (name, code, badge) in [
        ("Jānis Bērziņš", "E-1", "B-1"),
        ("Anna Ozola", "E-2", "B-2"),
    ] {
        let input = PersonInput {
            full_name: name.into(),
            code: Some(code.into()),
            badge: Some(badge.into()),
            active: true,
            ..PersonInput::default()
        };
        atslegas_core::persons::create(store, &actor, &input).expect("a person");
    }
    for number in ["101", "102"] {
        let input = keys::KeyInput {
            number: number.into(),
            name: Some(format!("Room {number}")),
            location: None,
            key_type: None,
            copies_note: None,
        };
        keys::create(store, &actor, &input).expect("a key");
    }
    groups::create(store, &actor, "Staff", Some("everyone")).expect("a group");
    groups::add_members(store, &actor, "Staff", &["E-1".to_string()]).expect("a member");
}

thread_local! {
    /// One database for every import run: a preview must leave it as it was (checked).
    static IMPORT_STORE: RefCell<Store> = RefCell::new({
        let mut s = Store::open_in_memory().expect("an in-memory database");
        populate(&mut s);
        s
    });
}

/// Targets `import_csv` and `import_json`: the bytes are a file to import. Only inputs
/// that read as the wanted kind (JSON starts with `[` or `{`) are tried, so each
/// target's corpus stays on its format. The preview (a dry run) is run for every kind
/// of record and both choices for existing ones.
pub fn import(data: &[u8], want_json: bool) {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'[' | b'{')) != want_json {
        return;
    }
    let file = as_file(
        if want_json {
            "import-fuzz.json"
        } else {
            "import-fuzz.csv"
        },
        data,
    );
    let actor = Actor::cli("fuzz");
    IMPORT_STORE.with(|s| {
        let mut store = s.borrow_mut();
        let before = archive::table_counts(store.conn()).expect("counts");
        for entity in [Entity::Persons, Entity::Keys, Entity::Groups, Entity::Users] {
            for on_existing in [OnExisting::Skip, OnExisting::Update] {
                let report = import::preview(
                    &mut store,
                    &actor,
                    entity,
                    &file,
                    on_existing,
                    &mut |_| {},
                    &Cancel::new(),
                );
                let Ok(r) = report else { continue };
                assert!(!r.applied, "a preview says it applied");
                assert_eq!(
                    r.planned.len() + r.errors.len(),
                    r.rows as usize,
                    "each row is planned or bad, once"
                );
                assert_eq!(r.created + r.updated + r.skipped, r.planned.len() as u64);
                // Each row is reported at its own line (CSV: the header is line 1) or
                // item number (JSON), inside the file.
                let mut lines: Vec<u64> = r.planned.iter().map(|p| p.line).collect();
                lines.extend(r.errors.iter().map(|e| e.line));
                lines.sort_unstable();
                lines.dedup();
                assert_eq!(
                    lines.len() as u64,
                    r.rows,
                    "two rows at one line: {lines:?}"
                );
                let (first, last) = if want_json {
                    (1, r.rows)
                } else {
                    (2, line_count(body))
                };
                assert!(
                    lines.iter().all(|l| (first..=last).contains(l)),
                    "a line outside {first}..={last}: {lines:?}"
                );
            }
        }
        let after = archive::table_counts(store.conn()).expect("counts");
        assert_eq!(before, after, "a preview wrote to the database");
    });
}

/// Lines of a text as an editor counts them: `\r\n`, `\n` and a lone `\r` each end one.
fn line_count(text: &[u8]) -> u64 {
    let mut n = 1;
    for (i, b) in text.iter().enumerate() {
        match b {
            b'\n' => n += 1,
            b'\r' if text.get(i + 1) != Some(&b'\n') => n += 1,
            _ => {}
        }
    }
    n
}
