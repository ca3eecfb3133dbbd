//! What a backup file is called: `atslegas-<site>-<UTC time>[-pinned][-N].zip`, the
//! parts read back from a name, and the next free name when a second already has one.

use std::path::{Path, PathBuf};

/// The `.sha256` beside an archive: `NAME.zip` → `NAME.zip.sha256`.
pub(crate) fn sidecar(archive: &Path) -> PathBuf {
    let mut name = archive.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    archive.with_file_name(name)
}

/// `atslegas-<site>-<UTC timestamp>.zip`; only characters every file system accepts.
pub fn file_name(site: &str, at: i64, pinned: bool) -> String {
    let slug: String = site
        .chars()
        .map(|c| match c {
            'ā' | 'Ā' => 'a',
            'č' | 'Č' => 'c',
            'ē' | 'Ē' => 'e',
            'ģ' | 'Ģ' => 'g',
            'ī' | 'Ī' => 'i',
            'ķ' | 'Ķ' => 'k',
            'ļ' | 'Ļ' => 'l',
            'ņ' | 'Ņ' => 'n',
            'š' | 'Š' => 's',
            'ū' | 'Ū' => 'u',
            'ž' | 'Ž' => 'z',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let ts = chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y%m%d-%H%M%SZ").to_string())
        .unwrap_or_else(|| at.to_string());
    let site = if slug.is_empty() || slug == "atslegas" {
        String::new()
    } else {
        format!("{slug}-")
    };
    format!(
        "atslegas-{site}{ts}{}.zip",
        if pinned { "-pinned" } else { "" }
    )
}

/// The site and time [`file_name`] put into a backup's name
/// (`atslegas-[SITE-]YYYYMMDD-HHMMSSZ[-pinned][-N].zip`); `None` for another name.
pub(crate) fn name_parts(name: &str) -> Option<(String, i64)> {
    let stem = name.strip_suffix(".zip")?.strip_prefix("atslegas-")?;
    let (stem, _) = split_sequence(stem);
    let stem = stem.strip_suffix("-pinned").unwrap_or(stem);
    let split = stem.len().checked_sub(16)?;
    let (site, ts) = (stem.get(..split)?, stem.get(split..)?);
    let at = chrono::NaiveDateTime::parse_from_str(ts, "%Y%m%d-%H%M%SZ").ok()?;
    Some((
        site.strip_suffix('-').unwrap_or(site).to_string(),
        at.and_utc().timestamp(),
    ))
}

/// A backup name's stem (without `.zip`) split into what comes before its same-second
/// sequence (`-2`, `-3`, ... from [`free_name`]) and that number, 1 when there is none.
pub(crate) fn split_sequence(stem: &str) -> (&str, u32) {
    match stem.rsplit_once('-') {
        Some((rest, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            n.parse().map_or((stem, 1), |n| (rest, n))
        }
        _ => (stem, 1),
    }
}

/// The name a new backup takes in `dir`: `base`, or when any file of that second is
/// there, `-2`, `-3`, ... after the highest of them. A name freed by retention is never
/// taken again, so a later backup never sorts as older (the rules would delete the
/// backup just made); a name whose `.partial` a killed backup left behind, or whose
/// `.sha256` is there without it, counts as taken (never touched: not ours to replace).
pub(crate) fn free_name(dir: &Path, base: &str) -> String {
    let stem = base.trim_end_matches(".zip");
    let sequence_of = |entry: &str| -> Option<u32> {
        let entry = [".zip.sha256.partial", ".zip.sha256", ".zip.partial", ".zip"]
            .iter()
            .find_map(|ext| entry.strip_suffix(ext))?;
        let (rest, n) = split_sequence(entry);
        (rest == stem).then_some(n)
    };
    let highest = std::fs::read_dir(dir).ok().and_then(|entries| {
        entries
            .flatten()
            .filter_map(|e| sequence_of(&e.file_name().to_string_lossy()))
            .max()
    });
    match highest {
        None => base.to_string(),
        Some(n) => format!("{stem}-{}.zip", n + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_name_gives_back_its_site_and_time() {
        let at = 1_780_000_000; // 2026-05-28 20:26:40 UTC
        for (site, slug, pinned, n) in [
            ("Rīgas Skola", "rigas-skola", false, 0),
            ("Atslegas", "", true, 0),
            ("x", "x", false, 3),
            ("", "", true, 2),
        ] {
            let mut name = file_name(site, at, pinned);
            if n > 0 {
                name = name.replace(".zip", &format!("-{n}.zip"));
            }
            assert_eq!(name_parts(&name), Some((slug.to_string(), at)), "{name}");
        }
        assert_eq!(name_parts("atslegas-notes.zip"), None);
        assert_eq!(name_parts("atslegas-20260528-202640Z.zip.sha256"), None);
        assert_eq!(name_parts("backup.zip"), None);
    }

    #[test]
    fn a_new_backup_is_named_after_every_backup_of_its_second_even_a_deleted_one() {
        let dir = tempfile::tempdir().unwrap();
        let base = "atslegas-20260528-202640Z.zip";
        assert_eq!(free_name(dir.path(), base), base);
        let touch = |n: &str| std::fs::write(dir.path().join(n), b"").unwrap();
        touch(base);
        assert_eq!(
            free_name(dir.path(), base),
            "atslegas-20260528-202640Z-2.zip"
        );
        // Retention deleted the first; the second is there: the next comes after it.
        std::fs::remove_file(dir.path().join(base)).unwrap();
        touch("atslegas-20260528-202640Z-2.zip");
        assert_eq!(
            free_name(dir.path(), base),
            "atslegas-20260528-202640Z-3.zip"
        );
        // A .partial, or a .sha256 alone, takes its name too; other seconds do not count.
        touch("atslegas-20260528-202640Z-7.zip.partial");
        touch("atslegas-20260528-202640Z-9.zip.sha256");
        touch("atslegas-20260528-202641Z-20.zip");
        assert_eq!(
            free_name(dir.path(), base),
            "atslegas-20260528-202640Z-10.zip"
        );
        let pinned = "atslegas-safety-20260528-202640Z-pinned.zip";
        touch(pinned);
        assert_eq!(
            free_name(dir.path(), pinned),
            "atslegas-safety-20260528-202640Z-pinned-2.zip"
        );
    }
}
