//! Retention: which backups in one folder to keep and which to delete, by the rules
//! keep-last N, keep-daily N, keep-weekly N and keep-monthly N (the meaning restic and
//! borg give their `forget`/`prune`: the newest backup of each day, ISO week or month,
//! for the N most recent days, weeks or months that have a backup). A backup kept by
//! several rules is kept once. Deleting removes the archive and its `.sha256` together,
//! and is recorded in the audit log (through [`Store::write`]) and the operations journal.
//!
//! What is never deleted, and why:
//! - **Pinned** backups (`-pinned` in the name: the safety backups taken before a
//!   restore). They are kept outside the rotation: they are not counted by any rule,
//!   so they never push out a regular backup either.
//! - **Unverified** archives: an archive counts as verified only when it can be outlined
//!   (a plain backup's manifest reads; an encrypted one, whose manifest is encrypted
//!   too, has a time in its name) and its whole content matches the `.sha256` beside it. That sidecar is
//!   written only after the complete read-back check of [`super::create`], so a match
//!   proves these are the bytes that passed it (an encrypted backup cannot be checked
//!   further without its passphrase). An archive without a sidecar (a backup killed
//!   before its check ended, a copy made by hand), with a sidecar that does not match
//!   (bit rot, a counterfeit stick) or without a readable manifest is **left alone**:
//!   never deleted, because it may still be the only copy of something, and never
//!   counted as kept, so a failed backup can never push out a good one. The plan lists
//!   it with its problem, so a person can check it (`backup verify`) and delete it.
//! - **The newest verified backup** of each group, whatever the rules say (the rules
//!   keep it anyway unless they keep nothing, and a rule set that keeps nothing is
//!   refused before anything is read).
//!
//! Groups: rules apply per site (as the file name says it) and per kind of backup (full,
//! database, config: the manifest's, or for an encrypted one what its entries are), as
//! restic groups by host, so a config-only backup never pushes out a full one and two
//! sites sharing a drive never prune each other. Days, weeks and months are the local
//! calendar's (the office's day), like restic's.
//!
//! Cost: checking the sidecars reads every archive in the folder once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, TimeZone};
use serde::Serialize;
use serde_json::json;

use super::{archive, fsync_dir, history, journal_anchored};
use crate::audit::{self, Change};
use crate::config::{BackupConfig, Config};
use crate::error::{Error, Result};
use crate::store::{Actor, Role, Store};
use crate::work::Locations;

/// The most any one rule may keep (a typo like 10000 is more likely than a wish).
pub const MAX_KEEP: u32 = 1000;

/// How many backups to keep, per rule. 0 turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Rules {
    pub keep_last: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
}

impl Rules {
    /// Keep the last `last`, and one a day, a week and a month for `daily`, `weekly` and
    /// `monthly` of them.
    pub fn new(last: u32, daily: u32, weekly: u32, monthly: u32) -> Rules {
        Rules {
            keep_last: last,
            keep_daily: daily,
            keep_weekly: weekly,
            keep_monthly: monthly,
        }
    }

    /// The rules stored with the other backup settings.
    pub fn from_config(c: &BackupConfig) -> Rules {
        Rules {
            keep_last: c.keep_last,
            keep_daily: c.keep_daily,
            keep_weekly: c.keep_weekly,
            keep_monthly: c.keep_monthly,
        }
    }

    /// Refuses rules that would keep no backup at all, and numbers out of range.
    pub fn check(&self) -> Result<()> {
        for (field, n) in [
            ("keep_last", self.keep_last),
            ("keep_daily", self.keep_daily),
            ("keep_weekly", self.keep_weekly),
            ("keep_monthly", self.keep_monthly),
        ] {
            if n > MAX_KEEP {
                return Err(Error::invalid_rule(
                    field,
                    "keep_range",
                    json!({ "max": MAX_KEEP }),
                    format!("{n} is too many; use a number from 0 to {MAX_KEEP}"),
                ));
            }
        }
        if *self == Rules::default() {
            return Err(Error::invalid_rule(
                "retention",
                "keeps_nothing",
                serde_json::Value::Null,
                "every rule is 0, so these rules would keep no backup at all; set at least one \
                 of keep last, keep daily, keep weekly or keep monthly to 1 or more",
            ));
        }
        Ok(())
    }
}

/// Why a backup is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Last,
    Daily,
    Weekly,
    Monthly,
    Pinned,
    NewestVerified,
}

/// One backup as retention sees it (the input of [`decide`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub file: PathBuf,
    /// From the manifest, or an encrypted backup's file name; Unix seconds UTC (0 when
    /// neither says).
    pub created_at: i64,
    /// `site/kind`: rules apply within a group.
    pub group: String,
    pub pinned: bool,
    /// Why it does not count as verified; `None` when it does.
    pub problem: Option<String>,
}

/// A backup with the decision about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    #[serde(flatten)]
    pub backup: Candidate,
    pub created_at_iso: String,
    /// Empty for backups to delete and for those left alone.
    pub kept_because: Vec<Reason>,
}

/// What retention would do in a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub folder: PathBuf,
    pub rules: Rules,
    /// Verified backups the rules keep, and pinned ones; newest first.
    pub keep: Vec<Decided>,
    /// Verified backups no rule keeps; newest first.
    pub delete: Vec<Decided>,
    /// Archives that did not verify: never deleted, never counted as kept.
    pub left_alone: Vec<Decided>,
}

fn decided(c: &Candidate, reasons: Vec<Reason>) -> Decided {
    Decided {
        created_at_iso: crate::time::iso_utc(c.created_at),
        backup: c.clone(),
        kept_because: reasons,
    }
}

/// A local day, ISO week or month: (year, month or week, day or 0).
type Bucket = (i32, u32, u32);

/// The bucket a time falls in for a rule: its local day, ISO week or month.
fn bucket<Tz: TimeZone>(tz: &Tz, at: i64, rule: Reason) -> Bucket {
    let utc = chrono::DateTime::from_timestamp(at, 0).unwrap_or_default();
    let t = tz.from_utc_datetime(&utc.naive_utc());
    match rule {
        Reason::Daily => (t.year(), t.month(), t.day()),
        Reason::Weekly => {
            let w = t.iso_week();
            (w.year(), w.week(), 0)
        }
        _ => (t.year(), t.month(), 0),
    }
}

/// A sort key, larger is newer: the time, then the `-2`, `-3` ... that [`super::create`]
/// appends to a second backup in the same second, then the name, so the order never
/// depends on the disk.
fn order_key(c: &Candidate) -> (i64, u32, &Path) {
    let stem = c
        .file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .trim_end_matches(".zip")
        .to_string();
    let (_, sequence) = super::split_sequence(&stem);
    (c.created_at, sequence, c.file.as_path())
}

/// Decides, without touching any file, which backups the rules keep. Pure: the same
/// candidates, rules and time zone always give the same plan.
pub fn decide<Tz: TimeZone>(
    folder: &Path,
    candidates: &[Candidate],
    rules: Rules,
    tz: &Tz,
) -> Result<Plan> {
    rules.check()?;
    let mut plan = Plan {
        folder: folder.to_path_buf(),
        rules,
        keep: Vec::new(),
        delete: Vec::new(),
        left_alone: Vec::new(),
    };
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| order_key(b).cmp(&order_key(a)));
    let mut groups: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for c in sorted {
        if c.problem.is_some() {
            plan.left_alone.push(decided(c, Vec::new()));
        } else if c.pinned {
            plan.keep.push(decided(c, vec![Reason::Pinned]));
        } else {
            groups.entry(c.group.as_str()).or_default().push(c);
        }
    }
    let periodic = [
        (Reason::Daily, rules.keep_daily),
        (Reason::Weekly, rules.keep_weekly),
        (Reason::Monthly, rules.keep_monthly),
    ];
    for members in groups.values() {
        let mut last_left = rules.keep_last;
        // Per rule: how many more periods it keeps, and the last period it kept.
        let mut left: Vec<(Reason, u32, Option<Bucket>)> =
            periodic.iter().map(|&(r, n)| (r, n, None)).collect();
        for (i, c) in members.iter().enumerate() {
            let mut reasons = Vec::new();
            if last_left > 0 {
                last_left -= 1;
                reasons.push(Reason::Last);
            }
            for (rule, n, last) in left.iter_mut() {
                let b = bucket(tz, c.created_at, *rule);
                // Newest first, so the first backup seen in a period is that period's newest.
                if *n > 0 && *last != Some(b) {
                    *n -= 1;
                    *last = Some(b);
                    reasons.push(*rule);
                }
            }
            if i == 0 && reasons.is_empty() {
                reasons.push(Reason::NewestVerified);
            }
            if reasons.is_empty() {
                plan.delete.push(decided(c, reasons));
            } else {
                plan.keep.push(decided(c, reasons));
            }
        }
    }
    let newest_first = |a: &Decided, b: &Decided| order_key(&b.backup).cmp(&order_key(&a.backup));
    plan.keep.sort_by(newest_first);
    plan.delete.sort_by(newest_first);
    Ok(plan)
}

/// A backup verified a moment ago by the call that made it: its file, and the SHA-256
/// that call read back from the drive.
#[derive(Debug, Clone, Copy)]
pub struct Fresh<'a> {
    pub file: &'a Path,
    pub sha256: &'a str,
}

/// Reads a folder's backups and checks each against its `.sha256` (see the module doc
/// for what counts as verified). The `fresh` backup is not hashed again: its `.sha256`
/// is compared with the hash its own read-back found (a gigabyte backup, read once
/// more from a USB drive, took longer than the rest of the prune). No role check:
/// [`prune`] checks it first.
pub(crate) fn candidates(folder: &Path, fresh: Option<Fresh>) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for f in super::found_in(folder)? {
        // The site is the one in the file name and the kind the manifest's or, for an
        // encrypted backup (whose manifest is encrypted too), the one its entries show:
        // so plain and encrypted backups of one site are one group.
        let name = f
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let created_at = f.created_at;
        let group = match &f.kind {
            Some(kind) if f.problem.is_none() && created_at > 0 => {
                let site = super::name_parts(&name).map(|(site, _)| site);
                format!("{}/{kind}", site.unwrap_or(name))
            }
            _ => String::new(),
        };
        let problem = if let Some(p) = f.problem {
            Some(p)
        } else if !f.verified_sidecar {
            Some(
                "no .sha256 beside it: the backup did not finish its verification, or the file \
                 was copied without it"
                    .to_string(),
            )
        } else {
            match fresh.filter(|n| n.file == f.file.as_path()) {
                Some(n) => archive::check_sidecar_known(&f.file, n.sha256),
                None => archive::check_sidecar(&f.file),
            }
            .err()
            .map(|e| e.message())
        };
        out.push(Candidate {
            file: f.file,
            created_at,
            group,
            pinned: f.pinned,
            problem,
        });
    }
    Ok(out)
}

/// The plan for a folder, with the local calendar's days, weeks and months. No role
/// check: [`prune`] checks it first.
pub(crate) fn plan(folder: &Path, rules: Rules, fresh: Option<Fresh>) -> Result<Plan> {
    // Refuse bad rules before reading (and hashing) every archive.
    rules.check()?;
    super::ensure_folder(folder, "prune")?;
    decide(folder, &candidates(folder, fresh)?, rules, &chrono::Local)
}

/// Stores new rules with the other backup settings in `config.json`, audited like every
/// settings change: the audit row is written, then the file, in one transaction, so a
/// failed write leaves neither. Rules that keep nothing are refused.
pub fn save_rules(
    store: &mut Store,
    actor: &Actor,
    path: &Path,
    config: &Config,
    rules: Rules,
) -> Result<Config> {
    actor.require(Role::Admin, "change the backup settings")?;
    rules.check()?;
    let mut next = config.clone();
    next.backup.keep_last = rules.keep_last;
    next.backup.keep_daily = rules.keep_daily;
    next.backup.keep_weekly = rules.keep_weekly;
    next.backup.keep_monthly = rules.keep_monthly;
    let before = Rules::from_config(&config.backup);
    crate::config::save_audited(
        store,
        actor,
        "change the backup settings",
        path,
        &next,
        json!({ "backup_retention": before }),
        json!({ "backup_retention": rules }),
        || Ok(()),
    )?;
    Ok(next)
}

/// What pruning did.
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    #[serde(flatten)]
    pub plan: Plan,
    pub dry_run: bool,
    /// Archives deleted (with their `.sha256`).
    pub deleted: Vec<PathBuf>,
    /// Archives that could not be deleted, with the reason.
    pub failed: Vec<Failed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    pub file: PathBuf,
    pub error: String,
}

/// Deletes the archive, then its `.sha256` (a leftover sidecar without its archive is
/// harmless; an archive without its sidecar would only be left alone next time).
pub(crate) fn delete_pair(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("delete", file, e)),
    }
    let side = super::naming::sidecar(file);
    match std::fs::remove_file(&side) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("delete", &side, e)),
    }
}

/// Applies the rules to a folder: plans, then (unless `dry_run`) deletes what the plan
/// says, records one audit row listing what was deleted in the same transaction, and
/// appends a journal line. Only admins may prune. With `dry_run` nothing is touched.
/// `fresh` is the backup just made and verified in `folder`, when pruning right after it.
#[allow(clippy::too_many_arguments)] // reason: who, where, the rules, and the fresh backup
pub fn prune(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    folder: &Path,
    rules: Rules,
    dry_run: bool,
    fresh: Option<Fresh>,
) -> Result<PruneReport> {
    actor.require(Role::Admin, "delete old backups")?;
    let plan = plan(folder, rules, fresh)?;
    let mut report = PruneReport {
        plan,
        dry_run,
        deleted: Vec::new(),
        failed: Vec::new(),
    };
    if dry_run || report.plan.delete.is_empty() {
        return Ok(report);
    }
    // The newest verified backup of each group is never deleted, whatever the plan says:
    // checked again here so a mistake in `decide` cannot cost the last good backup.
    let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
    for d in &report.plan.keep {
        if !d.backup.pinned {
            let e = newest.entry(d.backup.group.as_str()).or_insert(i64::MIN);
            *e = (*e).max(d.backup.created_at);
        }
    }
    for d in &report.plan.delete {
        let keeps_newer = newest
            .get(d.backup.group.as_str())
            .is_some_and(|&n| n >= d.backup.created_at);
        if !keeps_newer || d.backup.pinned || d.backup.problem.is_some() {
            return Err(Error::BackupFailed {
                step: "prune".into(),
                reason: format!(
                    "refused to delete {}: it is pinned, unverified or the newest verified backup \
                     (nothing was deleted; please report this)",
                    d.backup.file.display()
                ),
            });
        }
    }
    let to_delete: Vec<PathBuf> = report
        .plan
        .delete
        .iter()
        .map(|d| d.backup.file.clone())
        .collect();
    let name = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    let outcome = store.write(actor, Role::Admin, "delete old backups", |tx, now| {
        for f in &to_delete {
            match delete_pair(f) {
                Ok(()) => deleted.push(f.clone()),
                Err(e) => failed.push(Failed {
                    file: f.clone(),
                    error: e.message(),
                }),
            }
        }
        fsync_dir(folder);
        if deleted.is_empty() {
            // Nothing changed: nothing to audit.
            return Ok(());
        }
        // The history rows of the deleted archives say they are gone.
        for f in &deleted {
            history::mark_pruned_tx(tx, &name(f), now)?;
        }
        Change::new(&actor.name, "backup", "prune")
            .before(json!({ "files": deleted.iter().map(name).collect::<Vec<_>>() }))
            .after(json!({
                "folder": folder, "rules": rules,
                "deleted": deleted.iter().map(name).collect::<Vec<_>>(),
                "failed": failed.iter().map(|f| json!({"file": name(&f.file), "error": f.error})).collect::<Vec<_>>(),
                "kept": report.plan.keep.len(), "left_alone": report.plan.left_alone.len(),
            }))
            .record(tx, now)?;
        Ok(())
    });
    // The journal says what happened on the drive even if the audit row could not be
    // written (the files are gone either way).
    if !deleted.is_empty() || !failed.is_empty() {
        let tip = audit::tip(store.conn()).ok().flatten();
        journal_anchored(
            loc,
            store.now(),
            &actor.name,
            "prune",
            tip.as_ref(),
            json!({
                "folder": folder, "rules": rules,
                "deleted": deleted.iter().map(name).collect::<Vec<_>>(),
                "failed": failed.iter().map(|f| json!({"file": name(&f.file), "error": f.error})).collect::<Vec<_>>(),
                "audited": outcome.is_ok(),
            }),
        );
    }
    outcome?;
    report.deleted = deleted;
    report.failed = failed;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    const DAY: i64 = 86_400;
    /// 2026-01-05 12:00 UTC, a Monday.
    const MONDAY: i64 = 1_767_614_400;

    fn c(name: &str, at: i64) -> Candidate {
        Candidate {
            file: PathBuf::from(name),
            created_at: at,
            group: "site/full".into(),
            pinned: false,
            problem: None,
        }
    }

    fn rules(last: u32, daily: u32, weekly: u32, monthly: u32) -> Rules {
        Rules::new(last, daily, weekly, monthly)
    }

    fn kept(p: &Plan) -> Vec<String> {
        p.keep
            .iter()
            .map(|d| d.backup.file.display().to_string())
            .collect()
    }

    fn run(cs: &[Candidate], r: Rules) -> Plan {
        decide(Path::new("d"), cs, r, &Utc).unwrap()
    }

    /// A backup just made and verified is checked by the hash its read-back found, not
    /// read from the drive again; its `.sha256` must still say that hash. Any other
    /// backup is hashed as before.
    #[test]
    fn the_backup_just_verified_is_not_read_again_but_its_sha256_file_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Locations::beside(&dir.path().join("database.db"));
        let mut store = Store::open(&loc.database, Default::default()).unwrap();
        crate::config::Config::default()
            .save(&loc.config_file)
            .unwrap();
        let dest = dir.path().join("drive");
        std::fs::create_dir(&dest).unwrap();
        let req = super::super::BackupRequest {
            kind: super::super::Kind::Full,
            destination: dest.clone(),
            site: "site".into(),
            reason: None,
            passphrase: None,
            aes: super::super::AesMode::Aes256,
            dry_run: false,
            pinned: false,
            compress: true,
        };
        let actor = Actor {
            user_id: None,
            name: "admin".into(),
            role: crate::Role::Admin,
        };
        let made = super::super::create(
            &mut store,
            &actor,
            &loc,
            &req,
            &mut |_| {},
            &Default::default(),
        )
        .unwrap();
        let problem = |fresh: Option<Fresh>| {
            let cs = candidates(&dest, fresh).unwrap();
            assert_eq!(cs.len(), 1);
            cs[0].problem.clone()
        };
        let fresh = Fresh {
            file: &made.file,
            sha256: &made.sha256,
        };
        assert_eq!(problem(None), None);
        assert_eq!(problem(Some(fresh)), None);

        // One byte of the database's entry changed behind the backup's back: a full check
        // sees it, the fresh backup's check does not read the file at all.
        let mut bytes = std::fs::read(&made.file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&made.file, &bytes).unwrap();
        assert!(problem(None).is_some_and(|p| p.contains(".sha256")));
        assert_eq!(problem(Some(fresh)), None);

        // A `.sha256` that no longer says what the read-back found is a problem either way.
        let wrong = "0".repeat(64);
        let other = Fresh {
            file: &made.file,
            sha256: &wrong,
        };
        assert!(problem(Some(other)).is_some_and(|p| p.contains(".sha256")));
    }

    #[test]
    fn keep_last_keeps_the_n_newest() {
        let cs: Vec<_> = (0..5)
            .map(|i| c(&format!("b{i}"), MONDAY + i * 60))
            .collect();
        let p = run(&cs, rules(2, 0, 0, 0));
        assert_eq!(kept(&p), ["b4", "b3"]);
        assert_eq!(p.delete.len(), 3);
    }

    #[test]
    fn keep_daily_keeps_the_newest_of_each_of_the_last_n_days_with_backups() {
        // Two backups a day for four days, and a gap day.
        let mut cs = Vec::new();
        for d in [0, 1, 3, 4] {
            cs.push(c(&format!("d{d}-morning"), MONDAY + d * DAY - 3 * 3600));
            cs.push(c(&format!("d{d}-evening"), MONDAY + d * DAY + 6 * 3600));
        }
        let p = run(&cs, rules(0, 3, 0, 0));
        // The gap day (2) does not use up a slot: restic's "days that have a backup".
        assert_eq!(kept(&p), ["d4-evening", "d3-evening", "d1-evening"]);
        assert!(p.keep.iter().all(|d| d.kept_because == [Reason::Daily]));
    }

    #[test]
    fn keep_weekly_uses_iso_weeks_and_keep_monthly_calendar_months() {
        // Daily backups from Monday 5 January for 40 days.
        let cs: Vec<_> = (0..40)
            .map(|d| c(&format!("day{d:02}"), MONDAY + d * DAY))
            .collect();
        let p = run(&cs, rules(0, 0, 2, 0));
        // Newest day is 13 February (a Friday, week 7); the newest of week 6 is Sunday 8 February.
        assert_eq!(kept(&p), ["day39", "day34"]);
        let p = run(&cs, rules(0, 0, 0, 2));
        // February's newest is day39; January's newest is 31 January (day 26).
        assert_eq!(kept(&p), ["day39", "day26"]);
    }

    #[test]
    fn rules_combine_and_a_backup_kept_by_several_rules_is_kept_once() {
        let cs: Vec<_> = (0..40)
            .map(|d| c(&format!("day{d:02}"), MONDAY + d * DAY))
            .collect();
        let p = run(&cs, rules(1, 2, 2, 2));
        assert_eq!(kept(&p), ["day39", "day38", "day34", "day26"]);
        assert_eq!(
            p.keep[0].kept_because,
            [Reason::Last, Reason::Daily, Reason::Weekly, Reason::Monthly]
        );
        assert_eq!(p.keep.len() + p.delete.len(), 40);
    }

    #[test]
    fn of_two_backups_in_the_same_second_the_numbered_one_is_newer() {
        let cs = vec![
            c("atslegas-20260105-120000Z.zip", MONDAY),
            c("atslegas-20260105-120000Z-2.zip", MONDAY),
            c("atslegas-20260105-120000Z-pinned-3.zip", MONDAY - 1),
        ];
        let p = run(&cs, rules(1, 0, 0, 0));
        assert_eq!(kept(&p), ["atslegas-20260105-120000Z-2.zip"]);
    }

    #[test]
    fn unverified_backups_are_left_alone_and_never_counted() {
        let mut cs = vec![c("old-good", MONDAY), c("older-good", MONDAY - DAY)];
        let mut bad = c("new-bad", MONDAY + DAY);
        bad.problem = Some("no .sha256".into());
        cs.push(bad);
        let p = run(&cs, rules(1, 0, 0, 0));
        assert_eq!(kept(&p), ["old-good"]);
        assert_eq!(p.left_alone.len(), 1);
        assert_eq!(p.delete.len(), 1);
        assert_eq!(p.delete[0].backup.file, PathBuf::from("older-good"));
    }

    #[test]
    fn pinned_backups_are_kept_and_not_counted() {
        let mut pin = c("pinned", MONDAY + DAY);
        pin.pinned = true;
        let cs = vec![pin, c("a", MONDAY), c("b", MONDAY - DAY)];
        let p = run(&cs, rules(1, 0, 0, 0));
        assert_eq!(kept(&p), ["pinned", "a"]);
        assert_eq!(p.keep[0].kept_because, [Reason::Pinned]);
    }

    #[test]
    fn groups_are_pruned_separately() {
        let mut cfg = c("config-only", MONDAY + DAY);
        cfg.group = "site/config".into();
        let cs = vec![cfg, c("full-new", MONDAY), c("full-old", MONDAY - DAY)];
        let p = run(&cs, rules(1, 0, 0, 0));
        assert_eq!(kept(&p), ["config-only", "full-new"]);
    }

    #[test]
    fn rules_that_keep_nothing_are_refused() {
        let e = decide(Path::new("d"), &[c("a", MONDAY)], Rules::default(), &Utc).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.message().contains("keep no backup"), "{}", e.message());
        let e = rules(MAX_KEEP + 1, 0, 0, 0).check().unwrap_err();
        assert!(e.message().contains("keep_last"), "{}", e.message());
    }

    #[test]
    fn local_days_decide_the_daily_buckets() {
        // 21:30 and 23:30 UTC are one UTC day, but two days at UTC+2 (23:30 and 01:30).
        let cs = vec![
            c("late", MONDAY + 11 * 3600 + 1800),
            c("early", MONDAY + 9 * 3600 + 1800),
        ];
        let p = run(&cs, rules(0, 2, 0, 0));
        assert_eq!(kept(&p), ["late"]);
        let riga = chrono::FixedOffset::east_opt(2 * 3600).unwrap();
        let p = decide(Path::new("d"), &cs, rules(0, 2, 0, 0), &riga).unwrap();
        assert_eq!(kept(&p), ["late", "early"]);
    }
}
