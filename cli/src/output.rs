//! Printing results: aligned text for people, JSON (`--json`) for scripts. Nothing here
//! decides anything; it only formats what the core returned.

use std::path::Path;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use atslegas_core::anchors::AnchoredReport;
use atslegas_core::audit::AuditEntry;
use atslegas_core::bench::BenchReport;
use atslegas_core::config::Paths;
use atslegas_core::demo::DemoReport;
use atslegas_core::groups::Group;
use atslegas_core::keylog::{CalendarDay, LogEntry, Summary};
use atslegas_core::keys::Key;
use atslegas_core::persons::Person;
use atslegas_core::receipts::Receipt;
use atslegas_core::sets::KeySet;
use atslegas_core::time::{iso_utc, local_display};
use atslegas_core::users::User;
use atslegas_core::work::Progress;
use serde::Serialize;
use serde_json::json;

/// Progress of long work (backup, restore, export, import) on standard error, only for a
/// person watching a terminal: a line when a step starts, every ten per cent, and at 100.
pub fn progress_printer() -> impl FnMut(Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last = (String::new(), 0u64);
    move |p: Progress| {
        if !tty {
            return;
        }
        let pct = (p.done * 100).checked_div(p.total).unwrap_or(0);
        if last.0 != p.step || pct >= last.1 + 10 || pct == 100 {
            eprintln!("  {} {pct}%", p.step);
            last = (p.step.to_string(), pct);
        }
    }
}

pub struct Out {
    pub json: bool,
}

/// `println!` for results: every line the CLI prints goes through here.
///
/// When whoever reads the output stops early (`atslegas-cli keylog list | head`), the
/// pipe closes; `println!` would then panic ("failed printing to stdout"). Instead the
/// rest of the output is dropped quietly and the command finishes its work and exits
/// as it would have, as Unix tools do. Any other failure to write (a full disk behind
/// `> file`) is kept and reported when the command ends ([`output_failure`]).
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Where the output stands: still open, closed by its reader, or failed.
static STDOUT: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);

/// One line to standard output (see [`outln!`]).
pub(crate) fn write_line(args: std::fmt::Arguments) {
    let mut failed = STDOUT.lock().unwrap_or_else(|e| e.into_inner());
    if failed.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        *failed = Some(e);
    }
}

/// Why the output could not be written, unless its reader closed it on purpose.
pub fn output_failure() -> Option<String> {
    let failed = STDOUT.lock().unwrap_or_else(|e| e.into_inner());
    match failed.as_ref() {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Some(format!("could not write the output: {e}"))
        }
        _ => None,
    }
}

pub(crate) fn print_json<T: Serialize + ?Sized>(v: &T) {
    outln!(
        "{}",
        serde_json::to_string_pretty(v).expect("results serialise")
    );
}

/// A time in the desktop's zone, or nothing.
pub(crate) fn when(t: Option<i64>) -> String {
    t.map(local_display).unwrap_or_default()
}

pub(crate) fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// Prints rows as columns padded to the widest cell (counting characters, so "Bērziņš"
/// lines up with "Berzins").
pub(crate) fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(widths[i] - c.chars().count())))
            .collect();
        outln!("{}", parts.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r);
    }
}

impl Out {
    /// A list: the records as JSON, or a table under `header` with one `row` a record.
    pub(crate) fn list<T: Serialize>(
        &self,
        items: &[T],
        header: &[&str],
        row: impl Fn(&T) -> Vec<String>,
    ) {
        if self.json {
            return print_json(items);
        }
        table(header, items.iter().map(row).collect());
    }

    /// The result of a write: the record as JSON, or one sentence.
    pub fn done<T: Serialize>(&self, value: &T, sentence: &str) {
        if self.json {
            print_json(value);
        } else {
            outln!("{sentence}");
        }
    }

    pub fn users(&self, users: &[User]) {
        self.list(
            users,
            &["USERNAME", "ROLE", "ROOT", "ACTIVE", "LAST SIGN-IN"],
            |u| {
                vec![
                    u.username.clone(),
                    u.role.as_str().into(),
                    if u.is_root { "yes" } else { "" }.into(),
                    if u.active { "yes" } else { "no" }.into(),
                    when(u.last_login_at),
                ]
            },
        );
    }

    pub fn persons(&self, persons: &[Person]) {
        self.list(
            persons,
            &["ID", "NAME", "CODE", "DEPARTMENT", "BADGE", "STATE"],
            |p| {
                vec![
                    p.id.to_string(),
                    p.full_name.clone(),
                    opt(&p.code).into(),
                    opt(&p.department).into(),
                    opt(&p.badge).into(),
                    if p.deleted_at.is_some() {
                        "deleted"
                    } else if p.active {
                        "active"
                    } else {
                        "inactive"
                    }
                    .into(),
                ]
            },
        );
    }

    pub fn groups(&self, groups: &[Group]) {
        self.list(groups, &["NAME", "MEMBERS", "KEYS", "DESCRIPTION"], |g| {
            vec![
                g.name.clone(),
                g.member_count.to_string(),
                g.key_count.to_string(),
                opt(&g.description).into(),
            ]
        });
    }

    pub fn sets(&self, sets: &[KeySet]) {
        self.list(sets, &["NAME", "TAG", "KEYS", "DELETED"], |s| {
            vec![
                s.name.clone(),
                opt(&s.tag).into(),
                s.numbers().join(", "),
                when(s.deleted_at),
            ]
        });
    }

    /// One receipt: as JSON, or as the lines it prints.
    pub fn receipt(&self, r: &Receipt) {
        if self.json {
            return print_json(r);
        }
        let what = if r.kind == "issue" { "Issue" } else { "Return" };
        outln!("{} — receipt {} ({what})", r.site_name, r.number);
        outln!("Time:      {}", local_display(r.at));
        if let Some(p) = &r.person {
            let more: Vec<&str> = [p.code.as_deref(), p.department.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            outln!("Person:    {} {}", p.full_name, more.join(" · "));
        }
        if let Some(set) = &r.set_name {
            outln!("Set:       {set}");
        }
        for k in &r.keys {
            let place: Vec<&str> = [k.name.as_deref(), k.location.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            outln!("Key:       {} {}", k.number, place.join(" · "));
        }
        if let Some(d) = r.due_back_at {
            outln!("Due back:  {}", local_display(d));
        }
        outln!("Handed by: {}", r.user);
        outln!("Signed:    {}", if r.signed { "yes" } else { "no" });
        outln!("Audit:     {}", r.audit_hash);
    }

    pub fn keys(&self, keys: &[Key]) {
        self.list(
            keys,
            &["NUMBER", "ROOM", "LOCATION", "STATUS", "HOLDER", "DUE BACK"],
            |k| {
                vec![
                    k.number.clone(),
                    opt(&k.name).into(),
                    opt(&k.location).into(),
                    if k.deleted_at.is_some() {
                        "deleted".into()
                    } else {
                        k.status.clone()
                    },
                    opt(&k.holder_name).into(),
                    when(k.due_back_at),
                ]
            },
        );
    }

    pub fn log(&self, rows: &[LogEntry]) {
        self.list(
            rows,
            &["TIME", "ACTION", "KEY", "PERSON", "USER", "COMMENT"],
            |e| {
                vec![
                    local_display(e.at),
                    e.action_label().into(),
                    e.key_number.clone(),
                    opt(&e.person_name).into(),
                    e.user_name.clone(),
                    opt(&e.comment).into(),
                ]
            },
        );
    }

    /// The reference's key-log JSON: id (as text), action label, keyNumber, at (ISO 8601
    /// UTC), userName (who handed it out), comment; plus the person and due date.
    pub fn keylog_reference(&self, rows: &[LogEntry]) {
        if !self.json {
            return self.log(rows);
        }
        let v: Vec<_> = rows
            .iter()
            .map(|e| {
                json!({
                    "id": e.id.to_string(),
                    "action": e.action_label(),
                    "keyNumber": e.key_number,
                    "at": iso_utc(e.at),
                    "userName": e.user_name,
                    "comment": e.comment,
                    "personName": e.person_name,
                    "dueBackAt": e.due_back_at.map(iso_utc),
                    "overrideReason": e.override_reason,
                })
            })
            .collect();
        print_json(&v);
    }

    pub fn calendar(&self, days: &[CalendarDay], today: chrono::NaiveDate) {
        self.list(days, &["DATE", "IZSNIEGTI", "ATGRIEZTI", "DUE"], |d| {
            vec![
                format!("{}{}", d.date, if d.date == today { " *" } else { "" }),
                d.issued.to_string(),
                d.returned.to_string(),
                d.due.to_string(),
            ]
        });
    }

    pub fn audit(&self, rows: &[AuditEntry]) {
        self.list(
            rows,
            &["ID", "TIME", "ACTOR", "COMPONENT", "RECORD", "OPERATION"],
            |a| {
                vec![
                    a.id.to_string(),
                    local_display(a.at),
                    a.actor.clone(),
                    a.component.clone(),
                    opt(&a.record_id).into(),
                    a.operation.clone(),
                ]
            },
        );
    }

    pub fn verify(&self, r: &AnchoredReport) {
        if self.json {
            return print_json(r);
        }
        let c = &r.chain;
        if c.problems.is_empty() {
            outln!("Audit trail intact: {} rows checked.", c.rows_checked);
        } else {
            outln!(
                "AUDIT TRAIL DAMAGED: {} problem(s) in {} rows.",
                c.problems.len(),
                c.rows_checked
            );
            for p in &c.problems {
                match p.key_log_id {
                    Some(k) if p.id == 0 => {
                        outln!("  key-log row {k}: {} - {}", p.kind, p.detail)
                    }
                    Some(k) => outln!(
                        "  row {} (key-log row {k}): {} - {}",
                        p.id,
                        p.kind,
                        p.detail
                    ),
                    None => outln!("  row {}: {} - {}", p.id, p.kind, p.detail),
                }
            }
        }
        let k = &c.key_log;
        outln!(
            "Key log: {} rows, {} vouched for by their audit rows, {} older than that check (not covered).",
            k.rows_checked, k.covered, k.not_covered
        );
        if !r.anchor_problems.is_empty() {
            outln!(
                "AUDIT TRAIL DOES NOT REACH {} ANCHOR(S):",
                r.anchor_problems.len()
            );
            for p in &r.anchor_problems {
                outln!("  row {}: {} - {}", p.id, p.kind, p.detail);
            }
        }
        match &r.anchor {
            Some(a) => outln!("Verified up to row {} of {}.", a.id, a.describe()),
            None if r.anchor_problems.is_empty() => {
                outln!("No anchor to verify against (no journal line, backup or export names the trail's tip yet).")
            }
            None => {}
        }
        for n in &r.not_checked {
            outln!(
                "  not checked: {} ({}: {})",
                n.file.display(),
                n.reason,
                n.detail
            );
        }
        for n in &r.notes {
            outln!("  note: {n}");
        }
    }

    pub fn status(&self, paths: &Paths, db: &Path, schema: i64, set_up: bool, s: &Summary) {
        if self.json {
            return print_json(&json!({
                "data_dir": paths.data_dir, "config_file": paths.config_file, "portable": paths.portable,
                "database": db, "schema_version": schema, "set_up": set_up, "summary": s,
            }));
        }
        outln!("Data folder:    {}", paths.data_dir.display());
        outln!(
            "Configuration:  {}{}",
            paths.config_file.display(),
            if paths.portable { " (portable)" } else { "" }
        );
        outln!("Database:       {} (schema {schema})", db.display());
        outln!(
            "Set up:         {}",
            if set_up {
                "yes"
            } else {
                "no: run `atslegas-cli init`"
            }
        );
        outln!(
            "Keys:           {} ({} out, {} overdue, {} lost)",
            s.keys_total,
            s.keys_out,
            s.keys_overdue,
            s.keys_lost
        );
        outln!("Persons:        {}", s.persons_total);
    }
}

/// A progress reporter for long work, on standard error only: a line that updates in
/// place on a terminal, else one line per 10% (so logs of cron jobs stay short).
pub fn progress(label: &'static str) -> impl FnMut(u64, u64) {
    let tty = std::io::stderr().is_terminal();
    let mut shown: Option<u64> = None;
    move |done, total| {
        let pct = (done.min(total) * 100).checked_div(total).unwrap_or(100);
        let step = if tty { pct } else { pct / 10 * 10 };
        if shown == Some(step) {
            return;
        }
        shown = Some(step);
        let mut err = std::io::stderr().lock();
        if tty {
            let _ = write!(err, "\r{label}: {pct:3}%");
            if pct == 100 {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{label}: {step}%");
        }
        let _ = err.flush();
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

impl Out {
    pub fn demo(&self, r: &DemoReport, elapsed: Duration, db: &Path) {
        let size = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
        if self.json {
            return print_json(&json!({
                "report": r, "seconds": elapsed.as_secs_f64(), "database": db, "db_bytes": size,
            }));
        }
        outln!(
            "Demo data generated in {:.1} s: {} persons, {} keys, {} groups, {} key-log rows.",
            elapsed.as_secs_f64(),
            r.persons,
            r.keys,
            r.groups,
            r.log_rows
        );
        outln!(
            "Keys out: {} ({} due in the next 30 days, {} overdue); {} lost, {} retired.",
            r.keys_out,
            r.keys_due_soon,
            r.keys_overdue,
            r.keys_lost,
            r.keys_retired
        );
        outln!("Database: {} ({})", db.display(), mib(size));
    }

    pub fn bench(&self, r: &BenchReport) {
        if self.json {
            return print_json(r);
        }
        if !r.optimized_build {
            outln!("WARNING: a debug build; build with --release for figures that mean anything.");
        }
        outln!(
            "Data: {} persons, {} keys, {} key-log rows, {} audit rows, database {} ({} journal, synchronous={}).",
            r.persons,
            r.keys,
            r.key_log_rows,
            r.audit_rows,
            mib(r.db_bytes.max(0) as u64),
            r.journal_mode,
            match r.synchronous {
                0 => "OFF",
                1 => "NORMAL",
                2 => "FULL",
                _ => "EXTRA",
            }
        );
        if let Some(b) = r.wal_bytes_per_handover {
            outln!(
                "WAL: {:.1} KiB per issue or return; back to back, SQLite's backstop checkpoint (at {}) would land in about one commit in {:.0}.",
                b / 1024.0,
                mib(r.wal_backstop_bytes.max(0) as u64),
                r.wal_backstop_bytes as f64 / b.max(1.0)
            );
        }
        let ms = |v: f64| format!("{v:.2}");
        table(
            &[
                "FIGURE",
                "N",
                "P50 MS",
                "P99 MS",
                "MAX MS",
                "TARGET (P99)",
                "OK",
            ],
            r.figures
                .iter()
                .map(|f| {
                    vec![
                        f.name.clone(),
                        f.samples.to_string(),
                        ms(f.p50_ms),
                        ms(f.p99_ms),
                        ms(f.max_ms),
                        format!("< {} ms  {}", f.target_ms, f.target),
                        if f.met { "yes" } else { "NO" }.into(),
                    ]
                })
                .collect(),
        );
    }
}
