//! Export and import on real files through the real `atslegas-cli`: the "Export all"
//! round trip, all-or-nothing bulk imports, CSV dialects, and exported CSV / XLSX read
//! back by independent readers (Python's csv module and openpyxl).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atslegas_core::export::{self, keylog::KeylogExportReport};
use atslegas_core::import::{self, Entity, ImportReport, OnExisting};
use atslegas_core::persons::{self, PersonInput};
use atslegas_core::store::Security;
use atslegas_core::work::{Cancel, Locations};
use atslegas_core::Store;
use atslegas_core::{Actor, Error};
use atslegas_tests::{admin, assert_success, column, row, stderr, stdout, value, Cli};
use rusqlite::Connection;

/// Every row of a table in a stable order, as text, optionally without some columns.
fn rows(conn: &Connection, table: &str, skip: &[&str]) -> Vec<Vec<String>> {
    let all: Vec<String> = column(
        conn,
        &format!("SELECT name FROM pragma_table_info('{table}')"),
    );
    let cols: Vec<String> = all
        .into_iter()
        .filter(|c| !skip.contains(&c.as_str()))
        .collect();
    let sql = format!("SELECT {} FROM {table} ORDER BY 1, 2", cols.join(", "));
    let mut stmt = conn.prepare(&sql).unwrap();
    let n = cols.len();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                let v: rusqlite::types::Value = r.get(i)?;
                Ok(format!("{v:?}"))
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Runs `export ARGS --out FILE` for each of `files` (named for their format) in a new
/// folder; returns the folder and the files.
fn export_each<const N: usize>(
    cli: &Cli,
    args: &[&str],
    files: [&str; N],
) -> (tempfile::TempDir, [PathBuf; N]) {
    let dir = tempfile::tempdir().unwrap();
    let paths = files.map(|name| dir.path().join(name));
    for path in &paths {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        all.extend(["--out", path.to_str().unwrap()]);
        cli.run_ok(&all);
    }
    (dir, paths)
}

/// The core's preview of importing `file` as persons, the existing ones skipped.
fn preview_persons(store: &mut Store, who: &Actor, file: &Path) -> Result<ImportReport, Error> {
    let (skip, cancel) = (OnExisting::Skip, Cancel::new());
    import::preview(
        store,
        who,
        Entity::Persons,
        file,
        skip,
        &mut |_| {},
        &cancel,
    )
}

/// The core's import of `file` as persons, the existing ones skipped, until `cancel`.
fn apply_persons(
    store: &mut Store,
    who: &Actor,
    loc: &Locations,
    file: &Path,
    cancel: &Cancel,
) -> Result<ImportReport, Error> {
    let skip = OnExisting::Skip;
    import::apply(
        store,
        who,
        loc,
        Entity::Persons,
        file,
        skip,
        &mut |_| {},
        cancel,
    )
}

/// The core's export of the key log from 1970 to 2038 to `out`, until `cancel`.
fn export_whole_keylog(
    store: &mut Store,
    who: &Actor,
    out: &Path,
    cancel: &Cancel,
) -> Result<KeylogExportReport, Error> {
    let end = i64::from(i32::MAX);
    export::keylog::export_keylog(store, who, 0, end, out, &mut |_| {}, cancel)
}

/// A file to import, `name` holding `contents`, in a temporary folder of its own (kept as
/// long as the folder returned with it).
fn import_file(name: &str, contents: impl AsRef<[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, contents).unwrap();
    (dir, file)
}

/// Asserts the run was refused as invalid input (exit code 3) and that `said` (standard
/// error for a file refused whole, standard output for the report on its rows) has `words`.
#[track_caller]
fn assert_invalid(out: &Output, said: fn(&Output) -> String, words: &str) {
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
    let text = said(out);
    assert!(text.contains(words), "{text}");
}

/// A small register with history, a Latvian name and a formula-like cell.
fn filled() -> Cli {
    let cli = Cli::demo(300, 60, 4000);
    let mut store = Store::open(&cli.db_path(), Security::default()).unwrap();
    let mut p = PersonInput::named("Jānis Bērziņš");
    p.code = Some("LV-ĀČĒ".into());
    p.notes = Some("=HYPERLINK(\"http://x\")".into());
    p.department = Some("'quoted".into());
    persons::create(&mut store, &admin(), &p).unwrap();
    let gone =
        persons::create(&mut store, &admin(), &PersonInput::named("Deleted Person")).unwrap();
    persons::delete(&mut store, &admin(), gone.id).unwrap();
    cli
}

fn zip_entry(zip: &Path, name: &str) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut e = z.by_name(name).unwrap();
    let mut v = Vec::new();
    e.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn export_all_then_import_all_into_an_empty_folder_reproduces_every_table() {
    let src = filled();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("all.zip");
    src.run_ok(&["export", "all", "--out", zip.to_str().unwrap()]);
    assert!(!dir.path().join("all.zip.partial").exists());

    let exported_audit = {
        let m: serde_json::Value =
            serde_json::from_slice(&zip_entry(&zip, "manifest.json")).unwrap();
        assert_eq!(m["neutralised"], true);
        m["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "audit_log")
            .unwrap()["rows"]
            .as_u64()
            .unwrap() as usize
    };

    let dst = Cli::new();
    let out = dst.run_ok(&["import", "all", zip.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("user passwd root"),
        "{}",
        stdout(&out)
    );

    let (a, b) = (src.db(), dst.db());
    for t in [
        "persons",
        "keys",
        "groups",
        "group_members",
        "group_keys",
        "key_log",
        "backups",
    ] {
        let (x, y) = (rows(&a, t, &[]), rows(&b, t, &[]));
        assert!(!x.is_empty() || t == "backups", "{t} has rows to compare");
        assert_eq!(x, y, "table {t} differs after the round trip");
    }
    assert_eq!(
        rows(&a, "users", &["password_hash"]),
        rows(&b, "users", &["password_hash"])
    );
    let hashes: i64 = value(
        &b,
        "SELECT count(*) FROM users WHERE password_hash IS NOT NULL",
    );
    assert_eq!(hashes, 0, "an export carries no password hashes");
    // The audit history is the exported chain, then the import's own row.
    let (xa, xb) = (rows(&a, "audit_log", &[]), rows(&b, "audit_log", &[]));
    assert_eq!(xb.len(), exported_audit + 1);
    assert_eq!(&xa[..exported_audit], &xb[..exported_audit]);
    assert!(xb[exported_audit].contains(&"Text(\"import\")".to_string()));
    dst.run_ok(&["audit", "verify"]);

    // Importing twice is refused: the database is no longer empty.
    let again = dst.run(&["import", "all", zip.to_str().unwrap()]);
    assert_invalid(&again, stderr, "empty database");
}

#[test]
fn export_all_writes_excel_csv_with_bom_and_neutralised_formulas_python_reads_back() {
    let src = filled();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("all.zip");
    src.run_ok(&["export", "all", "--out", zip.to_str().unwrap()]);
    let csv = zip_entry(&zip, "persons.csv");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let path = dir.path().join("persons.csv");
    std::fs::write(&path, &csv).unwrap();
    let py = Command::new("python3")
        .arg("-c")
        .arg(
            "import csv, json, sys\n\
             rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8-sig', newline='')))\n\
             print(json.dumps([r for r in rows if r['code'] == 'LV-ĀČĒ'], ensure_ascii=False))",
        )
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(py.status.success(), "{}", stderr(&py));
    let v: serde_json::Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(v[0]["full_name"], "Jānis Bērziņš");
    assert_eq!(
        v[0]["notes"], "'=HYPERLINK(\"http://x\")",
        "a formula is neutralised"
    );
    assert_eq!(
        v[0]["department"], "''quoted",
        "a leading ' is escaped too, so import can undo it"
    );
    assert!(v[0]["created_at"].as_str().unwrap().ends_with('Z'));
}

fn python_keylog_check(csv: &Path, xlsx: &Path) -> serde_json::Value {
    let script = r#"
import csv, json, sys
import openpyxl
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
wb = openpyxl.load_workbook(sys.argv[2], read_only=True)
ws = wb.worksheets[0]
x = []
for r in ws.iter_rows(values_only=True):
    x.append([c.strftime('%Y-%m-%dT%H:%M:%SZ') if hasattr(c, 'strftime') else (int(c) if isinstance(c, float) and c.is_integer() else c) for c in r])
print(json.dumps({"csv": rows, "xlsx": x, "date_type": type(list(ws.iter_rows(min_row=2, max_row=2, values_only=True))[0][3]).__name__}, ensure_ascii=False, default=str))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(csv)
        .arg(xlsx)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 with openpyxl failed (run scripts/deps.sh to install openpyxl): {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn key_log_csv_and_xlsx_are_read_back_by_python_csv_and_openpyxl_with_the_same_values() {
    let src = filled();
    let keylog = ["keylog", "--start", "0", "--end", "99999999999"];
    let (_dir, [csv, xlsx]) = export_each(&src, &keylog, ["log.csv", "log.xlsx"]);
    let v = python_keylog_check(&csv, &xlsx);
    let (c, x) = (v["csv"].as_array().unwrap(), v["xlsx"].as_array().unwrap());
    assert_eq!(
        v["date_type"], "datetime",
        "dates are real dates in the XLSX"
    );
    let n: i64 = value(&src.db(), "SELECT count(*) FROM key_log");
    assert_eq!(c.len() as i64, n + 1);
    assert_eq!(x.len(), c.len());
    assert_eq!(c[0][2], "keyNumber");
    // The first data row equals the database's oldest movement.
    let (id, action, number, at): (i64, String, String, i64) = row(&src.db(), "SELECT l.id, l.action, k.number, l.at FROM key_log l JOIN keys k ON k.id = l.key_id ORDER BY l.at, l.id LIMIT 1");
    assert_eq!(c[1][0], id.to_string());
    assert_eq!(
        c[1][1],
        if action == "issued" {
            "Izsniegts"
        } else {
            "Atgriezti"
        }
    );
    assert_eq!(c[1][2], number);
    assert_eq!(c[1][3], atslegas_core::time::iso_utc(at));
    for (i, (cr, xr)) in c.iter().zip(x).enumerate().skip(1) {
        let (cr, xr) = (cr.as_array().unwrap(), xr.as_array().unwrap());
        for col in [0usize, 1, 2, 3, 4, 6, 8] {
            let xs = match &xr[col] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(cr[col].as_str().unwrap(), xs, "row {i}, column {col}");
        }
    }
}

fn persons_csv(n: usize, sep: char, bad_at: Option<usize>) -> String {
    let mut s = format!("full_name{sep}code{sep}email{sep}department\r\n");
    for i in 0..n {
        let email = if Some(i) == bad_at {
            "not-an-address".to_string()
        } else {
            format!("p{i}@example.lv")
        };
        s.push_str(&format!(
            "\"Bērziņš{sep} Jānis {i}\"{sep}E-{i}{sep}{email}{sep}Nodaļa\r\n"
        ));
    }
    s
}

#[test]
fn a_persons_csv_with_one_bad_row_among_10000_imports_nothing_and_names_that_row() {
    let cli = Cli::initialised();
    let (_dir, file) = import_file("persons.csv", persons_csv(10_000, ';', Some(6_789)));
    let audit_before = atslegas_tests::count(&cli.db(), "audit_log");

    let out = cli.run(&["import", "persons", file.to_str().unwrap()]);
    // Header is line 1, so person 6789 is on line 6791.
    assert_invalid(&out, stdout, "line 6791, column email");
    let text = stdout(&out);
    assert!(text.contains("1 bad row"), "{text}");
    assert_eq!(
        atslegas_tests::count(&cli.db(), "persons"),
        0,
        "nothing imported"
    );
    assert_eq!(
        atslegas_tests::count(&cli.db(), "audit_log"),
        audit_before,
        "nothing audited"
    );
    assert!(
        !cli.data_dir().join("safety-backups").exists(),
        "no backup for a refused file"
    );

    // The preview of the fixed file says what would happen and writes nothing.
    std::fs::write(&file, persons_csv(10_000, ';', None)).unwrap();
    let out = cli.run_ok(&[
        "--json",
        "import",
        "persons",
        file.to_str().unwrap(),
        "--dry-run",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["created"], 10_000);
    assert_eq!(r["applied"], false);
    assert_eq!(atslegas_tests::count(&cli.db(), "persons"), 0);

    cli.run_ok(&["import", "persons", file.to_str().unwrap()]);
    assert_eq!(atslegas_tests::count(&cli.db(), "persons"), 10_000);
    let name: String = value(
        &cli.db(),
        "SELECT full_name FROM persons WHERE code = 'E-42'",
    );
    assert_eq!(name, "Bērziņš; Jānis 42");
    // The pinned safety backup holds the data as it was before the import (it is taken
    // while the import's transaction is open), verified, with its history row.
    let safety: Vec<_> = std::fs::read_dir(cli.data_dir().join("safety-backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .collect();
    assert_eq!(safety.len(), 1, "one pinned safety backup: {safety:?}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&safety[0]).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        manifest["counts"]["persons"], 0,
        "the state before the import"
    );
    assert_eq!(
        zip.by_name("database.db").unwrap().compression(),
        zip::CompressionMethod::Stored,
        "a safety backup stays on this disk: stored, not compressed, to be quick"
    );
    let out = cli.run(&["backup", "verify", safety[0].to_str().unwrap()]);
    assert_success(&out, "the safety backup verifies");
    let (status, pinned): (String, bool) = row(
        &cli.db(),
        "SELECT status, pinned FROM backups ORDER BY id DESC LIMIT 1",
    );
    assert_eq!((status.as_str(), pinned), ("verified", true));
    assert_eq!(
        atslegas_tests::count(&cli.db(), "audit_log"),
        audit_before + 2 + 10_000
    );

    // Again with skip: everything exists, nothing changes.
    let out = cli.run_ok(&[
        "--json",
        "import",
        "persons",
        file.to_str().unwrap(),
        "--on-existing",
        "skip",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["skipped"], 10_000);
    assert_eq!(r["created"], 0);
}

#[test]
fn semicolon_and_comma_files_with_and_without_bom_import_the_same_latvian_names() {
    for (sep, bom) in [(';', false), (';', true), (',', false), (',', true)] {
        let cli = Cli::initialised();
        let mut bytes = if bom {
            b"\xEF\xBB\xBF".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend_from_slice(persons_csv(3, sep, None).as_bytes());
        let (_dir, file) = import_file("p.csv", bytes);
        cli.run_ok(&["import", "persons", file.to_str().unwrap()]);
        let names: Vec<String> = column(
            &cli.db(),
            "SELECT full_name || '|' || department FROM persons ORDER BY id",
        );
        assert_eq!(
            names,
            (0..3)
                .map(|i| format!("Bērziņš{sep} Jānis {i}|Nodaļa"))
                .collect::<Vec<_>>(),
            "sep {sep:?}, BOM {bom}"
        );
    }
}

/// Issue "[2 of 6] Trust", finding 5: an import file has a size limit of the app's own.
#[test]
fn an_import_file_over_50_mb_is_refused_before_it_is_read_and_changes_nothing() {
    let cli = Cli::initialised();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("persons.csv");
    let f = std::fs::File::create(&file).unwrap();
    // A sparse file: as large as a real one to the size check, nothing on the disk.
    f.set_len(50_000_001).unwrap();
    for args in [
        &["import", "persons", file.to_str().unwrap(), "--dry-run"][..],
        &["import", "persons", file.to_str().unwrap()],
    ] {
        let out = cli.run(args);
        assert_invalid(&out, stderr, "more than the 50 MB an import file may be");
    }
    assert_eq!(atslegas_tests::count(&cli.db(), "persons"), 0);
}

#[test]
fn malformed_json_gets_a_clear_error_and_changes_nothing() {
    let cli = Cli::initialised();
    let (_dir, file) = import_file(
        "persons.json",
        "[{\"full_name\": \"Anna\"},\n {\"full_name\": \"Ilze\",}]",
    );
    let out = cli.run(&["import", "persons", file.to_str().unwrap()]);
    assert_invalid(&out, stderr, "not valid JSON at line 2");
    assert_eq!(atslegas_tests::count(&cli.db(), "persons"), 0);
}

#[test]
fn keys_groups_and_users_import_from_csv_and_json_without_storing_plain_passwords() {
    let cli = Cli::initialised();
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let persons = w(
        "p.json",
        r#"{"persons": [{"fullName": "Līga Ozola", "code": "E-1"}, {"fullName": "Pēteris", "code": "E-2", "active": false}]}"#,
    );
    cli.run_ok(&["import", "persons", &persons]);
    let keys = w(
        "k.csv",
        "keyNumber;room;type\n101;Telpa 101;master\n102;Telpa 102;\n",
    );
    cli.run_ok(&["import", "keys", &keys]);
    let groups = w(
        "g.csv",
        "name,description,members,keys\nIT,Datori,E-1|E-2,101|102\nBad,,E-404,\n",
    );
    let out = cli.run(&["import", "groups", &groups]);
    assert_invalid(&out, stdout, "line 3, column members");
    let groups = w(
        "g2.csv",
        "name,description,members,keys\nIT,Datori,E-1|E-2,101|102\n",
    );
    cli.run_ok(&["import", "groups", &groups]);
    let db = cli.db();
    assert_eq!(atslegas_tests::count(&db, "group_members"), 2);
    assert_eq!(atslegas_tests::count(&db, "group_keys"), 2);

    let users = w("u.csv", "username;role;password\nanna;operator;\nilze;viewer;correct horse battery\nweak;viewer;123\n");
    let out = cli.run(&["import", "users", &users]);
    assert_invalid(&out, stdout, "line 4, column password");
    let users = w(
        "u2.csv",
        "username;role;password\nanna;operator;\nilze;viewer;correct horse battery\n",
    );
    cli.run_ok(&["import", "users", &users]);
    let db = cli.db();
    let anna: Option<String> = value(
        &db,
        "SELECT password_hash FROM users WHERE username = 'anna'",
    );
    assert_eq!(anna, None, "no password: must be set before signing in");
    let ilze: String = value(
        &db,
        "SELECT password_hash FROM users WHERE username = 'ilze'",
    );
    assert!(ilze.starts_with("$argon2id$"));
    let audit_text: String = value(
        &db,
        "SELECT group_concat(coalesce(after, ''), ' ') FROM audit_log",
    );
    assert!(
        !audit_text.contains("correct horse battery"),
        "the password is never audited"
    );

    // Update: the role changes, the row is audited with before and after.
    let users = w("u3.csv", "username,role\nanna,admin\n");
    cli.run_ok(&["import", "users", &users, "--on-existing", "update"]);
    let role: String = value(&cli.db(), "SELECT role FROM users WHERE username = 'anna'");
    assert_eq!(role, "admin");
}

#[test]
fn audit_export_as_csv_and_json_applies_the_filters() {
    let cli = filled();
    let persons = ["audit", "--component", "persons"];
    let (_dir, [csv, json]) = export_each(&cli, &persons, ["a.csv", "a.json"]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = v.as_array().unwrap();
    let n: i64 = value(
        &cli.db(),
        "SELECT count(*) FROM audit_log WHERE component = 'persons'",
    );
    assert_eq!(rows.len() as i64, n);
    assert!(rows.iter().all(|r| r["component"] == "persons"));
    let mut rdr = csv::Reader::from_path(&csv).unwrap();
    assert_eq!(rdr.records().count() as i64, n);
}

#[test]
fn a_preview_names_the_rule_each_bad_row_breaks_so_the_window_can_translate_it() {
    let cli = Cli::initialised();
    // Latvian headers, as Excel users in Latvia write them.
    let (_dir, file) = import_file(
        "personas.csv",
        "Vārds;Kods;E-pasts;Aktīvs\r\n\
         Jānis Bērziņš;E-1;janis@example.lv;1\r\n\
         Ģirts Ķēniņš;E-2;girts-bez-domena;1\r\n\
         Ļena Šņore;E-1;;1\r\n\
         ;E-4;;\r\n\
         Anna Kalniņa;E-5;;varbūt\r\n",
    );
    let out = cli.run(&[
        "--json",
        "import",
        "persons",
        file.to_str().unwrap(),
        "--dry-run",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", stdout(&out), stderr(&out));
    });
    let errors: Vec<(u64, &str, &str, serde_json::Value)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["rule"].as_str().unwrap_or(""),
                e["vars"].clone(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (
                3,
                "email",
                "email",
                serde_json::json!({"value": "girts-bez-domena"})
            ),
            (
                4,
                "code",
                "import_twice",
                serde_json::json!({"value": "E-1", "first": 2})
            ),
            (5, "full_name", "required", serde_json::Value::Null),
            (
                6,
                "active",
                "import_yes_no",
                serde_json::json!({"value": "varbūt"})
            ),
        ]
    );
    assert_eq!(r["created"], 1);
    assert_eq!(atslegas_tests::count(&cli.db(), "persons"), 0);
}

#[test]
fn only_admins_import_and_export_everything_and_a_refusal_writes_nothing() {
    use atslegas_core::export::all;
    let cli = Cli::initialised();
    let (dir, file) = import_file("p.csv", persons_csv(3, ',', None));
    let mut store = Store::open(&cli.db_path(), Security::default()).unwrap();
    let loc = cli.locations();
    let audit_before = atslegas_tests::count(&cli.db(), "audit_log");
    for who in [atslegas_tests::operator(), atslegas_tests::viewer()] {
        let e = preview_persons(&mut store, &who, &file).unwrap_err();
        assert_eq!(e.code(), "not_allowed");
        let e = apply_persons(&mut store, &who, &loc, &file, &Cancel::new()).unwrap_err();
        assert_eq!(e.code(), "not_allowed");
        let zip = dir.path().join("all.zip");
        let e = all::export_all(&mut store, &who, &zip, &mut |_| {}, &Cancel::new()).unwrap_err();
        assert_eq!(e.code(), "not_allowed");
        assert!(!zip.exists());
    }
    assert_eq!(atslegas_tests::count(&cli.db(), "persons"), 0);
    assert_eq!(atslegas_tests::count(&cli.db(), "audit_log"), audit_before);
    assert!(!cli.data_dir().join("safety-backups").exists());
    // Everyone who reads the key log may export it.
    let out = dir.path().join("kl.csv");
    let r =
        export_whole_keylog(&mut store, &atslegas_tests::viewer(), &out, &Cancel::new()).unwrap();
    assert_eq!(r.rows, 0);
    assert!(out.exists());
}

#[test]
fn a_cancelled_key_log_export_leaves_no_file_and_a_cancelled_import_writes_nothing() {
    let cli = filled();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&cli.db_path(), Security::default()).unwrap();
    let cancel = Cancel::new();
    cancel.cancel();
    let out = dir.path().join("kl.csv");
    let e = export_whole_keylog(&mut store, &admin(), &out, &cancel).unwrap_err();
    assert_eq!(e.code(), "cancelled");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file, no .partial"
    );

    let file = dir.path().join("p.csv");
    std::fs::write(&file, persons_csv(50, ',', None)).unwrap();
    let persons_before = atslegas_tests::count(&cli.db(), "persons");
    let audit_before = atslegas_tests::count(&cli.db(), "audit_log");
    let loc = cli.locations();
    let e = apply_persons(&mut store, &admin(), &loc, &file, &cancel).unwrap_err();
    assert_eq!(e.code(), "cancelled");
    assert_eq!(atslegas_tests::count(&cli.db(), "persons"), persons_before);
    assert_eq!(atslegas_tests::count(&cli.db(), "audit_log"), audit_before);
}

/// A rule an import error names, with its values.
type Named = (String, serde_json::Value);

/// The rule an import error names, through the core's preview of `text` as persons: the
/// bad rows' (line, rule, values), or the whole file's.
fn preview_rule(text: &str) -> Result<Vec<(u64, String, serde_json::Value)>, Named> {
    let cli = Cli::initialised();
    let (_dir, file) = import_file("personas.csv", text);
    let mut store = Store::open(&cli.db_path(), Security::default()).unwrap();
    match preview_persons(&mut store, &admin(), &file) {
        Ok(r) => Ok(r
            .errors
            .iter()
            .map(|e| (e.line, e.rule.to_string(), e.vars.clone()))
            .collect()),
        Err(atslegas_core::Error::Invalid { rule, vars, .. }) => Err((rule.to_string(), vars)),
        Err(other) => panic!("not a validation error: {other}"),
    }
}

#[test]
fn file_level_import_errors_and_extra_cells_name_their_rule_too() {
    use serde_json::json;
    assert_eq!(
        preview_rule("Vārds;Kods\r\nJānis Bērziņš;E-1;lieks\r\n").unwrap(),
        vec![(
            2,
            "import_extra_cells".to_string(),
            json!({"cells": 3, "columns": 2})
        )]
    );
    assert_eq!(
        preview_rule("Vārds;Kods;Emial\r\nJānis Bērziņš;E-1;j@example.lv\r\n")
            .unwrap_err()
            .0,
        "import_unknown_column"
    );
    assert_eq!(
        preview_rule("[{\"full_name\": \"A\"},\n 7]").unwrap_err(),
        ("import_json_item".to_string(), json!({"item": 2}))
    );
    assert_eq!(
        preview_rule("[{\"full_name\": \"A\",}]").unwrap_err().0,
        "import_bad_json"
    );
    assert_eq!(
        preview_rule("Vārds;Kods\r\n").unwrap_err(),
        ("import_no_rows".to_string(), serde_json::Value::Null)
    );
}

/// The ids in a key-log CSV the CLI wrote.
fn keylog_ids(path: &Path) -> Vec<i64> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| {
            r.unwrap()[0]
                .trim_start_matches('\u{feff}')
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn the_key_log_export_takes_the_log_screens_filters_and_records_them() {
    let cli = filled();
    let dir = tempfile::tempdir().unwrap();
    let db = cli.db();
    // A busy person and a busy key of the demo data, and one action.
    let (person_id, code): (i64, String) = row(
        &db,
        "SELECT p.id, p.code FROM key_log l JOIN persons p ON p.id = l.person_id
              GROUP BY p.id ORDER BY count(*) DESC LIMIT 1",
    );
    let (key_id, number): (i64, String) = row(
        &db,
        "SELECT k.id, k.number FROM key_log l JOIN keys k ON k.id = l.key_id
              GROUP BY k.id ORDER BY count(*) DESC LIMIT 1",
    );
    let expected = |clause: &str, v: &dyn rusqlite::ToSql| -> Vec<i64> {
        db.prepare(&format!(
            "SELECT id FROM key_log WHERE {clause} ORDER BY at, id"
        ))
        .unwrap()
        .query_map([v], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let export = |name: &str, extra: &[&str]| -> Vec<i64> {
        let out = dir.path().join(name);
        let mut args = vec![
            "export",
            "keylog",
            "--start",
            "0",
            "--end",
            "4000000000",
            "--out",
        ];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        assert_success(&cli.run(&args), &args.join(" "));
        keylog_ids(&out)
    };
    let by_person = export("person.csv", &["--person", &code]);
    assert!(!by_person.is_empty());
    assert_eq!(by_person, expected("person_id = ?1", &person_id));
    let by_key = export("key.csv", &["--key", &number]);
    assert_eq!(by_key, expected("key_id = ?1", &key_id));
    let returned = export("returned.csv", &["--action", "returned"]);
    assert_eq!(returned, expected("action = ?1", &"returned"));
    let all: i64 = value(&db, "SELECT count(*) FROM key_log");
    assert!((returned.len() as i64) < all);

    // The audit row says which filters the file holds.
    let row = atslegas_tests::last_audit(&cli.db());
    assert_eq!(row.component, "export");
    assert_eq!(row.after.unwrap()["detail"]["action"], "returned");

    // A wrong action is named, and nothing is written.
    let out = cli.run(&[
        "export",
        "keylog",
        "--start",
        "0",
        "--end",
        "1",
        "--action",
        "borrowed",
        "--out",
        dir.path().join("x.csv").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("\"borrowed\" is not an action"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("x.csv").exists());
}

#[test]
fn an_import_that_updates_goes_through_each_concepts_rules_and_audits_each_record_once() {
    use atslegas_core::{groups, keys};
    let cli = Cli::initialised();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&cli.db_path(), Security::default()).unwrap();
    let loc = cli.locations();
    let a = admin();
    let janis = PersonInput {
        code: Some("E-1".into()),
        badge: Some("B-1".into()),
        ..PersonInput::named("Jānis Bērziņš")
    };
    persons::create(&mut store, &a, &janis).unwrap();
    let anna = PersonInput {
        code: Some("E-2".into()),
        ..PersonInput::named("Anna Kalniņa")
    };
    persons::create(&mut store, &a, &anna).unwrap();
    keys::create(&mut store, &a, &keys::KeyInput::numbered("A-1")).unwrap();
    groups::create(&mut store, &a, "IT", None).unwrap();
    let mut run = |what: Entity, name: &str, text: &str, apply: bool| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let (p, c) = (&mut |_| {}, &Cancel::new());
        if apply {
            import::apply(&mut store, &a, &loc, what, &file, OnExisting::Update, p, c)
        } else {
            import::preview(&mut store, &a, what, &file, OnExisting::Update, p, c)
        }
        .unwrap()
    };

    // The persons' own unique rule, named on the file's line and column.
    let r = run(
        Entity::Persons,
        "p.csv",
        "full_name,code,badge\nAnna K.,E-2,b-1\n",
        false,
    );
    let e = &r.errors[0];
    assert_eq!((e.line, e.column.as_deref()), (2, Some("badge")));
    assert_eq!(e.reason, "\"b-1\" is already the badge of another person");
    assert_eq!(e.rule, "import_taken");
    // The persons' field rules, in the order of the columns.
    let r = run(
        Entity::Persons,
        "p2.csv",
        "full_name,code,email\n,E-2,nav-adrese\n",
        false,
    );
    assert_eq!(r.errors[0].column.as_deref(), Some("full_name"));

    let audit_before = atslegas_tests::count(&cli.db(), "audit_log");
    let r = run(Entity::Keys, "k.csv", "number,name\na-1,Telpa 1\n", true);
    assert_eq!((r.updated, r.applied), (1, true));
    let r = run(
        Entity::Groups,
        "g.csv",
        "name,description,members,keys\nit,Datori,E-1|E-2,a-1\n",
        true,
    );
    assert_eq!((r.updated, r.applied), (1, true));
    let db = cli.db();
    // Matched without regard to case, the key and the group keep what they are called.
    let key: (String, Option<String>) = db
        .query_row("SELECT number, name FROM keys", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(key, ("A-1".to_string(), Some("Telpa 1".to_string())));
    let group: (String, Option<String>) = db
        .query_row("SELECT name, description FROM groups", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(group, ("IT".to_string(), Some("Datori".to_string())));
    assert_eq!(atslegas_tests::count(&db, "group_members"), 2);
    assert_eq!(atslegas_tests::count(&db, "group_keys"), 1);
    // Per import: one `import` row per record and one summary row.
    let rows: Vec<(String, String)> = db
        .prepare("SELECT component, operation FROM audit_log WHERE id > ?1 AND operation = 'import' ORDER BY id")
        .unwrap()
        .query_map([audit_before], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let rows: Vec<(&str, &str)> = rows.iter().map(|(c, o)| (c.as_str(), o.as_str())).collect();
    assert_eq!(
        rows,
        [
            ("keys", "import"),
            ("import", "import"),
            ("groups", "import"),
            ("import", "import"),
        ]
    );
    let after: String = value(
        &db,
        "SELECT after FROM audit_log WHERE component = 'groups' AND operation = 'import'",
    );
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(after["members"], serde_json::json!(["E-1", "E-2"]));
    assert_eq!(after["keys"], serde_json::json!(["A-1"]));
}
