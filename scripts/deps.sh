#!/usr/bin/env bash
# Installs what building, running and testing Atslegas needs on Debian/Ubuntu, skipping
# what is already there. Sourced by run.sh and test.sh; safe to run again.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_pkgs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> Installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Building the window (WebKitGTK) and the bundled SQLite.
BUILD_PKGS=(build-essential pkg-config curl ca-certificates libwebkit2gtk-4.1-dev libssl-dev)
# Running it without a display, and driving it end to end.
# python3-xlib: the end-to-end tests click the window's close button through X11
# (tests/e2e/close_window.py, run by Debian's /usr/bin/python3).
# dbus-daemon: a private session bus for the one-window-per-register test.
# poppler-utils: pdftotext, the independent reader the receipt PDF tests read text back with.
TEST_PKGS=(xvfb xauth webkit2gtk-driver nodejs sqlite3 7zip unzip python3 python3-xlib dbus-daemon poppler-utils)

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
      export PATH="$HOME/.cargo/bin:$PATH"
    else
      echo "==> Rust is missing: installing it with rustup (https://rustup.rs)"
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
      export PATH="$HOME/.cargo/bin:$PATH"
    fi
  fi
}

ensure_tauri_driver() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "==> Installing tauri-driver 2.1.0 (WebDriver bridge for the end-to-end tests)"
    cargo install tauri-driver --version 2.1.0 --locked --quiet
  fi
}

# Python's csv module and openpyxl: the independent readers the export tests open CSV
# and XLSX files with. Debian's package first; pip only for a python3 that is not
# Debian's (pyenv and the like), which does not see Debian's packages.
ensure_openpyxl() {
  if command -v python3 >/dev/null 2>&1 && python3 -c "import openpyxl" >/dev/null 2>&1; then return; fi
  need_pkgs python3 python3-openpyxl
  if ! python3 -c "import openpyxl" >/dev/null 2>&1; then
    echo "==> Installing openpyxl with pip for $(command -v python3)"
    python3 -m pip install --quiet openpyxl
  fi
}

# npm, for the pinned Tauri CLI of scripts/package.sh. Debian's nodejs comes without it;
# a Node.js from elsewhere (NodeSource) carries its own, which Debian's npm would clash with.
ensure_npm() {
  command -v npm >/dev/null 2>&1 || need_pkgs npm
}

# TypeScript, the page's lint: `tsc -p jsconfig.json` checks the JavaScript in ui/ against
# its JSDoc and the DOM types. Pinned, from npm into target/tools (as package.sh does with
# the Tauri CLI); 5.x runs on Debian 12's Node.js 18.
TYPESCRIPT_VERSION=5.9.3
ensure_typescript() {
  local tools=target/tools/typescript-$TYPESCRIPT_VERSION
  if [ ! -x "$tools/node_modules/.bin/tsc" ]; then
    ensure_npm
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error "typescript@$TYPESCRIPT_VERSION"
  fi
  TSC="$PWD/$tools/node_modules/.bin/tsc"
}

# check-jsonschema (PyPI) in its own virtual environment under target/tools: it validates
# .github/workflows/*.yml against the published workflow schema, offline.
ensure_check_jsonschema() {
  local venv=target/tools/check-jsonschema
  if [ ! -x "$venv/bin/check-jsonschema" ]; then
    need_pkgs python3-venv
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==0.39.0"
  fi
  CHECK_JSONSCHEMA="$PWD/$venv/bin/check-jsonschema"
}
