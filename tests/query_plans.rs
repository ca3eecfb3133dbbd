//! The queries the dashboard runs on every paint, keystroke and filter change use an
//! index, checked with `EXPLAIN QUERY PLAN` on a real database file filled by the demo
//! generator. The SQL is the core's own (`CALENDAR_SQL`, `search_sql`, `list_sql`), so a
//! change to a query or to the schema that loses its index fails here, before a user with
//! a million key-log rows notices (docs/BENCHMARK.md has the timings).

use atslegas_core::audit::{self, AuditFilter};
use atslegas_core::demo::{self, DemoOptions};
use atslegas_core::keylog::{self, LogCursor, LogFilter};
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
/// index order) is fine. `what` names the query in the message.
#[track_caller]
fn assert_no_table_scan(what: &str, plan: &[String]) {
    for line in plan {
        if let Some(rest) = line.strip_prefix("SCAN ") {
            let table = rest.split_whitespace().next().unwrap_or("");
            assert!(
                !BIG.contains(&table) || rest.contains("INDEX"),
                "{what}: a full table scan: {line}\nplan: {plan:#?}"
            );
        }
    }
}

/// Fails unless some line uses `index` (a name, or a name with its seek:
/// "key_log_key (key_id=? AND at>? AND at<?)").
#[track_caller]
fn assert_uses(what: &str, plan: &[String], index: &str) {
    assert!(
        plan.iter()
            .any(|l| l.contains(&format!("INDEX {index} "))
                || l.ends_with(&format!("INDEX {index}"))),
        "{what}: expected index {index}\nplan: {plan:#?}"
    );
    assert_no_table_scan(what, plan);
}

/// Fails when SQLite must sort every matching row before it can return the first page.
#[track_caller]
fn assert_no_sort(what: &str, plan: &[String]) {
    assert!(
        !plan.iter().any(|l| l.contains("TEMP B-TREE")),
        "{what}: the rows are sorted in a temporary b-tree, not read in index order\nplan: {plan:#?}"
    );
}

/// One filter of a list screen: what it is (named when it fails), how it is set, and the
/// index its rows must be read from in order (`None`: no big table read whole).
type Case<F> = (&'static str, fn(&mut F), Option<&'static str>);

/// Runs every case: builds the filter, asks `sql` for its query and checks the plan.
fn assert_cases_read_in_order<F: Default>(
    cases: &[Case<F>],
    sql: impl Fn(&F) -> (String, Vec<Value>),
) {
    let db = demo_db();
    for (what, set, index) in cases {
        let mut f = F::default();
        set(&mut f);
        let (sql, args) = sql(&f);
        let p = plan(db.store.conn(), &sql, &args);
        match index {
            Some(index) => assert_uses(what, &p, index),
            None => assert_no_table_scan(what, &p),
        }
        assert_no_sort(what, &p);
    }
}

/// Thirty days (from November 2023), for the date-range filters.
const START: i64 = 1_700_000_000;
const END: i64 = 1_702_592_000;

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
    assert_uses("the calendar", &p, "keys_due");
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
    assert_uses(
        "a person's keys",
        &plan(db.store.conn(), &sql, &args),
        "keys_holder",
    );
}

// ---------------------------------------------------------------------------------------
// The key-log screen: every filter narrows through its index and pages in index order

#[test]
fn every_key_log_filter_reads_its_index_in_order() {
    assert_cases_read_in_order(KEY_LOG_CASES, keylog::search_sql);
}

/// A page after a cursor (keyset paging, how the Logs screen pages) reads the same index
/// in the same order: a deep page is one range, never `offset` rows skipped.
#[test]
fn a_key_log_page_after_a_cursor_reads_the_same_index_in_order() {
    assert_cases_read_in_order(KEY_LOG_CASES, after_cursor_sql);
    // And it is a range that starts at the cursor (`at<?` in the seek), not the index
    // read from its newest end with the older rows filtered out on the way.
    let db = demo_db();
    for (what, set, _) in KEY_LOG_CASES {
        let mut f = LogFilter::default();
        set(&mut f);
        let (sql, args) = after_cursor_sql(&f);
        let p = plan(db.store.conn(), &sql, &args);
        assert!(
            p.iter()
                .any(|l| l.starts_with("SEARCH l USING") && l.contains("at<?")),
            "{what}: the page after a cursor is not a range from the cursor\nplan: {p:#?}"
        );
    }
}

/// The SQL of a key-log page after a cursor, with the filters of `f`.
fn after_cursor_sql(f: &LogFilter) -> (String, Vec<Value>) {
    let f = LogFilter {
        before: Some(LogCursor { at: END, id: 2_000 }),
        ..f.clone()
    };
    let (sql, args) = keylog::search_sql(&f);
    assert!(
        sql.contains("l.at <= ?") && sql.ends_with("LIMIT ? OFFSET ?"),
        "{sql}"
    );
    assert_eq!(args.last(), Some(&Value::Integer(0)), "no rows skipped");
    (sql, args)
}

/// Paging by cursor gives exactly the rows paging by offset gives, page by page, for
/// each filter: rows of the same second included (they are ordered by id).
#[test]
fn paging_by_cursor_gives_the_rows_paging_by_offset_gives() {
    let mut db = demo_db();
    // Eight keys handed over at once: eight rows of one second, which a page of seven
    // splits (they are ordered by id within the second).
    let (keys, person): (Vec<String>, i64) = {
        let conn = db.store.conn();
        let keys = conn
            .prepare(
                "SELECT number FROM keys WHERE status = 'available' AND deleted_at IS NULL LIMIT 8",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let person = conn
            .query_row(
                "SELECT id FROM persons WHERE active = 1 AND deleted_at IS NULL LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (keys, person)
    };
    let items: Vec<&str> = keys.iter().map(String::as_str).collect();
    keylog::issue_keys(
        &mut db.store,
        &admin(),
        &items,
        &keylog::PersonRef::Id(person),
        &keylog::IssueRequest {
            override_reason: Some("paging test".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let conn = db.store.conn();
    let same_second: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT at FROM key_log GROUP BY at HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for (what, set, _) in KEY_LOG_CASES {
        let mut base = LogFilter {
            limit: Some(7),
            ..LogFilter::default()
        };
        set(&mut base);
        let mut by_offset = Vec::new();
        loop {
            let page = keylog::search(
                conn,
                &LogFilter {
                    offset: Some(by_offset.len() as u32),
                    ..base.clone()
                },
            )
            .unwrap();
            let n = page.len();
            by_offset.extend(page.into_iter().map(|e| e.id));
            if n < 7 {
                break;
            }
        }
        let mut by_cursor: Vec<i64> = Vec::new();
        let mut before = None;
        loop {
            let page = keylog::search(
                conn,
                &LogFilter {
                    before,
                    ..base.clone()
                },
            )
            .unwrap();
            let n = page.len();
            before = page.last().map(|e| LogCursor { at: e.at, id: e.id });
            by_cursor.extend(page.into_iter().map(|e| e.id));
            assert!(
                by_cursor.len() <= by_offset.len(),
                "{what}: the cursor pages go on past the end"
            );
            if n < 7 {
                break;
            }
        }
        assert_eq!(by_cursor, by_offset, "{what}");
    }
    assert!(
        same_second > 0,
        "no two rows in one second: the order within a second is untested"
    );
}

/// The Logs screen's key-log filters, each with the index its rows must be read from.
const KEY_LOG_CASES: &[Case<LogFilter>] = &[
    (
        "by date range",
        |f| (f.start, f.end) = (Some(START), Some(END)),
        Some("key_log_at"),
    ),
    // The plain list (no filter) is the same index, read from the newest end.
    ("unfiltered", |_| {}, Some("key_log_at")),
    ("by key", |f| f.key_id = Some(3), Some("key_log_key")),
    // With a date range too: both go into the same index seek.
    (
        "by key and date range",
        |f| (f.key_id, f.start, f.end) = (Some(3), Some(START), Some(END)),
        Some("key_log_key (key_id=? AND at>? AND at<?)"),
    ),
    (
        "by person",
        |f| f.person_id = Some(5),
        Some("key_log_person"),
    ),
    // Without key_log_actor (migration 2) a user with few rows meant reading the whole log.
    (
        "by user",
        |f| f.actor = Some("demo.anna".into()),
        Some("key_log_actor"),
    ),
    (
        "by action and date range",
        |f| (f.action, f.start, f.end) = (Some("lost".into()), Some(START), Some(END)),
        Some("key_log_action_at"),
    ),
];

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
        assert_no_table_scan(text, &p);
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
        let what = format!("the page at {offset}");
        assert_uses(&what, &p, "persons_name");
        assert_no_sort(&what, &p);
    }
}

// ---------------------------------------------------------------------------------------
// The audit log: newest first, per filter

#[test]
fn every_audit_list_filter_reads_its_index_in_order() {
    let cases: &[Case<AuditFilter>] = &[
        // Without audit_component_at (migration 2) every row of the component was sorted.
        (
            "by component",
            |f| f.component = Some("keys".into()),
            Some("audit_component_at"),
        ),
        // One record's history: its own index, in order, not a walk through the component.
        (
            "by record",
            |f| (f.component, f.record_id) = (Some("keys".into()), Some("17".into())),
            Some("audit_component_record"),
        ),
        (
            "by actor",
            |f| f.actor = Some("root".into()),
            Some("audit_actor"),
        ),
        (
            "by operation",
            |f| f.operation = Some("login".into()),
            Some("audit_operation"),
        ),
        (
            "by time",
            |f| (f.since, f.until) = (Some(START), Some(END)),
            Some("audit_at"),
        ),
        // Component and time together: one seek on (component, at).
        (
            "by component and time",
            |f| (f.component, f.since, f.until) = (Some("keys".into()), Some(START), Some(END)),
            Some("audit_component_at (component=? AND at>? AND at<?)"),
        ),
        // The unfiltered first page.
        ("unfiltered", |_| {}, None),
    ];
    assert_cases_read_in_order(cases, audit::list_sql);
}

// ---------------------------------------------------------------------------------------
// Key control: the past as it was, and the overdue list

#[test]
fn as_of_a_moment_each_key_is_one_seek_in_its_own_log_rows() {
    let db = demo_db();
    for one_key in [false, true] {
        let sql = atslegas_core::as_of::keys_at_sql(one_key);
        let mut args: Vec<Value> = vec![END.into(), 100i64.into(), 0i64.into()];
        if one_key {
            args.push("101".to_string().into());
        }
        let p = plan(db.store.conn(), &sql, &args);
        assert_uses("keys as of a moment", &p, "key_log_key (key_id=? AND at<?)");
        // Whether each was retired then: one seek in its own audit rows.
        assert_uses(
            "keys as of a moment",
            &p,
            "audit_component_record (component=? AND record_id=? AND at<?)",
        );
        assert!(
            !p.iter()
                .any(|l| l.contains("key_log_at") || l.contains("key_log_action_at")),
            "keys as of a moment must not range over all rows by time: {p:#?}"
        );
    }
}

#[test]
fn as_of_a_moment_a_persons_keys_come_from_their_own_rows() {
    let db = demo_db();
    let sql = atslegas_core::as_of::person_at_sql();
    let p = plan(db.store.conn(), &sql, &[END.into(), 1i64.into()]);
    assert_uses(
        "a person's keys as of a moment",
        &p,
        "key_log_person (person_id=? AND at<?)",
    );
    assert_uses(
        "a person's keys as of a moment",
        &p,
        "key_log_key (key_id=? AND at<?)",
    );
}

#[test]
fn the_overdue_list_reads_the_index_of_keys_out_by_due_time() {
    let db = demo_db();
    let p = plan(
        db.store.conn(),
        atslegas_core::overdue::LIST_SQL,
        &[END.into(), END.into()],
    );
    assert_uses("the overdue list", &p, "keys_due (due_back_at<?)");
    assert_no_sort("the overdue list", &p);
}
