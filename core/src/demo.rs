//! Demo data: a realistic register (persons with Latvian and other names, keys with rooms,
//! access groups, years of key movements ending now) generated into an EMPTY database, for
//! trying the app and as the benchmark's reference data set (SPEC §8). It never touches a
//! register that already has persons, keys or groups, and writes everything in one
//! transaction.
//!
//! Persons, keys, groups and users are written by their modules' `_tx` writers (the same
//! rules as the forms), with their creation time in the past as the writer's "now".
//!
//! The key log is inserted in time order through the schema's triggers, so every rule
//! that holds for the app (no double issue, status = latest log row) holds for this data.
//!
//! The audit trail is the one the app would have written, so every figure (bench, backup,
//! size) is measured on a realistic file: a `create` row per user, person, key and group
//! (and the groups' members and keys), each movement's row as the Desk writes it (with
//! its receipt, and the key-log row's id and SHA-256), the departures and retirements,
//! and last one `demo`/`import` row holding the counts, by which `bench` knows a demo
//! register. The chain is computed here, in id order, and `audit::verify` finds it intact.

use std::fmt::Write;

use rusqlite::types::ValueRef;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::keys::{Key, KeyInput};
use crate::persons::{Person, PersonInput};
use crate::store::{Actor, HandoverRules, Role, Store};

/// How much to generate. [`DemoOptions::default`] is the reference data set of SPEC §8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    pub persons: u64,
    pub keys: u64,
    /// Key-log rows in total (issued, returned, lost), exactly.
    pub log_rows: u64,
    /// The history spans this many years, ending now.
    pub years: u32,
    /// Same seed, same names, keys and pattern of movements (times follow "now").
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            persons: 10_000,
            keys: 3_000,
            log_rows: 1_000_000,
            years: 5,
            seed: 20_240_901,
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    pub persons: u64,
    /// Of those, deactivated (no key in hand) and soft-deleted.
    pub persons_inactive: u64,
    pub persons_deleted: u64,
    pub keys: u64,
    pub groups: u64,
    pub group_members: u64,
    pub group_keys: u64,
    /// Operators who did the handing out (no password, deactivated: they cannot sign in).
    pub users: u64,
    pub log_rows: u64,
    /// One per issue and return, as the Desk writes them.
    pub receipts: u64,
    /// Every row the app would have written: creations, movements, departures, this
    /// generation's own `demo`/`import` row.
    pub audit_rows: u64,
    pub keys_out: u64,
    pub keys_due_soon: u64,
    pub keys_overdue: u64,
    pub keys_lost: u64,
    pub keys_retired: u64,
    /// The oldest key-log time (Unix seconds), if any.
    pub first_at: Option<i64>,
}

const MAX_PERSONS: u64 = 1_000_000;
const MAX_KEYS: u64 = 100_000;
const MAX_LOG_ROWS: u64 = 20_000_000;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

const MALE_FIRST: &[&str] = &[
    "Jānis",
    "Ģirts",
    "Pēteris",
    "Andris",
    "Mārtiņš",
    "Kārlis",
    "Edgars",
    "Raimonds",
    "Uldis",
    "Oskars",
    "Artūrs",
    "Roberts",
    "Gatis",
    "Māris",
    "Aivars",
    "Ēriks",
    "Normunds",
    "Dmitrijs",
    "Aleksandrs",
    "Sergejs",
    "Jürgen",
    "Mikko",
    "Tomasz",
    "Søren",
    "José",
];
const FEMALE_FIRST: &[&str] = &[
    "Ļena",
    "Anna",
    "Elīna",
    "Ilze",
    "Līga",
    "Inese",
    "Kristīne",
    "Dace",
    "Zane",
    "Agnese",
    "Marija",
    "Katrīna",
    "Ieva",
    "Sigita",
    "Gunta",
    "Baiba",
    "Rūta",
    "Žanna",
    "Aija",
    "Olga",
    "Anastasija",
    "Małgorzata",
    "Zoë",
    "Åsa",
    "Chloé",
];
/// (male form, female form)
const SURNAMES: &[(&str, &str)] = &[
    ("Bērziņš", "Bērziņa"),
    ("Kalniņš", "Kalniņa"),
    ("Ozols", "Ozola"),
    ("Jansons", "Jansone"),
    ("Liepa", "Liepa"),
    ("Krūmiņš", "Krūmiņa"),
    ("Zariņš", "Zariņa"),
    ("Ķēniņš", "Ķēniņa"),
    ("Šņoris", "Šņore"),
    ("Eglītis", "Eglīte"),
    ("Vītols", "Vītola"),
    ("Kļaviņš", "Kļaviņa"),
    ("Lācis", "Lāce"),
    ("Pētersons", "Pētersone"),
    ("Ābols", "Ābola"),
    ("Gailis", "Gaile"),
    ("Siliņš", "Siliņa"),
    ("Žagars", "Žagare"),
    ("Čakste", "Čakste"),
    ("Birznieks", "Birzniece"),
    ("Bērzs", "Bērza"),
    ("Ģērmanis", "Ģērmane"),
    ("Ivanovs", "Ivanova"),
    ("Kuzņecovs", "Kuzņecova"),
    ("Ņikitins", "Ņikitina"),
    ("Müller", "Müller"),
    ("Nowak", "Nowak"),
    ("Virtanen", "Virtanen"),
    ("Kowalski", "Kowalska"),
    ("Dubois", "Dubois"),
];
/// Departments; each is also an access group. The last one, security, may take every key.
const DEPARTMENTS: &[&str] = &[
    "Administrācija",
    "Grāmatvedība",
    "Personāldaļa",
    "IT nodaļa",
    "Saimniecības daļa",
    "Ķīmijas katedra",
    "Fizikas katedra",
    "Bibliotēka",
    "Loģistika",
    "Pētniecības centrs",
    "Ēdnīca",
    "Apsardze",
];
const ROOM_TYPES: &[&str] = &[
    "Kabinets",
    "Kabinets",
    "Kabinets",
    "Klase",
    "Laboratorija",
    "Noliktava",
    "Arhīvs",
    "Serveru telpa",
    "Sanāksmju zāle",
    "Darbnīca",
    "Virtuve",
    "Ģērbtuve",
];
const KEY_TYPES: &[&str] = &["Parastā", "Drošības", "Magnētiskā karte", "Galvenā atslēga"];
const COMMENTS: &[&str] = &[
    "Uzkopšanai",
    "Remontdarbi",
    "Viesim",
    "Aizmirsa atdot laikā",
    "Sanāksmei",
    "Vakara maiņa",
    "Inventarizācija",
    "Piegāde",
];
/// A lost report must say why (the schema refuses one without): who lost it, how.
const LOST_REASONS: &[&str] = &[
    "Pazaudēta pilsētā",
    "Nozagta kopā ar somu",
    "Nav atrodama pēc inventarizācijas",
    "Iekrita liftu šahtā",
];
const OVERRIDE_REASONS: &[&str] = &[
    "Aizvietošana",
    "Remontdarbi telpā",
    "Vadītāja rīkojums",
    "Ārkārtas gadījums",
];
const NOTES: &[&str] = &["Atvaļinājumā", "Strādā attālināti", "Nepilna slodze"];
/// The operators named in the history. Created without a password and deactivated.
const DEMO_USERS: &[&str] = &["demo.anna", "demo.peteris", "demo.ilze", "demo.girts"];

/// A small, seeded generator (SplitMix64): the data set is the same on every machine,
/// with no dependency for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0 <= x < n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// lo <= x < hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// How a key ends up at the end of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Available,
    Retired,
    Lost,
    /// Out with no due date.
    Out,
    /// Out, due back within the next 30 days.
    OutDueSoon,
    /// Out, due back in the past.
    OutOverdue,
}

impl End {
    /// Ends on an `issued` or `lost` row: the key has an odd number of rows.
    fn odd(self) -> bool {
        matches!(
            self,
            End::Lost | End::Out | End::OutDueSoon | End::OutOverdue
        )
    }
}

/// One key-log row to insert. Small, because a million of them are sorted by time.
struct Ev {
    at: i64,
    /// 0 = none.
    due: i64,
    key: u32,
    person: u32,
    /// 0 issued, 1 returned, 2 lost.
    action: u8,
    /// Index into the demo users; `u8::MAX` = the actor generating (overrides).
    user: u8,
    /// 0 = none, else COMMENTS[n - 1] (LOST_REASONS[n - 1] for a lost row).
    comment: u8,
    /// 0 = none, else OVERRIDE_REASONS[n - 1].
    reason: u8,
}

/// Generates the demo register into an empty database (admins only). Refused with
/// `invalid_input` when the database already has persons, keys or groups. `progress`
/// gets (rows done, rows in all) now and then.
pub fn generate(
    store: &mut Store,
    actor: &Actor,
    opts: &DemoOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DemoReport> {
    actor.require(Role::Admin, "generate demo data")?;
    validate(opts)?;
    let (p, k, g): (i64, i64, i64) = store.conn().query_row(
        "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM keys), (SELECT count(*) FROM groups)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if p + k + g > 0 {
        return Err(Error::invalid(
            "database",
            format!(
                "already has {p} person(s), {k} key(s) and {g} group(s); demo data only goes into an empty register (use a new data folder)"
            ),
        ));
    }
    // For this one transaction: a large page cache, because the key log's five indexes
    // are written in key, person and user order, which thrashes the default 2 MB; and
    // temporary files in memory, because every insert whose triggers may RAISE(ABORT)
    // keeps a statement journal, which otherwise costs ~20 file writes per key-log row.
    let conn = store.conn();
    let old_cache: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    let old_temp: i64 = conn.pragma_query_value(None, "temp_store", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -262_144)?;
    conn.pragma_update(None, "temp_store", 2)?;
    let rules = store.handover.clone();
    let result = store.write(actor, Role::Admin, "generate demo data", |tx, now| {
        write_all(tx, now, actor, &rules, opts, progress)
    });
    let conn = store.conn();
    conn.pragma_update(None, "cache_size", old_cache)?;
    conn.pragma_update(None, "temp_store", old_temp)?;
    let report = result?;
    // Fold the large write-ahead log back into the file now rather than at some later
    // write, and give its disk space back. Another connection (the app) may be reading
    // or checkpointing for a moment: retry briefly.
    for _ in 0..100 {
        let busy: i64 = store
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok(report)
}

fn validate(o: &DemoOptions) -> Result<()> {
    if o.persons > MAX_PERSONS {
        return Err(Error::invalid("persons", format!("at most {MAX_PERSONS}")));
    }
    if o.keys > MAX_KEYS {
        return Err(Error::invalid("keys", format!("at most {MAX_KEYS}")));
    }
    if o.log_rows > MAX_LOG_ROWS {
        return Err(Error::invalid(
            "log_rows",
            format!("at most {MAX_LOG_ROWS}"),
        ));
    }
    if !(1..=20).contains(&o.years) {
        return Err(Error::invalid("years", "must be between 1 and 20"));
    }
    if o.log_rows > 0 && (o.keys == 0 || o.persons == 0) {
        return Err(Error::invalid(
            "log_rows",
            "key movements need at least one key and one person",
        ));
    }
    Ok(())
}

fn write_all(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    rules: &HandoverRules,
    o: &DemoOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DemoReport> {
    let mut rng = Rng(o.seed);
    let total = o.persons + o.keys + o.log_rows;
    let span_start = now - i64::from(o.years) * 31_557_600; // 365.25 days a year
    let n_depts = DEPARTMENTS.len();
    let guards = n_depts - 1;
    // The creation rows the forms would have written, sorted by time before they go in.
    let mut created: Vec<Created> = Vec::new();

    // Users who did the handing out.
    let mut user_ids = Vec::new();
    for name in DEMO_USERS {
        let u = crate::users::create_tx(tx, span_start, name, Role::Operator, false, None)?;
        // As `users::add` writes it (`User::audit_json`).
        let after = json!({
            "username": u.username, "role": u.role.as_str(), "is_root": u.is_root,
            "active": u.active, "has_password": u.has_password,
        });
        created.push(Created::new(span_start, "users", u.id, "create", after));
        user_ids.push(u.id);
    }

    // Persons, each in one department.
    let mut persons: Vec<Person> = Vec::with_capacity(o.persons as usize);
    let mut person_dept = Vec::with_capacity(o.persons as usize);
    for i in 0..o.persons {
        let female = rng.chance(0.5);
        let (first, last) = if female {
            (*rng.pick(FEMALE_FIRST), rng.pick(SURNAMES).1)
        } else {
            (*rng.pick(MALE_FIRST), rng.pick(SURNAMES).0)
        };
        let dept = if rng.chance(0.04) {
            guards
        } else {
            rng.below(guards as u64) as usize
        };
        let email = rng
            .chance(0.8)
            .then(|| format!("{}.{}@example.lv", ascii_fold(first), ascii_fold(last)));
        // A bijection mod 10^10 (the multiplier is prime to 10), so badges never repeat.
        let badge = (!rng.chance(0.05))
            .then(|| format!("{:010}", (i * 7_919_111 + 1_000_003) % 10_000_000_000));
        let created_at = span_start - rng.range(0, 365 * DAY);
        let input = PersonInput {
            full_name: format!("{first} {last}"),
            code: Some(format!("E{:05}", 10_001 + i)),
            department: Some(DEPARTMENTS[dept].to_string()),
            phone: Some(format!("+371 2{:07}", rng.below(10_000_000))),
            email,
            badge,
            notes: rng.chance(0.02).then(|| rng.pick(NOTES).to_string()),
            active: true,
        };
        // Created in the past: the writer's "now" is the person's creation time.
        let p = crate::persons::create_tx(tx, created_at, &input)?;
        created.push(Created::new(
            created_at,
            "persons",
            p.id,
            "create",
            p.audit_json(),
        ));
        persons.push(p);
        person_dept.push(dept);
        if i % 5_000 == 0 {
            progress(i, total);
        }
    }

    // Keys "1".."N", rooms spread over buildings and floors, hooks in cabinets.
    let mut keys: Vec<Key> = Vec::with_capacity(o.keys as usize);
    for k in 0..o.keys {
        let building = (b'A' + (k / 450 % 26) as u8) as char;
        let room = format!(
            "{} {}{:02}",
            rng.pick(ROOM_TYPES),
            1 + k / 50 % 9,
            k % 50 + 1
        );
        let key_type = match rng.below(100) {
            0..=84 => KEY_TYPES[0],
            85..=92 => KEY_TYPES[1],
            93..=97 => KEY_TYPES[2],
            _ => KEY_TYPES[3],
        };
        let input = KeyInput {
            number: (k + 1).to_string(),
            name: Some(room),
            location: Some(format!(
                "{building} korpuss, skapis {}, āķis {}",
                k / 100 + 1,
                k % 100 + 1
            )),
            key_type: Some(key_type.to_string()),
            copies_note: rng.chance(0.1).then(|| "2 kopijas seifā".to_string()),
        };
        let created_at = span_start - rng.range(0, 30 * DAY);
        let key = crate::keys::create_tx(tx, created_at, &input)?;
        created.push(Created::new(
            created_at,
            "keys",
            key.id,
            "create",
            key.audit_json(),
        ));
        keys.push(key);
        if k % 1_000 == 0 {
            progress(o.persons + k, total);
        }
    }

    // Groups: each department may take its own range of keys; security may take all.
    // As the Groups screen writes them: a `create` row, then one `update` row for the
    // members added and one for the keys allowed.
    let key_dept = |k: usize| k * guards / (o.keys as usize).max(1);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_depts];
    for (i, d) in person_dept.iter().enumerate() {
        members[*d].push(i as u32);
    }
    let (mut n_members, mut n_group_keys) = (0u64, 0u64);
    for (d, name) in DEPARTMENTS.iter().enumerate() {
        let allowed: Vec<usize> = (0..keys.len())
            .filter(|k| d == guards || key_dept(*k) == d)
            .collect();
        let description = match (allowed.first(), allowed.last()) {
            _ if d == guards => "Apsardze: visas atslēgas".to_string(),
            (Some(a), Some(b)) => format!("Atslēgas {}–{}", a + 1, b + 1),
            _ => "Bez atslēgām".to_string(),
        };
        let g = crate::groups::create_tx(tx, span_start, name, Some(&description))?;
        let mut added = Vec::with_capacity(members[d].len());
        for p in &members[d] {
            let p = &persons[*p as usize];
            crate::groups::add_member_tx(tx, g.id, p.id)?;
            added.push(json!({"id": p.id, "name": p.full_name}));
            n_members += 1;
        }
        let mut numbers = Vec::with_capacity(allowed.len());
        for k in allowed {
            crate::groups::allow_key_tx(tx, g.id, keys[k].id)?;
            numbers.push(keys[k].number.clone());
            n_group_keys += 1;
        }
        let after = json!({"name": g.name, "description": g.description});
        created.push(Created::new(span_start, "groups", g.id, "create", after));
        let after = json!({ "members_added": added });
        created.push(Created::new(span_start, "groups", g.id, "update", after));
        let after = json!({ "keys_allowed": numbers });
        created.push(Created::new(span_start, "groups", g.id, "update", after));
    }
    let mut audit = AuditRows::new(tx)?;
    // Stable: rows of the same second keep the order the forms would have written them.
    created.sort_by_key(|c| c.at);
    for c in &created {
        audit.push(&Row {
            at: c.at,
            actor: &actor.name,
            component: c.component,
            record_id: Some(&c.record_id),
            operation: c.operation,
            before: None,
            after: Some(&c.after),
        })?;
    }
    drop(created);

    // Who ends how, then the movements of each key in time order.
    let ends = plan_ends(o.keys as usize, o.log_rows);
    let extra_pairs = (o.log_rows - ends.iter().filter(|e| e.odd()).count() as u64) / 2;
    let pairs = spread(&mut rng, o.keys as usize, extra_pairs);
    let mut events: Vec<Ev> = Vec::with_capacity(o.log_rows as usize);
    for (k, end) in ends.iter().enumerate() {
        key_history(
            &mut rng,
            k,
            *end,
            pairs[k],
            span_start,
            now,
            &members,
            key_dept(k),
            &mut events,
        );
    }
    debug_assert_eq!(events.len() as u64, o.log_rows);
    // Global time order: ids grow with time, as in a real register. Per key the times
    // strictly increase, so (at, key) is unique and the per-key order is kept.
    events.sort_unstable_by_key(|e| (e.at, e.key));

    // Persons who left (never someone holding a key: the app refuses that too), in the
    // last year, after their last movement. Decided before the key log goes in, so their
    // audit rows take their place in time among the movements' (the draws are the same
    // as when this followed the key log: nothing in between draws).
    let mut holds = vec![0u32; persons.len()];
    let mut last_seen = vec![i64::MIN; persons.len()];
    for e in events.iter().filter(|e| e.action != 2) {
        let p = e.person as usize;
        last_seen[p] = e.at;
        if e.action == 0 {
            holds[p] += 1;
        } else {
            holds[p] -= 1;
        }
    }
    // (when, person, deleted rather than deactivated)
    let mut leaves: Vec<(i64, usize, bool)> = Vec::new();
    for i in 0..persons.len() {
        if holds[i] > 0 || i % 50 < 48 {
            continue;
        }
        let at = rng.range(last_seen[i].max(now - 365 * DAY) + 1, now);
        if i % 50 == 48 {
            leaves.push((at, i, false));
        } else if i % 100 == 99 {
            leaves.push((at, i, true));
        }
    }
    leaves.sort_by_key(|l| l.0);
    let mut leaving = leaves.iter().peekable();
    let leave_row = |audit: &mut AuditRows, at: i64, i: usize, deleted: bool| {
        let before = &persons[i];
        let mut after = before.clone();
        after.updated_at = at;
        if deleted {
            after.deleted_at = Some(at);
        } else {
            after.active = false;
        }
        audit.push(&Row {
            at,
            actor: &actor.name,
            component: "persons",
            record_id: Some(&before.id.to_string()),
            operation: if deleted { "delete" } else { "update" },
            before: Some(&before.audit_json().to_string()),
            after: Some(&after.audit_json().to_string()),
        })
    };

    // Each movement as the Desk writes it (`keylog::write_handover`, `lost::report_lost`):
    // an issue or a return gets the next receipt, its key-log row naming it, and an audit
    // row with the key before and after and the key-log row's id and SHA-256. Everything
    // is computed here (ids, receipt numbers, the key's state, both hashes) from the
    // values inserted, so nothing is read back; the test
    // `the_audit_rows_are_what_the_desk_writes` holds them to what SQLite stores.
    //
    // One INSERT ... SELECT per chunk of rows, fed from a JSON array: SQLite keeps a
    // statement journal for every statement whose triggers may RAISE(ABORT), and copying
    // each touched page into it per row was most of the time. Rows still go in one by
    // one, in order, through the triggers.
    let mut ins_receipts = tx.prepare_cached(
        "INSERT INTO receipts (number, kind, at, person_id, user_id, actor, due_back_at,
                               site_name, terms_lv, terms_en)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
                value ->> 6, ?2, ?3, ?4
           FROM json_each(?1) ORDER BY key",
    )?;
    let mut ins_log = tx.prepare_cached(
        "INSERT INTO key_log (id, action, key_id, person_id, user_id, actor, at, due_back_at,
                              comment, override_reason, receipt_number)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
                value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
           FROM json_each(?1) ORDER BY key",
    )?;
    // As `receipts::insert_tx` keeps them: blank terms are none.
    let terms = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let (terms_lv, terms_en) = (terms(&rules.terms_lv), terms(&rules.terms_en));
    let (mut next_log, mut next_receipt): (i64, i64) = tx.query_row(
        "SELECT (SELECT coalesce(max(id), 0) + 1 FROM key_log),
                (SELECT coalesce(max(number), 0) + 1 FROM receipts)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // Each key's audit text as it stands, the `before` of its next movement.
    let mut key_text: Vec<String> = keys.iter().map(|k| k.audit_json().to_string()).collect();
    let mut receipts_written = 0u64;
    const CHUNK: usize = 20_000;
    let mut log_batch = String::with_capacity(CHUNK * 120);
    let mut receipt_batch = String::with_capacity(CHUNK * 60);
    let mut after = String::with_capacity(1024);
    for (c, chunk) in events.chunks(CHUNK).enumerate() {
        log_batch.clear();
        receipt_batch.clear();
        log_batch.push('[');
        receipt_batch.push('[');
        for e in chunk {
            while let Some((at, i, deleted)) = leaving.next_if(|l| l.0 <= e.at) {
                leave_row(&mut audit, *at, *i, *deleted)?;
            }
            let (user_id, user_name) = match e.user {
                u8::MAX => (actor.user_id, actor.name.as_str()),
                u => (Some(user_ids[u as usize]), DEMO_USERS[u as usize]),
            };
            let person = (e.action != 2).then(|| &persons[e.person as usize]);
            let person_id = person.map(|p| p.id);
            fn text(i: u8, all: &[&'static str]) -> Option<&'static str> {
                (i != 0).then(|| all[i as usize - 1])
            }
            let comment = text(
                e.comment,
                if e.action == 2 {
                    LOST_REASONS
                } else {
                    COMMENTS
                },
            );
            let reason = text(e.reason, OVERRIDE_REASONS);
            let due = (e.due != 0).then_some(e.due);
            let (action, operation, kind) = match e.action {
                0 => ("issued", "issue", Some("issue")),
                1 => ("returned", "return", Some("return")),
                _ => ("lost", "lost", None),
            };
            let receipt = kind.map(|kind| {
                let n = next_receipt;
                next_receipt += 1;
                receipts_written += 1;
                push_row(
                    &mut receipt_batch,
                    &[
                        Cell::Int(n),
                        Cell::Text(kind),
                        Cell::Int(e.at),
                        Cell::int(person_id),
                        Cell::int(user_id),
                        Cell::Text(user_name),
                        Cell::int(due.filter(|_| e.action == 0)),
                    ],
                );
                n
            });
            let log_id = next_log;
            next_log += 1;
            let key = &mut keys[e.key as usize];
            // In the INSERT's column order, which is `HASHED_COLUMNS` order too, so the
            // key-log row's hash is taken over the very values written, as
            // `audit::key_log_row_sha256` would read them back.
            let log_row = [
                Cell::Int(log_id),
                Cell::Text(action),
                Cell::Int(key.id),
                Cell::int(person_id),
                Cell::int(user_id),
                Cell::Text(user_name),
                Cell::Int(e.at),
                Cell::int(due),
                Cell::text(comment),
                Cell::text(reason),
                Cell::int(receipt),
            ];
            push_row(&mut log_batch, &log_row);
            let log_sha = audit::row_sha256(&log_row.map(Cell::value));

            // The key as the schema's `key_log_apply` trigger leaves it.
            let issued = e.action == 0;
            key.status = action_status(e.action).to_string();
            key.holder_person_id = person_id.filter(|_| issued);
            key.holder_name = person.filter(|_| issued).map(|p| p.full_name.clone());
            key.issued_at = issued.then_some(e.at);
            key.due_back_at = due.filter(|_| issued);
            key.updated_at = e.at;
            let key_after = key.audit_json().to_string();
            // `finish_movement`'s `after`, its fields in serde_json's (sorted) order.
            after.clear();
            let _ = write!(
                after,
                "{{\"key\":{key_after},\"key_log_id\":{log_id},\"key_log_sha256\":\"{log_sha}\""
            );
            match (e.action, receipt) {
                (0, Some(n)) => {
                    after.push_str(",\"override_reason\":");
                    push_opt_str(&mut after, reason);
                    let _ = write!(after, ",\"receipt\":{n},\"signature_sha256\":null}}");
                }
                (_, Some(n)) => {
                    let _ = write!(after, ",\"receipt\":{n},\"signature_sha256\":null}}");
                }
                (_, None) => {
                    after.push_str(",\"reason\":");
                    push_opt_str(&mut after, comment);
                    after.push('}');
                }
            }
            let before = std::mem::replace(&mut key_text[e.key as usize], key_after);
            audit.push(&Row {
                at: e.at,
                actor: user_name,
                component: "keys",
                record_id: Some(&key.id.to_string()),
                operation,
                before: Some(&before),
                after: Some(&after),
            })?;
        }
        log_batch.push(']');
        receipt_batch.push(']');
        if receipt_batch.len() > 2 {
            ins_receipts.execute(params![receipt_batch, rules.site_name, terms_lv, terms_en])?;
        }
        ins_log.execute([&log_batch])?;
        progress(o.persons + o.keys + (c * CHUNK + chunk.len()) as u64, total);
    }
    for (at, i, deleted) in leaving {
        leave_row(&mut audit, *at, *i, *deleted)?;
    }

    // Keys taken out of use now (as `keys::set_retired` writes them), and the persons
    // who left.
    let mut retire =
        tx.prepare_cached("UPDATE keys SET status = 'retired', updated_at = ?2 WHERE id = ?1")?;
    for (k, end) in ends.iter().enumerate() {
        if *end == End::Retired {
            retire.execute(params![keys[k].id, now])?;
            let mut after = keys[k].clone();
            after.status = "retired".to_string();
            after.updated_at = now;
            audit.push(&Row {
                at: now,
                actor: &actor.name,
                component: "keys",
                record_id: Some(&after.id.to_string()),
                operation: "update",
                before: Some(&key_text[k]),
                after: Some(&after.audit_json().to_string()),
            })?;
        }
    }
    let mut leave = tx.prepare_cached(
        "UPDATE persons SET active = ?2, deleted_at = ?3, updated_at = ?4 WHERE id = ?1",
    )?;
    let (mut inactive, mut deleted) = (0u64, 0u64);
    for (at, i, gone) in &leaves {
        let id = persons[*i].id;
        if *gone {
            leave.execute(params![id, true, at, at])?;
            deleted += 1;
        } else {
            leave.execute(params![id, false, None::<i64>, at])?;
            inactive += 1;
        }
    }
    progress(total, total);

    let count = |e: End| ends.iter().filter(|x| **x == e).count() as u64;
    let report = DemoReport {
        persons: o.persons,
        persons_inactive: inactive,
        persons_deleted: deleted,
        keys: o.keys,
        groups: n_depts as u64,
        group_members: n_members,
        group_keys: n_group_keys,
        users: DEMO_USERS.len() as u64,
        log_rows: events.len() as u64,
        receipts: receipts_written,
        // This one's own `demo`/`import` row included.
        audit_rows: audit.written + 1,
        keys_out: count(End::Out) + count(End::OutDueSoon) + count(End::OutOverdue),
        keys_due_soon: count(End::OutDueSoon),
        keys_overdue: count(End::OutOverdue),
        keys_lost: count(End::Lost),
        keys_retired: count(End::Retired),
        first_at: events.first().map(|e| e.at),
    };
    // Last, so the newest row says the register is a demo (`bench` looks for it).
    Change::new(&actor.name, "demo", "import")
        .after(json!({"report": report, "seed": o.seed, "years": o.years}))
        .record(tx, now)?;
    Ok(report)
}

/// The key's status after a movement (`key_log_apply`): 0 issued, 1 returned, 2 lost.
fn action_status(action: u8) -> &'static str {
    match action {
        0 => "issued",
        1 => "available",
        _ => "lost",
    }
}

/// A creation row the forms would have written, kept until all are known and sorted.
struct Created {
    at: i64,
    component: &'static str,
    record_id: String,
    operation: &'static str,
    after: String,
}

impl Created {
    fn new(
        at: i64,
        component: &'static str,
        id: i64,
        operation: &'static str,
        after: serde_json::Value,
    ) -> Created {
        Created {
            at,
            component,
            record_id: id.to_string(),
            operation,
            after: after.to_string(),
        }
    }
}

/// One audit row to append, its `before` and `after` already JSON text.
struct Row<'a> {
    at: i64,
    actor: &'a str,
    component: &'a str,
    record_id: Option<&'a str>,
    operation: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

/// Audit rows appended in bulk: the chain (the next id, the hash before it) is kept
/// here and each row's hash computed as `audit::record` does, so nothing is read back.
/// One prepared INSERT per row, not the key log's JSON chunks: `audit_log` has no insert
/// triggers, so a one-row INSERT keeps no statement journal, and encoding ~1 GB of JSON
/// for SQLite to parse back cost more than it saved (the reference set took 113 s of
/// CPU in all with audit rows in JSON chunks).
struct AuditRows<'t> {
    insert: rusqlite::CachedStatement<'t>,
    next_id: i64,
    prev: String,
    written: u64,
}

impl<'t> AuditRows<'t> {
    fn new(tx: &'t Transaction) -> Result<AuditRows<'t>> {
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (next_id, prev) = match last {
            Some((id, hash)) => (id + 1, hash),
            None => (1, audit::GENESIS.to_string()),
        };
        Ok(AuditRows {
            insert: tx.prepare_cached(
                "INSERT INTO audit_log (id, at, actor, component, record_id, operation, before,
                                        after, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?,
            next_id,
            prev,
            written: 0,
        })
    }

    fn push(&mut self, r: &Row) -> Result<()> {
        let id = self.next_id;
        let hash = audit::row_hash(
            id,
            r.at,
            r.actor,
            r.component,
            r.record_id,
            r.operation,
            r.before,
            r.after,
            &self.prev,
        );
        self.insert.execute(params![
            id,
            r.at,
            r.actor,
            r.component,
            r.record_id,
            r.operation,
            r.before,
            r.after,
            self.prev,
            hash
        ])?;
        self.prev = hash;
        self.next_id += 1;
        self.written += 1;
        Ok(())
    }
}

/// Appends `s` as a JSON string: quotes, backslashes and control characters escaped,
/// everything else (UTF-8 included) as it is, which SQLite's `->>` reads back exactly.
fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut from = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(esc);
        }
        from = i + c.len_utf8();
    }
    out.push_str(&s[from..]);
    out.push('"');
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.push_str("null"),
    }
}

/// One value of a row that goes into SQLite as JSON (the key log's and the receipts'
/// chunks): stored as the integer, text or null it is here.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

impl<'a> Cell<'a> {
    fn int(v: Option<i64>) -> Cell<'a> {
        v.map_or(Cell::Null, Cell::Int)
    }

    fn text(v: Option<&'a str>) -> Cell<'a> {
        v.map_or(Cell::Null, Cell::Text)
    }

    /// The value as SQLite stores it from the JSON, for `audit::row_sha256`.
    fn value(self) -> ValueRef<'a> {
        match self {
            Cell::Int(v) => ValueRef::Integer(v),
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
            Cell::Null => ValueRef::Null,
        }
    }
}

/// Appends one row to a chunk being built as a JSON array of rows (`out` holds the
/// chunk's opening `[`, and the caller closes it): the row's cells as a JSON array, with
/// a comma before every row but the first. `json_each` hands each row to the INSERT as
/// `value`, and `value ->> n` reads back its cell n.
fn push_row(out: &mut String, cells: &[Cell]) {
    if out.len() > 1 {
        out.push(',');
    }
    out.push('[');
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match *cell {
            Cell::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Text(s) => push_str(out, s),
            Cell::Null => out.push_str("null"),
        }
    }
    out.push(']');
}

/// How each key ends: about 20% out (a quarter of those overdue, half due within 30
/// days), a few lost and retired, the rest available. Fixed by position so small data sets
/// have every kind too. With too few rows, out and lost keys become available; the total
/// parity is fixed so the remaining rows make whole issue/return pairs.
fn plan_ends(keys: usize, log_rows: u64) -> Vec<End> {
    let mut ends: Vec<End> = (0..keys)
        .map(|k| match k {
            _ if k % 97 == 41 => End::Retired,
            _ if k % 151 == 77 => End::Lost,
            _ if k % 5 == 2 => match (k / 5) % 4 {
                0 => End::OutOverdue,
                1 | 2 => End::OutDueSoon,
                _ => End::Out,
            },
            _ => End::Available,
        })
        .collect();
    let mut odd = ends.iter().filter(|e| e.odd()).count() as u64;
    for e in ends.iter_mut().rev() {
        if odd <= log_rows {
            break;
        }
        if e.odd() {
            *e = End::Available;
            odd -= 1;
        }
    }
    if (log_rows - odd) % 2 == 1 {
        // One key more or less ends out.
        if let Some(e) = ends.iter_mut().find(|e| **e == End::Available) {
            *e = End::Out;
        } else if let Some(e) = ends.iter_mut().find(|e| e.odd()) {
            *e = End::Available;
        }
    }
    ends
}

/// Spreads `pairs` issue/return pairs over `keys` keys, unevenly (busy and quiet rooms).
fn spread(rng: &mut Rng, keys: usize, pairs: u64) -> Vec<u64> {
    if keys == 0 {
        return Vec::new();
    }
    let weights: Vec<f64> = (0..keys)
        .map(|_| {
            let u = rng.unit();
            0.2 + 2.0 * u * u
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut out: Vec<u64> = weights
        .iter()
        .map(|w| (pairs as f64 * w / sum).floor() as u64)
        .collect();
    let mut left = pairs - out.iter().sum::<u64>().min(pairs);
    let mut k = 0;
    while left > 0 {
        out[k % keys] += 1;
        left -= 1;
        k += 1;
    }
    out
}

/// Appends one key's movements: `pairs` issue/return pairs spread over the years, each in
/// its own time slot (so times strictly increase), then the key's final state.
#[allow(clippy::too_many_arguments)] // reason: one generator step, its inputs spelled out
fn key_history(
    rng: &mut Rng,
    k: usize,
    end: End,
    pairs: u64,
    span_start: i64,
    now: i64,
    members: &[Vec<u32>],
    dept: usize,
    out: &mut Vec<Ev>,
) {
    let guards = members.len() - 1;
    let all: Vec<u32> = Vec::new();
    let any_person = |rng: &mut Rng| -> Option<(u32, u8)> {
        let roll = rng.below(100);
        let pool = match roll {
            0..=87 if !members[dept].is_empty() => &members[dept],
            0..=97 if !members[guards].is_empty() => &members[guards],
            _ => &all,
        };
        if !pool.is_empty() {
            return Some((*rng.pick(pool), 0));
        }
        // Someone from another department: issued outside the rights, with a reason.
        let d = rng.below(members.len() as u64) as usize;
        let pool = if members[d].is_empty() {
            members.iter().find(|m| !m.is_empty())?
        } else {
            &members[d]
        };
        let p = *rng.pick(pool);
        Some((
            p,
            if d == dept || d == guards {
                0
            } else {
                1 + rng.below(OVERRIDE_REASONS.len() as u64) as u8
            },
        ))
    };
    let user = |rng: &mut Rng| rng.below(DEMO_USERS.len() as u64) as u8;
    let comment = |rng: &mut Rng| {
        if rng.chance(0.05) {
            1 + rng.below(COMMENTS.len() as u64) as u8
        } else {
            0
        }
    };
    let ev = |at, due, person, action, user, comment, reason| Ev {
        at,
        due,
        key: k as u32,
        person,
        action,
        user,
        comment,
        reason,
    };

    // The final movement, and where the closed pairs must end.
    let last: Option<Ev> = match end {
        End::Available | End::Retired => None,
        End::Lost => Some(ev(
            now - rng.range(DAY, 300 * DAY),
            0,
            0,
            2,
            user(rng),
            // Its reason, by the key's position (drawing it would change every later draw).
            1 + (k % LOST_REASONS.len()) as u8,
            0,
        )),
        End::Out | End::OutDueSoon | End::OutOverdue => any_person(rng).map(|(p, reason)| {
            let (at, due) = match end {
                End::OutOverdue => {
                    let at = now - rng.range(8 * DAY, 45 * DAY);
                    (at, at + rng.range(DAY, 7 * DAY))
                }
                End::OutDueSoon => (
                    now - rng.range(HOUR, 10 * DAY),
                    now + rng.range(2 * HOUR, 29 * DAY),
                ),
                _ => (now - rng.range(HOUR, 60 * DAY), 0),
            };
            let u = if reason != 0 { u8::MAX } else { user(rng) };
            ev(at, due, p, 0, u, comment(rng), reason)
        }),
    };
    let pairs_end = match &last {
        Some(e) => e.at - 60,
        None => now - rng.range(600, 2 * DAY),
    };
    if pairs > 0 {
        let slot = (pairs_end - span_start) as f64 / pairs as f64;
        let mut prev = span_start - 1;
        for j in 0..pairs {
            let s = span_start + (j as f64 * slot) as i64;
            let b = if j + 1 == pairs {
                pairs_end
            } else {
                span_start + ((j + 1) as f64 * slot) as i64
            };
            let a = s.max(prev + 1);
            let (issue, ret) = if b - a < 2 {
                (a, a + 1)
            } else {
                let width = b - a;
                let mut issue = a + rng.range(0, width / 2);
                if width > 2 * DAY {
                    // Mostly during working hours (07:00-18:00 in Riga is about 05-16 UTC).
                    let t = issue - issue.rem_euclid(DAY) + 5 * HOUR + rng.range(0, 11 * HOUR);
                    if t > a && t < a + width / 2 {
                        issue = t;
                    }
                }
                let dur = match rng.below(100) {
                    0..=54 => rng.range(15 * 60, 8 * HOUR),
                    55..=84 => rng.range(8 * HOUR, 5 * DAY),
                    _ => rng.range(5 * DAY, 30 * DAY),
                };
                (issue, (issue + dur).min(b - 1).max(issue + 1))
            };
            let Some((p, reason)) = any_person(rng) else {
                break;
            };
            let due = if rng.chance(0.35) {
                issue + rng.range(4 * HOUR, 14 * DAY)
            } else {
                0
            };
            let u = if reason != 0 { u8::MAX } else { user(rng) };
            out.push(ev(issue, due, p, 0, u, comment(rng), reason));
            out.push(ev(ret, 0, p, 1, user(rng), comment(rng), 0));
            prev = ret;
        }
    }
    if let Some(e) = last {
        out.push(e);
    }
}

/// "Bērziņš" -> "berzins", for e-mail addresses.
fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_lowercase().next().unwrap_or(c) {
            'ā' | 'å' | 'ä' => 'a',
            'č' => 'c',
            'ē' | 'é' | 'ë' => 'e',
            'ģ' => 'g',
            'ī' => 'i',
            'ķ' => 'k',
            'ļ' | 'ł' => 'l',
            'ņ' => 'n',
            'ø' | 'ö' => 'o',
            'š' => 's',
            'ū' | 'ü' => 'u',
            'ž' => 'z',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit;
    use std::sync::Arc;

    const NOW: i64 = 1_780_000_000;

    fn store() -> Store {
        Store::open_in_memory()
            .unwrap()
            .with_clock(Arc::new(|| NOW))
    }

    fn admin() -> Actor {
        Actor {
            user_id: None,
            name: "cli:tester".into(),
            role: Role::Admin,
        }
    }

    fn small(persons: u64, keys: u64, log_rows: u64) -> DemoOptions {
        DemoOptions {
            persons,
            keys,
            log_rows,
            ..DemoOptions::default()
        }
    }

    fn count(s: &Store, sql: &str) -> i64 {
        s.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_small_demo_has_the_asked_counts_and_the_audit_trail_the_app_writes() {
        let mut s = store();
        let mut calls = 0;
        let r = generate(&mut s, &admin(), &small(50, 20, 500), &mut |_, _| {
            calls += 1
        })
        .unwrap();
        assert!(calls > 0);
        assert_eq!(count(&s, "SELECT count(*) FROM persons"), 50);
        assert_eq!(count(&s, "SELECT count(*) FROM keys"), 20);
        assert_eq!(count(&s, "SELECT count(*) FROM key_log"), 500);
        assert_eq!(
            count(&s, "SELECT count(*) FROM groups"),
            DEPARTMENTS.len() as i64
        );
        assert_eq!(count(&s, "SELECT count(*) FROM group_members"), 50);
        assert_eq!((r.persons, r.keys, r.log_rows), (50, 20, 500));
        assert_eq!(count(&s, "SELECT count(DISTINCT code) FROM persons"), 50);
        assert_eq!(
            count(&s, "SELECT count(DISTINCT badge) FROM persons"),
            count(&s, "SELECT count(badge) FROM persons")
        );
        let keys: Vec<String> = {
            let mut st = s
                .conn()
                .prepare("SELECT number FROM keys ORDER BY id")
                .unwrap();
            let rows = st.query_map([], |r| r.get(0)).unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        assert_eq!(keys, (1..=20).map(|n| n.to_string()).collect::<Vec<_>>());

        // One audit row per key-log row, by operation, each naming its row.
        let by_op = |op: &str| {
            count(
                &s,
                &format!("SELECT count(*) FROM audit_log WHERE component = 'keys' AND operation = '{op}' AND json_extract(after, '$.key_log_id') IS NOT NULL"),
            )
        };
        let by_action = |a: &str| {
            count(
                &s,
                &format!("SELECT count(*) FROM key_log WHERE action = '{a}'"),
            )
        };
        assert!(by_action("issued") > 0 && by_action("returned") > 0);
        assert_eq!(by_op("issue"), by_action("issued"));
        assert_eq!(by_op("return"), by_action("returned"));
        assert_eq!(by_op("lost"), by_action("lost"));
        assert_eq!(
            count(&s, "SELECT count(*) FROM audit_log WHERE json_extract(after, '$.key_log_id') IS NOT NULL"),
            500
        );
        // One receipt per handover, named by its key-log row, of its kind and person.
        let handovers = by_action("issued") + by_action("returned");
        assert_eq!(count(&s, "SELECT count(*) FROM receipts"), handovers);
        assert_eq!(r.receipts as i64, handovers);
        assert_eq!(
            count(&s, "SELECT count(*) FROM key_log l JOIN receipts r ON r.number = l.receipt_number AND r.at = l.at AND r.person_id = l.person_id AND r.actor = l.actor"),
            handovers
        );
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM key_log WHERE action = 'lost' AND receipt_number IS NOT NULL"
            ),
            0
        );
        let receipt = crate::receipts::get(s.conn(), 1).unwrap();
        assert_eq!(receipt.keys.len(), 1);
        assert!(!receipt.audit_hash.is_empty());
        // A creation row per record, before the first movement.
        let created = |c: &str| {
            count(
                &s,
                &format!("SELECT count(*) FROM audit_log WHERE component = '{c}' AND operation = 'create'"),
            )
        };
        assert_eq!(created("persons"), 50);
        assert_eq!(created("keys"), 20);
        assert_eq!(created("groups"), DEPARTMENTS.len() as i64);
        assert_eq!(created("users"), DEMO_USERS.len() as i64);
        assert_eq!(
            count(&s, "SELECT count(*) FROM audit_log WHERE operation = 'create' AND at > (SELECT min(at) FROM key_log)"),
            0
        );
        assert_eq!(
            r.audit_rows as i64,
            count(&s, "SELECT count(*) FROM audit_log")
        );

        // The newest row is still the demo's own, holding the counts.
        let a = audit::list(s.conn(), &admin(), &audit::AuditFilter::default()).unwrap();
        assert_eq!(
            (a[0].component.as_str(), a[0].operation.as_str()),
            ("demo", "import")
        );
        assert_eq!(a[0].after.as_ref().unwrap()["report"]["log_rows"], 500);
        let v = audit::verify(s.conn()).unwrap();
        assert!(v.ok, "{:?}", v.problems);
        assert_eq!(
            v.rows_checked as i64,
            count(&s, "SELECT count(*) FROM audit_log")
        );
        assert_eq!((v.key_log.covered, v.key_log.not_covered), (500, 0));
    }

    /// (id, at, record id, operation, before, after), as stored.
    type AuditText = (i64, i64, String, String, Option<String>, Option<String>);

    #[test]
    fn the_audit_rows_are_what_the_desk_writes() {
        let mut s = store();
        let r = generate(&mut s, &admin(), &small(300, 160, 4_001), &mut |_, _| {}).unwrap();
        assert!(r.keys_retired > 0 && r.persons_inactive > 0 && r.persons_deleted > 0);
        let rows: Vec<AuditText> = {
            let mut st = s
                .conn()
                .prepare("SELECT id, at, record_id, operation, before, after FROM audit_log WHERE component IN ('keys', 'persons') ORDER BY id")
                .unwrap();
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        let parse = |t: &Option<String>| -> serde_json::Value {
            let v: serde_json::Value = serde_json::from_str(t.as_deref().unwrap()).unwrap();
            // Written as serde_json writes a value (fields sorted), like `audit::record`.
            assert_eq!(&v.to_string(), t.as_ref().unwrap());
            v
        };
        // Each record's rows follow on: a row's `before` is the row before's `after`, and
        // the last `after` is the record as stored.
        let mut last: std::collections::HashMap<(bool, String), serde_json::Value> =
            Default::default();
        let mut prev_at = i64::MIN;
        for (id, at, record, op, before, after) in &rows {
            assert!(*at >= prev_at, "row {id} is older than the row before it");
            prev_at = *at;
            let after = parse(after);
            let is_key = op != "create" && after.get("key").is_some();
            let state = if is_key {
                after["key"].clone()
            } else {
                after.clone()
            };
            let is_key_record = is_key || after.get("number").is_some();
            if let Some(kl) = after.get("key_log_id").and_then(|v| v.as_i64()) {
                assert_eq!(
                    after["key_log_sha256"].as_str().unwrap(),
                    audit::key_log_row_sha256(s.conn(), kl).unwrap(),
                    "row {id}"
                );
                let (action, receipt): (String, Option<i64>) = s
                    .conn()
                    .query_row(
                        "SELECT action, receipt_number FROM key_log WHERE id = ?1",
                        [kl],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                let expected = match action.as_str() {
                    "issued" => "issue",
                    "returned" => "return",
                    other => other,
                };
                assert_eq!(op, expected, "row {id}");
                assert_eq!(after.get("receipt").and_then(|v| v.as_i64()), receipt);
            }
            let k = (is_key_record, record.clone());
            if op != "create" {
                assert_eq!(Some(&parse(before)), last.get(&k), "row {id} ({op})");
            }
            last.insert(k, state);
        }
        for key in crate::keys::list(
            s.conn(),
            &crate::keys::KeyQuery {
                limit: Some(1000),
                ..Default::default()
            },
        )
        .unwrap()
        {
            let stored = crate::keys::get(s.conn(), key.id).unwrap().audit_json();
            assert_eq!(last.get(&(true, key.id.to_string())), Some(&stored));
        }
        let mut st = s.conn().prepare("SELECT id FROM persons").unwrap();
        let ids: Vec<i64> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for id in ids {
            let stored = crate::persons::get(s.conn(), id).unwrap().audit_json();
            assert_eq!(last.get(&(false, id.to_string())), Some(&stored));
        }
    }

    /// (number, status, holder, latest row's action, latest row's person)
    type KeyAndLatestRow = (String, String, Option<i64>, Option<String>, Option<i64>);

    #[test]
    fn every_key_status_is_what_its_latest_log_row_says() {
        let mut s = store();
        // Enough keys for every ending (retired at 41, lost at 77).
        let r = generate(&mut s, &admin(), &small(300, 160, 4_001), &mut |_, _| {}).unwrap();
        assert_eq!(count(&s, "SELECT count(*) FROM key_log"), 4_001);
        let mut st = s
            .conn()
            .prepare(
                "SELECT k.number, k.status, k.holder_person_id,
                    (SELECT action FROM key_log WHERE key_id = k.id ORDER BY at DESC, id DESC LIMIT 1),
                    (SELECT person_id FROM key_log WHERE key_id = k.id ORDER BY at DESC, id DESC LIMIT 1)
                 FROM keys k",
            )
            .unwrap();
        let rows: Vec<KeyAndLatestRow> = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for (number, status, holder, action, person) in rows {
            let expected = match action.as_deref() {
                Some("issued") => "issued",
                Some("lost") => "lost",
                _ => "available",
            };
            let ok = status == expected || (status == "retired" && expected == "available");
            assert!(
                ok,
                "key {number} is {status}, its latest row says {action:?}"
            );
            if status == "issued" {
                assert_eq!(holder, person, "key {number}");
            }
        }
        assert!(r.keys_lost >= 1 && r.keys_retired >= 1, "{r:?}");
        let summary = crate::keylog::summary(s.conn(), NOW).unwrap();
        assert_eq!(summary.keys_out as u64, r.keys_out);
        assert_eq!(summary.keys_overdue as u64, r.keys_overdue);
        assert_eq!(summary.keys_lost as u64, r.keys_lost);
        assert!(r.keys_overdue > 0 && r.keys_due_soon > 0);
        let due_soon = count(
            &s,
            &format!("SELECT count(*) FROM keys WHERE status = 'issued' AND due_back_at >= {NOW} AND due_back_at < {NOW} + 30 * 86400"),
        );
        assert_eq!(due_soon as u64, r.keys_due_soon);
        // Nobody who left holds a key; the history lies in the last five years.
        assert_eq!(
            count(&s, "SELECT count(*) FROM keys k JOIN persons p ON p.id = k.holder_person_id WHERE p.active = 0 OR p.deleted_at IS NOT NULL"),
            0
        );
        assert!(r.persons_inactive > 0 && r.persons_deleted > 0);
        let (lo, hi): (i64, i64) = s
            .conn()
            .query_row("SELECT min(at), max(at) FROM key_log", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert!(lo >= NOW - 5 * 31_557_600 && hi < NOW, "{lo}..{hi}");
        assert_eq!(r.first_at, Some(lo));
        // Ids grow with time.
        assert_eq!(
            count(&s, "SELECT count(*) FROM key_log a JOIN key_log b ON b.id = a.id + 1 WHERE b.at < a.at"),
            0
        );
        assert!(audit::verify(s.conn()).unwrap().ok);
    }

    #[test]
    fn names_have_diacritics_and_are_found_without_them() {
        let mut s = store();
        generate(&mut s, &admin(), &small(400, 10, 0), &mut |_, _| {}).unwrap();
        let found = crate::persons::list(
            s.conn(),
            &crate::persons::PersonQuery {
                search: Some("berzins".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|p| p.full_name.contains("Bērziņ")),
            "{found:?}"
        );
        assert!(
            count(
                &s,
                "SELECT count(*) FROM persons WHERE full_name LIKE '%ņ%'"
            ) > 0
        );
    }

    #[test]
    fn an_odd_or_tiny_number_of_rows_is_met_exactly() {
        for rows in [0, 1, 2, 3, 7, 21] {
            let mut s = store();
            let r = generate(&mut s, &admin(), &small(5, 20, rows), &mut |_, _| {}).unwrap();
            assert_eq!(count(&s, "SELECT count(*) FROM key_log") as u64, rows);
            assert_eq!(r.log_rows, rows);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_register() {
        let names = || {
            let mut s = store();
            generate(&mut s, &admin(), &small(30, 10, 100), &mut |_, _| {}).unwrap();
            let mut st = s
                .conn()
                .prepare("SELECT full_name || badge FROM persons ORDER BY id")
                .unwrap();
            let rows = st.query_map([], |r| r.get::<_, Option<String>>(0)).unwrap();
            let names = rows.collect::<rusqlite::Result<Vec<_>>>().unwrap();
            // The clock is fixed, so the whole trail is the same, to its last hash.
            (names, audit::tip(s.conn()).unwrap())
        };
        assert_eq!(names(), names());
    }

    #[test]
    fn a_register_with_data_is_refused_and_left_alone() {
        let mut s = store();
        crate::persons::create(
            &mut s,
            &admin(),
            &crate::persons::PersonInput::named("Jānis Bērziņš"),
        )
        .unwrap();
        let e = generate(&mut s, &admin(), &small(5, 5, 10), &mut |_, _| {}).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.message().contains("empty register"), "{}", e.message());
        assert_eq!(count(&s, "SELECT count(*) FROM persons"), 1);
        assert_eq!(count(&s, "SELECT count(*) FROM keys"), 0);
        assert_eq!(count(&s, "SELECT count(*) FROM audit_log"), 1);
    }

    #[test]
    fn only_an_admin_may_generate() {
        let mut s = store();
        let op = Actor {
            role: Role::Operator,
            ..admin()
        };
        let e = generate(&mut s, &op, &small(5, 5, 10), &mut |_, _| {}).unwrap_err();
        assert_eq!(e.code(), "not_allowed");
        assert_eq!(count(&s, "SELECT count(*) FROM persons"), 0);
    }

    #[test]
    fn impossible_options_are_refused() {
        let mut s = store();
        for o in [
            small(0, 5, 10),
            small(5, 0, 10),
            DemoOptions {
                years: 0,
                ..small(1, 1, 0)
            },
        ] {
            let e = generate(&mut s, &admin(), &o, &mut |_, _| {}).unwrap_err();
            assert_eq!(e.code(), "invalid_input", "{o:?}");
        }
    }

    #[test]
    fn ascii_fold_drops_the_diacritics() {
        assert_eq!(ascii_fold("Bērziņš"), "berzins");
        assert_eq!(ascii_fold("Ļena"), "lena");
        assert_eq!(ascii_fold("Małgorzata"), "malgorzata");
    }
}
