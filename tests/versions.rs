//! One version everywhere (issue: upgrades keep every record): the workspace's
//! `[workspace.package] version` is what `atslegas-cli --version`, the core, backup
//! manifests and "Export all" manifests say, and the window's bundle takes it from Cargo
//! (tauri.conf.json has no version of its own to drift).
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::path::Path;

use atslegas_tests::{stdout, Cli};
use backup_common::*;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The `version = "..."` of `[workspace.package]` in the root Cargo.toml.
fn workspace_version() -> String {
    let text = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let section = text
        .split("[workspace.package]")
        .nth(1)
        .expect("a [workspace.package] table");
    section
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("a version in [workspace.package]")
        .to_string()
}

#[test]
fn every_crate_and_the_window_bundle_take_the_workspace_version() {
    let version = workspace_version();
    assert_eq!(atslegas_core::db::APP_VERSION, version);
    for krate in ["core", "cli", "src-tauri", "tests"] {
        let toml =
            std::fs::read_to_string(workspace_root().join(krate).join("Cargo.toml")).unwrap();
        assert!(
            toml.contains("version.workspace = true"),
            "{krate}/Cargo.toml must take the workspace version"
        );
    }
    let conf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("src-tauri/tauri.conf.json")).unwrap(),
    )
    .unwrap();
    assert!(
        conf.get("version").is_none(),
        "tauri.conf.json must not carry a version: Tauri then takes the crate's"
    );
}

#[test]
fn the_cli_a_backup_and_an_export_all_say_the_workspace_version() {
    let version = workspace_version();
    let cli = Cli::initialised();
    let out = cli.run_ok(&["--version"]);
    assert_eq!(stdout(&out).trim(), format!("atslegas-cli {version}"));

    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create(&cli, dest.path(), &[]);
    assert_eq!(manifest(&archive)["app_version"], version.as_str());

    let export = dest.path().join("all.zip");
    cli.run_ok(&["export", "all", "--out", s(&export)]);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&export).unwrap()).unwrap();
    let m: serde_json::Value =
        serde_json::from_reader(zip.by_name("manifest.json").unwrap()).unwrap();
    assert_eq!(m["app_version"], version.as_str());
}
