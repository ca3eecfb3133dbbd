//! Demo data: a realistic register (persons with Latvian and other names, keys with rooms,
//! access groups, years of key movements ending now) generated into an EMPTY database, for
//! trying the app and as the benchmark's reference data set (SPEC §8). It never touches a
//! register that already has persons, keys or groups, and writes everything in one
//! transaction with ONE audit row (component `demo`, operation `import`) holding the counts.
//!
//! Persons, keys, groups and users are written by their modules' `_tx` writers (the same
//! rules as the forms), with their creation time in the past as the writer's "now".
//!
//! The key log is inserted in time order through the schema's triggers, so every rule
//! that holds for the app (no double issue, status = latest log row) holds for this data.

use rusqlite::{params, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::error::{Error, Result};
use crate::keys::KeyInput;
use crate::persons::PersonInput;
use crate::store::{Actor, Role, Store};

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
    let result = store.write(actor, Role::Admin, "generate demo data", |tx, now| {
        write_all(tx, now, actor, opts, progress)
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
    o: &DemoOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DemoReport> {
    let mut rng = Rng(o.seed);
    let total = o.persons + o.keys + o.log_rows;
    let span_start = now - i64::from(o.years) * 31_557_600; // 365.25 days a year
    let n_depts = DEPARTMENTS.len();
    let guards = n_depts - 1;

    // Users who did the handing out.
    let mut user_ids = Vec::new();
    for name in DEMO_USERS {
        let u = crate::users::create_tx(tx, span_start, name, Role::Operator, false, None)?;
        user_ids.push(u.id);
    }

    // Persons, each in one department.
    let mut person_ids = Vec::with_capacity(o.persons as usize);
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
        let created = span_start - rng.range(0, 365 * DAY);
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
        person_ids.push(crate::persons::create_tx(tx, created, &input)?.id);
        person_dept.push(dept);
        if i % 5_000 == 0 {
            progress(i, total);
        }
    }

    // Keys "1".."N", rooms spread over buildings and floors, hooks in cabinets.
    let mut key_ids = Vec::with_capacity(o.keys as usize);
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
        let created = span_start - rng.range(0, 30 * DAY);
        key_ids.push(crate::keys::create_tx(tx, created, &input)?.id);
        if k % 1_000 == 0 {
            progress(o.persons + k, total);
        }
    }

    // Groups: each department may take its own range of keys; security may take all.
    let key_dept = |k: usize| k * guards / (o.keys as usize).max(1);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_depts];
    for (i, d) in person_dept.iter().enumerate() {
        members[*d].push(i as u32);
    }
    let (mut n_members, mut n_group_keys) = (0u64, 0u64);
    for (d, name) in DEPARTMENTS.iter().enumerate() {
        let keys: Vec<usize> = (0..key_ids.len())
            .filter(|k| d == guards || key_dept(*k) == d)
            .collect();
        let description = match (keys.first(), keys.last()) {
            _ if d == guards => "Apsardze: visas atslēgas".to_string(),
            (Some(a), Some(b)) => format!("Atslēgas {}–{}", a + 1, b + 1),
            _ => "Bez atslēgām".to_string(),
        };
        let gid = crate::groups::create_tx(tx, span_start, name, Some(&description))?.id;
        for p in &members[d] {
            crate::groups::add_member_tx(tx, gid, person_ids[*p as usize])?;
            n_members += 1;
        }
        for k in keys {
            crate::groups::allow_key_tx(tx, gid, key_ids[k])?;
            n_group_keys += 1;
        }
    }

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

    // One INSERT ... SELECT per chunk of rows, fed from a JSON array: SQLite keeps a
    // statement journal for every statement whose triggers may RAISE(ABORT), and copying
    // each touched page into it per row was most of the time. Rows still go in one by
    // one, in order, through the triggers.
    let mut ins_log = tx.prepare_cached(
        "INSERT INTO key_log (action, key_id, person_id, user_id, actor, at, due_back_at, comment, override_reason)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                value ->> 5, value ->> 6, value ->> 7, value ->> 8
           FROM json_each(?1) ORDER BY key",
    )?;
    let quote = |s: &str| serde_json::to_string(s).expect("text serialises");
    let actions: Vec<String> = ["issued", "returned", "lost"]
        .iter()
        .map(|a| quote(a))
        .collect();
    let user_names: Vec<String> = DEMO_USERS.iter().map(|u| quote(u)).collect();
    let actor_name = quote(&actor.name);
    let comments: Vec<String> = COMMENTS.iter().map(|c| quote(c)).collect();
    let lost_reasons: Vec<String> = LOST_REASONS.iter().map(|c| quote(c)).collect();
    let reasons: Vec<String> = OVERRIDE_REASONS.iter().map(|c| quote(c)).collect();
    let opt = |v: Option<i64>| v.map_or_else(|| "null".to_string(), |v| v.to_string());
    // Per person: keys in hand at the end, and the time of their last movement.
    let mut holds = vec![0u32; person_ids.len()];
    let mut last_seen = vec![i64::MIN; person_ids.len()];
    const CHUNK: usize = 20_000;
    let mut batch = String::with_capacity(CHUNK * 100);
    for (c, chunk) in events.chunks(CHUNK).enumerate() {
        batch.clear();
        batch.push('[');
        for (i, e) in chunk.iter().enumerate() {
            let (user_id, user_name) = match e.user {
                u8::MAX => (actor.user_id, &actor_name),
                u => (Some(user_ids[u as usize]), &user_names[u as usize]),
            };
            let person = (e.action != 2).then(|| person_ids[e.person as usize]);
            fn text(i: u8, all: &[String]) -> &str {
                if i == 0 {
                    "null"
                } else {
                    &all[i as usize - 1]
                }
            }
            batch.push_str(&format!(
                "{}[{},{},{},{},{},{},{},{},{}]",
                if i == 0 { "" } else { "," },
                actions[e.action as usize],
                key_ids[e.key as usize],
                opt(person),
                opt(user_id),
                user_name,
                e.at,
                opt((e.due != 0).then_some(e.due)),
                text(
                    e.comment,
                    if e.action == 2 {
                        &lost_reasons
                    } else {
                        &comments
                    }
                ),
                text(e.reason, &reasons),
            ));
            if e.action != 2 {
                let p = e.person as usize;
                last_seen[p] = e.at;
                if e.action == 0 {
                    holds[p] += 1;
                } else {
                    holds[p] -= 1;
                }
            }
        }
        batch.push(']');
        ins_log.execute([&batch])?;
        progress(o.persons + o.keys + (c * CHUNK + chunk.len()) as u64, total);
    }

    // Keys taken out of use, persons who left (never someone holding a key: the app
    // refuses that too).
    let mut retire =
        tx.prepare_cached("UPDATE keys SET status = 'retired', updated_at = ?2 WHERE id = ?1")?;
    for (k, end) in ends.iter().enumerate() {
        if *end == End::Retired {
            retire.execute(params![key_ids[k], now])?;
        }
    }
    let (mut inactive, mut deleted) = (0u64, 0u64);
    let mut leave = tx.prepare_cached(
        "UPDATE persons SET active = ?2, deleted_at = ?3, updated_at = ?4 WHERE id = ?1",
    )?;
    for (i, id) in person_ids.iter().enumerate() {
        if holds[i] > 0 || i % 50 < 48 {
            continue;
        }
        let at = rng.range(last_seen[i].max(now - 365 * DAY) + 1, now);
        if i % 50 == 48 {
            leave.execute(params![id, false, None::<i64>, at])?;
            inactive += 1;
        } else if i % 100 == 99 {
            leave.execute(params![id, true, at, at])?;
            deleted += 1;
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
        keys_out: count(End::Out) + count(End::OutDueSoon) + count(End::OutOverdue),
        keys_due_soon: count(End::OutDueSoon),
        keys_overdue: count(End::OutOverdue),
        keys_lost: count(End::Lost),
        keys_retired: count(End::Retired),
        first_at: events.first().map(|e| e.at),
    };
    Change::new(&actor.name, "demo", "import")
        .after(json!({"report": report, "seed": o.seed, "years": o.years}))
        .record(tx, now)?;
    Ok(report)
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
    fn a_small_demo_has_the_asked_counts_and_one_audit_row() {
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

        let a = audit::list(s.conn(), &admin(), &audit::AuditFilter::default()).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].component.as_str(), a[0].operation.as_str()),
            ("demo", "import")
        );
        assert_eq!(a[0].after.as_ref().unwrap()["report"]["log_rows"], 500);
        let v = audit::verify(s.conn()).unwrap();
        assert!(v.ok, "{:?}", v.problems);
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
            rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
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
