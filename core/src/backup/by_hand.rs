//! A backup a person asks for (the window's "Back up now", `atslegas-cli backup create`),
//! in one call whatever the front end: choose the passphrase (the one given, or a
//! generated recovery passphrase returned once), make the verified backup, remember the
//! destination (first among the destinations, and its drive among the known drives: an
//! audited settings change), then apply the destination's retention rules. Automatic
//! backups share the last step ([`prune_after`]).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::retention::{self, PruneReport, Rules};
use super::{create, drives, generate_passphrase, AesMode, BackupReport, BackupRequest, Kind};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{Actor, Store};
use crate::work::{Cancel, Locations, Progress};

/// What the person chose.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub destination: PathBuf,
    pub kind: Kind,
    pub reason: Option<String>,
    pub encrypt: bool,
    /// The passphrase chosen; `None` (with `encrypt`) means "generate one".
    pub passphrase: Option<String>,
    pub aes: AesMode,
    /// Say what would be written and how large; write, remember and delete nothing.
    pub dry_run: bool,
}

/// What the backup did, and what came after it (each front end says it its own way).
#[derive(Debug)]
pub struct Done {
    pub report: BackupReport,
    /// The generated recovery passphrase, to be shown once; `None` when chosen or plain.
    pub recovery_passphrase: Option<String>,
    /// The destination's retention rules, applied after the verified backup.
    pub pruned: Option<PruneReport>,
    /// Why they could not be applied (the backup itself is done and verified).
    pub prune_error: Option<Error>,
    /// The configuration with the destination remembered, when that changed it (saved
    /// already; a front end that keeps it in memory takes this one).
    pub config: Option<Config>,
}

/// Makes a backup a person asked for; see the module doc. `config` is the configuration
/// in force, `config_file` where it is saved.
#[allow(clippy::too_many_arguments)] // reason: the store, who, where, and what was chosen
pub fn backup_now(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    config: &Config,
    wanted: Wanted,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<Done> {
    let generated = (wanted.encrypt && wanted.passphrase.is_none()).then(generate_passphrase);
    let passphrase = if wanted.encrypt {
        wanted.passphrase.clone().or_else(|| generated.clone())
    } else {
        None
    };
    let req = BackupRequest {
        kind: wanted.kind,
        destination: wanted.destination.clone(),
        site: config.site_name.clone(),
        reason: wanted.reason.clone(),
        passphrase,
        aes: wanted.aes,
        dry_run: wanted.dry_run,
        pinned: false,
        compress: true,
    };
    let report = create(store, actor, loc, &req, progress, cancel)?;
    if wanted.dry_run {
        return Ok(Done {
            report,
            recovery_passphrase: None,
            pruned: None,
            prune_error: None,
            config: None,
        });
    }
    // The backup is done and verified: nothing after this undoes it, and a failure to
    // remember or to prune is reported beside it, never instead of it.
    let config_now = match remember(store, actor, loc, config, &wanted.destination) {
        Ok(next) => next,
        Err(e) => {
            tracing::error!(error = %e, "could not remember the backup destination");
            None
        }
    };
    let rules = Rules::from_config(&config_now.as_ref().unwrap_or(config).backup);
    let (pruned, prune_error) = prune_after(store, actor, loc, &report, rules);
    Ok(Done {
        report,
        recovery_passphrase: generated,
        pruned,
        prune_error,
        config: config_now,
    })
}

/// Puts `dest` first among the destinations (five at most) and its drive among the known
/// drives (by the marker written in it, `drives`). When that changes the configuration,
/// it is saved with an audit row (`backup`/`remember_destination`: a backup's own row,
/// so it does not make the next automatic backup think the register changed).
fn remember(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    config: &Config,
    dest: &Path,
) -> Result<Option<Config>> {
    let mut next = config.clone();
    let text = dest.to_string_lossy().into_owned();
    next.backup.destinations.retain(|d| *d != text);
    next.backup.destinations.insert(0, text);
    next.backup.destinations.truncate(5);
    if let Err(e) = drives::remember(&mut next.backup, dest, store.now()) {
        tracing::error!(error = %e, "could not remember the backup drive");
    }
    if next == *config {
        return Ok(None);
    }
    let (before, after) = (&config.backup, &next.backup);
    store.write(actor, crate::Role::Admin, "make backups", |tx, now| {
        crate::audit::Change::new(&actor.name, "backup", "remember_destination")
            .before(
                json!({"destinations": before.destinations, "known_drives": before.known_drives}),
            )
            .after(json!({"destinations": after.destinations, "known_drives": after.known_drives}))
            .record(tx, now)?;
        next.save(&loc.config_file)
    })?;
    Ok(Some(next))
}

/// Applies `rules` to the folder the verified backup `made` just went to (never deleting
/// the newest verified, a pinned or an unverified backup: `retention`; `made` itself is
/// not read again). A failure is returned beside the backup, which stays done.
pub(crate) fn prune_after(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    made: &BackupReport,
    rules: Rules,
) -> (Option<PruneReport>, Option<Error>) {
    let Some(dest) = made.file.parent() else {
        return (None, None);
    };
    let fresh = retention::Fresh {
        file: &made.file,
        sha256: &made.sha256,
    };
    match retention::prune(store, actor, loc, dest, rules, false, Some(fresh)) {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    }
}
