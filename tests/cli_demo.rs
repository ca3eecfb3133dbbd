//! `atslegas-cli demo` and `atslegas-cli bench`, the real binary on a temporary data
//! folder: the demo fills an empty register once and refuses a second time; the bench
//! runs only on a demo database and reports every figure beside its target.

use atslegas_tests::{assert_fails, row, value, Cli};

#[test]
fn demo_fills_an_empty_register_and_refuses_a_second_time() {
    let cli = Cli::initialised();
    let v = cli.json(&[
        "demo",
        "--persons",
        "50",
        "--keys",
        "20",
        "--log-rows",
        "500",
    ]);
    assert_eq!(v["report"]["persons"], 50);
    assert_eq!(v["report"]["keys"], 20);
    assert_eq!(v["report"]["log_rows"], 500);
    assert!(v["db_bytes"].as_u64().unwrap() > 0);
    let db = cli.db();
    let rows: i64 = value(&db, "SELECT count(*) FROM key_log");
    assert_eq!(rows, 500);
    let audit: (String, String, String) = row(
        &db,
        "SELECT actor, component, operation FROM audit_log ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(audit, ("cli:tester".into(), "demo".into(), "import".into()));

    let out = cli.run(&["demo", "--persons", "5", "--keys", "5", "--log-rows", "5"]);
    let line = assert_fails(&out, 3);
    assert!(line.contains("empty register"), "{line}");
    let rows: i64 = value(&db, "SELECT count(*) FROM key_log");
    assert_eq!(rows, 500);
}

#[test]
fn bench_reports_every_figure_beside_its_target_on_a_demo_database() {
    let cli = Cli::initialised();
    cli.json(&[
        "demo",
        "--persons",
        "40",
        "--keys",
        "15",
        "--log-rows",
        "200",
    ]);
    let v = cli.json(&["bench", "--iterations", "2"]);
    let figures = v["figures"].as_array().unwrap();
    assert!(figures.len() >= 10, "{v}");
    for f in figures {
        assert!(f["target_ms"].as_f64().unwrap() > 0.0, "{f}");
        assert!(
            f["p99_ms"].as_f64().unwrap() >= f["p50_ms"].as_f64().unwrap(),
            "{f}"
        );
    }
    let names: Vec<&str> = figures
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for needed in ["issue a key", "return a key", "calendar, 37 days"] {
        assert!(names.contains(&needed), "{names:?}");
    }
    // Text output has the target column.
    let out = cli.run(&["bench", "--iterations", "1"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("TARGET"));
}

#[test]
fn bench_refuses_a_database_that_is_not_a_demo() {
    let cli = Cli::initialised();
    let out = cli.run(&["bench", "--iterations", "1"]);
    let line = assert_fails(&out, 3);
    assert!(line.contains("demo"), "{line}");
}
