//! The queries the dashboard runs on every paint, keystroke and filter change use an
//! index, checked with `EXPLAIN QUERY PLAN` on a real database file filled by the demo
//! generator. The SQL is the core's own (`CALENDAR_SQL`, `search_sql`, `list_sql`), so a
//! change to a query or to the schema that loses its index fails here, before a user with
//! a million key-log rows notices (docs/BENCHMARK.md has the timings).

use atslegas_core::audit::{self, AuditFilter};
use atslegas_core::demo::{self, DemoOptions};
use atslegas_core::keylog::{self, LogFilter};
use atslegas_core::keys::{self, KeyQuery};
use atslegas_core::persons::{self, PersonQuery};
use atslegas_tests::{admin, CoreDb};
use rusqlite::types::Value;
use rusqlite::Connection;

/// A small register (the plans do not depend on the size: there are no statistics).
fn demo_db() -> CoreDb {
    let mut db = CoreDb::new();
    let opts = DemoOptions {
        persons: 300,
        keys: 100,
        log_rows: 3_000,
        ..DemoOptions::default()
    };
    demo::generate(&mut db.store, &admin(), &opts, &mut |_, _| {}).unwrap();
    db
}

/// The plan's lines ("SEARCH l USING INDEX key_log_at (at>? AND at<?)", ...).
fn plan(conn: &Connection, sql: &str, args: &[Value]) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

/// The big tables, by the names and aliases the queries give them.
const BIG: &[&str] = &["key_log", "l", "audit_log", "persons", "p"];

/// Fails on a full scan of a big table that reads the table itself rather than an index
/// ("SCAN key_log", "SCAN l"); "SCAN persons USING INDEX persons_name" (a page read in
/// index order) is fine.
#[track_caller]
fn assert_no_table_scan(plan: &[String]) {
    for line in plan {
        if let Some(rest) = line.strip_prefix("SCAN ") {
            let table = rest.split_whitespace().next().unwrap_or("");
            assert!(
                !BIG.contains(&table) || rest.contains("INDEX"),
                "a full table scan: {line}\nplan: {plan:#?}"
            );
        }
    }
}

/// Fails unless some line uses `index`.
#[track_caller]
fn assert_uses(plan: &[String], index: &str) {
    assert!(
        plan.iter()
            .any(|l| l.contains(&format!("INDEX {index} "))
                || l.ends_with(&format!("INDEX {index}"))),
        "expected index {index}\nplan: {plan:#?}"
    );
    assert_no_table_scan(plan);
}

/// Fails when SQLite must sort every matching row before it can return the first page.
#[track_caller]
fn assert_no_sort(plan: &[String]) {
    assert!(
        !plan.iter().any(|l| l.contains("TEMP B-TREE")),
        "the rows are sorted in a temporary b-tree, not read in index order\nplan: {plan:#?}"
    );
}

fn log_plan(db: &CoreDb, f: LogFilter) -> Vec<String> {
    let (sql, args) = keylog::search_sql(&f);
    plan(db.store.conn(), &sql, &args)
}

fn audit_plan(db: &CoreDb, f: AuditFilter) -> Vec<String> {
    let (sql, args) = audit::list_sql(&f);
    plan(db.store.conn(), &sql, &args)
}

// ---------------------------------------------------------------------------------------
// The dashboard

#[test]
fn the_calendar_counts_through_the_action_and_due_indexes() {
    let db = demo_db();
    let days: Vec<[i64; 2]> = (0..37)
        .map(|i| [1_700_000_000 + i * 86_400, 1_700_086_400 + i * 86_400])
        .collect();
    let bounds = serde_json::to_string(&days).unwrap();
    let p = plan(db.store.conn(), keylog::CALENDAR_SQL, &[bounds.into()]);
    assert_eq!(
        p.iter()
            .filter(|l| l.contains("INDEX key_log_action_at (action=? AND at>? AND at<?)"))
            .count(),
        2,
        "{p:#?}"
    );
    assert_uses(&p, "keys_due");
    assert!(!p.iter().any(|l| l.contains("keys_status")), "{p:#?}");
}

#[test]
fn the_overdue_keys_list_reads_an_index_of_keys_out() {
    let db = demo_db();
    let q = KeyQuery {
        overdue_at: Some(1_800_000_000),
        ..Default::default()
    };
    let (sql, args) = keys::list_sql(&q, "due").unwrap();
    let p = plan(db.store.conn(), &sql, &args);
    assert!(
        p.iter()
            .any(|l| l.starts_with("SEARCH k USING INDEX keys_due")
                || l.starts_with("SEARCH k USING INDEX keys_status")),
        "{p:#?}"
    );
    // A person's keys, as the person page shows them.
    let q = KeyQuery {
        holder_person_id: Some(7),
        ..Default::default()
    };
    let (sql, args) = keys::list_sql(&q, "number").unwrap();
    assert_uses(&plan(db.store.conn(), &sql, &args), "keys_holder");
}

// ---------------------------------------------------------------------------------------
// The key-log screen: every filter narrows through its index and pages in index order

#[test]
fn key_log_by_date_range_reads_the_time_index_in_order() {
    let db = demo_db();
    let p = log_plan(
        &db,
        LogFilter {
            start: Some(1_700_000_000),
            end: Some(1_702_592_000),
            ..Default::default()
        },
    );
    assert_uses(&p, "key_log_at");
    assert_no_sort(&p);
    // The plain list (no filter) is the same index, read from the newest end.
    let p = log_plan(&db, LogFilter::default());
    assert_uses(&p, "key_log_at");
    assert_no_sort(&p);
}

#[test]
fn key_log_by_key_reads_the_keys_index_in_order() {
    let db = demo_db();
    let p = log_plan(
        &db,
        LogFilter {
            key_id: Some(3),
            ..Default::default()
        },
    );
    assert_uses(&p, "key_log_key");
    assert_no_sort(&p);
    // With a date range too: both go into the same index seek.
    let p = log_plan(
        &db,
        LogFilter {
            key_id: Some(3),
            start: Some(1_700_000_000),
            end: Some(1_702_592_000),
            ..Default::default()
        },
    );
    assert!(
        p.iter()
            .any(|l| l.contains("key_log_key (key_id=? AND at>? AND at<?)")),
        "{p:#?}"
    );
    assert_no_sort(&p);
}

#[test]
fn key_log_by_person_reads_the_persons_index_in_order() {
    let db = demo_db();
    let p = log_plan(
        &db,
        LogFilter {
            person_id: Some(5),
            ..Default::default()
        },
    );
    assert_uses(&p, "key_log_person");
    assert_no_sort(&p);
}

#[test]
fn key_log_by_user_reads_the_name_index_in_order() {
    // Without key_log_actor (migration 2) a user with few rows meant reading the whole log.
    let db = demo_db();
    let p = log_plan(
        &db,
        LogFilter {
            actor: Some("demo.anna".into()),
            ..Default::default()
        },
    );
    assert_uses(&p, "key_log_actor");
    assert_no_sort(&p);
}

#[test]
fn key_log_by_action_and_date_range_reads_the_action_index() {
    let db = demo_db();
    let p = log_plan(
        &db,
        LogFilter {
            action: Some("lost".into()),
            start: Some(1_700_000_000),
            end: Some(1_702_592_000),
            ..Default::default()
        },
    );
    assert_uses(&p, "key_log_action_at");
    assert_no_sort(&p);
}

// ---------------------------------------------------------------------------------------
// Persons: search per keystroke, and pages

#[test]
fn person_search_goes_through_the_full_text_index() {
    let db = demo_db();
    for text in ["b", "berzins", "janis berz"] {
        let q = PersonQuery {
            search: Some(text.into()),
            ..Default::default()
        };
        let (sql, args) = persons::list_sql(&q, "name").unwrap();
        let p = plan(db.store.conn(), &sql, &args);
        assert!(
            p.iter().any(|l| l.contains("persons_fts VIRTUAL TABLE")),
            "{text}: {p:#?}"
        );
        assert!(
            p.iter()
                .any(|l| l.starts_with("SEARCH persons USING INTEGER PRIMARY KEY")),
            "{text}: the matches are fetched by id: {p:#?}"
        );
        assert_no_table_scan(&p);
    }
}

#[test]
fn a_page_of_persons_reads_the_name_index_in_order() {
    let db = demo_db();
    for offset in [0, 9_900] {
        let q = PersonQuery {
            offset: Some(offset),
            ..Default::default()
        };
        let (sql, args) = persons::list_sql(&q, "name").unwrap();
        let p = plan(db.store.conn(), &sql, &args);
        assert_uses(&p, "persons_name");
        assert_no_sort(&p);
    }
}

// ---------------------------------------------------------------------------------------
// The audit log: newest first, per filter

#[test]
fn audit_list_by_component_reads_the_component_index_in_order() {
    // Without audit_component_at (migration 2) every row of the component was sorted.
    let db = demo_db();
    let p = audit_plan(
        &db,
        AuditFilter {
            component: Some("keys".into()),
            ..Default::default()
        },
    );
    assert_uses(&p, "audit_component_at");
    assert_no_sort(&p);
    // One record's history: its own index, in order, not a walk through the component.
    let p = audit_plan(
        &db,
        AuditFilter {
            component: Some("keys".into()),
            record_id: Some("17".into()),
            ..Default::default()
        },
    );
    assert_uses(&p, "audit_component_record");
    assert_no_sort(&p);
}

#[test]
fn audit_list_by_actor_and_operation_read_their_indexes_in_order() {
    let db = demo_db();
    let p = audit_plan(
        &db,
        AuditFilter {
            actor: Some("root".into()),
            ..Default::default()
        },
    );
    assert_uses(&p, "audit_actor");
    assert_no_sort(&p);
    let p = audit_plan(
        &db,
        AuditFilter {
            operation: Some("login".into()),
            ..Default::default()
        },
    );
    assert_uses(&p, "audit_operation");
    assert_no_sort(&p);
}

#[test]
fn audit_list_by_time_reads_the_time_index_in_order() {
    let db = demo_db();
    let p = audit_plan(
        &db,
        AuditFilter {
            since: Some(1_700_000_000),
            until: Some(1_702_592_000),
            ..Default::default()
        },
    );
    assert_uses(&p, "audit_at");
    assert_no_sort(&p);
    // Component and time together: one seek on (component, at).
    let p = audit_plan(
        &db,
        AuditFilter {
            component: Some("keys".into()),
            since: Some(1_700_000_000),
            until: Some(1_702_592_000),
            ..Default::default()
        },
    );
    assert!(
        p.iter()
            .any(|l| l.contains("audit_component_at (component=? AND at>? AND at<?)")),
        "{p:#?}"
    );
    assert_no_sort(&p);
    // The unfiltered first page.
    let p = audit_plan(&db, AuditFilter::default());
    assert_no_table_scan(&p);
    assert_no_sort(&p);
}
