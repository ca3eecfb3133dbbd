#!/usr/bin/env bash
# Builds the release bundles of Atslegas for the system it runs on and writes them to
# dist/: on Linux a .deb and an .rpm (AppImage with --bundles appimage, which needs tools
# from outside the package registries), on Windows an MSI, an NSIS installer and the
# portable .zip, on macOS a .app and a .dmg. Every bundle holds both programs: the window
# `atslegas` and the command-line tool `atslegas-cli` (a Tauri "external binary").
#   bash scripts/package.sh [--target TRIPLE] [--bundles LIST]
#     --target   a Rust target triple; universal-apple-darwin builds Intel + Apple silicon
#     --bundles  Tauri bundle names, comma-separated (default: the system's usual ones)
# The Tauri CLI is pinned (TAURI_CLI_VERSION) and installed from npm into target/tools.
set -euo pipefail
cd "$(dirname "$0")/.."
TAURI_CLI_VERSION=2.12.6
# SPEC §8: the Linux .deb is at most 10 MB.
DEB_LIMIT_BYTES=$((10 * 1000 * 1000))

target=""
bundles=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=$2; shift 2 ;;
    --bundles) bundles=$2; shift 2 ;;
    *) echo "package.sh: unknown argument '$1' (use --target TRIPLE, --bundles LIST)" >&2; exit 2 ;;
  esac
done

os=$(uname -s)
case "$os" in
  Linux)
    source scripts/deps.sh
    need_pkgs "${BUILD_PKGS[@]}"
    ensure_rust
    ensure_npm
    exe=""
    [ -n "$bundles" ] || bundles="deb,rpm"
    ;;
  Darwin) exe=""; [ -n "$bundles" ] || bundles="app,dmg" ;;
  MINGW* | MSYS* | CYGWIN*) exe=".exe"; [ -n "$bundles" ] || bundles="msi,nsis" ;;
  *) echo "package.sh: no bundles for $os" >&2; exit 2 ;;
esac

host=$(rustc -vV | sed -n 's/^host: //p')
triple=${target:-$host}
# The one version, from [workspace.package] in Cargo.toml (every crate and tauri.conf.json
# take it from there).
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
echo "==> Atslegas $version for $triple: $bundles"

echo "==> Tauri CLI $TAURI_CLI_VERSION"
tools=target/tools/tauri-cli-$TAURI_CLI_VERSION
if [ ! -x "$tools/node_modules/.bin/tauri" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error "@tauri-apps/cli@$TAURI_CLI_VERSION"
fi
tauri="$PWD/$tools/node_modules/.bin/tauri"

# The command-line tool goes into every bundle beside the window, under the name Tauri
# expects for an external binary: binaries/atslegas-cli-TRIPLE[.exe].
echo "==> atslegas-cli (release)"
mkdir -p src-tauri/binaries
if [ "$triple" = universal-apple-darwin ]; then
  for t in aarch64-apple-darwin x86_64-apple-darwin; do
    cargo build --release --locked -p atslegas-cli --target "$t"
  done
  lipo -create -output src-tauri/binaries/atslegas-cli-universal-apple-darwin \
    target/aarch64-apple-darwin/release/atslegas-cli target/x86_64-apple-darwin/release/atslegas-cli
else
  if [ -n "$target" ]; then
    cargo build --release --locked -p atslegas-cli --target "$target"
    cli_built=target/$target/release/atslegas-cli$exe
  else
    cargo build --release --locked -p atslegas-cli
    cli_built=target/release/atslegas-cli$exe
  fi
  cp "$cli_built" "src-tauri/binaries/atslegas-cli-$triple$exe"
fi

echo "==> The window and its bundles (tauri build)"
args=(build --ci --config tauri.bundle.conf.json --bundles "$bundles")
[ -z "$target" ] || args+=(--target "$target")
(cd src-tauri && "$tauri" "${args[@]}")

if [ -n "$target" ]; then out=target/$target/release; else out=target/release; fi
rm -rf dist
mkdir -p dist
find "$out/bundle" -maxdepth 2 -type f \( -name '*.deb' -o -name '*.rpm' -o -name '*.AppImage' \
  -o -name '*.msi' -o -name '*-setup.exe' -o -name '*.dmg' \) -exec cp {} dist/ \;
if [ -d "$out/bundle/macos" ]; then
  (cd "$out/bundle/macos" && tar czf "$OLDPWD/dist/Atslegas-$version-$triple.app.tar.gz" Atslegas.app)
fi

# Windows: the portable .zip for a USB stick. A config.json next to the programs is
# what puts them in portable mode (core::config::Paths::resolve); it is made by the
# CLI itself, so it holds exactly this version's defaults.
if [ -n "$exe" ]; then
  echo "==> Portable .zip"
  stage=$(mktemp -d)
  mkdir -p "$stage/Atslegas"
  cp "$out/atslegas.exe" "src-tauri/binaries/atslegas-cli-$triple.exe" "$stage/Atslegas/"
  mv "$stage/Atslegas/atslegas-cli-$triple.exe" "$stage/Atslegas/atslegas-cli.exe"
  "$stage/Atslegas/atslegas-cli.exe" --data-dir "$stage/defaults" status >/dev/null
  cp "$stage/defaults/config.json" "$stage/Atslegas/config.json"
  arch=${triple%%-*}; [ "$arch" = x86_64 ] && arch=x64
  zip_name="atslegas-portable-$version-$arch.zip"
  (cd "$stage" && 7z a -tzip "$zip_name" Atslegas >/dev/null)
  mv "$stage/$zip_name" dist/
  rm -rf "$stage"
fi

# Tauri CLI $TAURI_CLI_VERSION writes the .deb's files with gzip and has no setting for it.
# The same files, modes and control data repacked with xz (read by every dpkg since
# Debian 6) take about a third less: 9,991,934 -> 6,503,060 bytes on 2026-12-07
# (docs/BENCHMARK.md, "The Linux package"). Where dpkg-deb is missing, Tauri's stays.
if command -v dpkg-deb >/dev/null; then
  for deb in dist/*.deb; do
    [ -e "$deb" ] || continue
    echo "==> $(basename "$deb"): repacked with xz"
    tree=$(mktemp -d)
    dpkg-deb -R "$deb" "$tree/pkg"
    dpkg-deb --root-owner-group -Zxz -b "$tree/pkg" "$deb" >/dev/null
    rm -rf "$tree"
  done
fi

echo "==> dist/"
ls -l dist/
for deb in dist/*.deb; do
  [ -e "$deb" ] || continue
  size=$(stat -c %s "$deb")
  if [ "$size" -gt "$DEB_LIMIT_BYTES" ]; then
    echo "!! $deb is $size bytes, over the 10 MB of SPEC §8" >&2
    exit 1
  fi
  echo "==> $(basename "$deb"): $size bytes (limit $DEB_LIMIT_BYTES)"
done
