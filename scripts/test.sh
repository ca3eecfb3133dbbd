#!/usr/bin/env bash
# Installs what is missing and runs every test: formatting, lints (the page's JavaScript
# too, with tsc), unit and integration tests (core and the real atslegas-cli on real
# SQLite files), the end-to-end tests in the real window under Xvfb through WebDriver,
# the release workflow against its schema, and the Linux package: built, installed into
# a clean Debian 12 and run there.
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_pkgs "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
ensure_rust
rustup component add rustfmt clippy >/dev/null 2>&1 || true
ensure_tauri_driver
ensure_openpyxl
ensure_check_jsonschema
ensure_typescript

# One clean build: incremental caches would only add gigabytes to target/ here.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "==> Format and lints"
"$CHECK_JSONSCHEMA" --builtin-schema vendor.github-workflows .github/workflows/*.yml
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> Build (the app, and the CLI the integration tests run)"
cargo build --locked -p atslegas -p atslegas-cli

echo "==> Unit and integration tests"
cargo test --workspace --locked

# The tests marked #[ignore = "needs root: …"] mount a tmpfs or a loop volume. They run
# here, as their own step, when this script runs as root (CI does); otherwise the runner
# has listed them as ignored and this says so, so none passes without mounting.
if [ "$(id -u)" -eq 0 ]; then
  echo "==> Integration tests that need root (mounts)"
  cargo test -p atslegas-tests --locked -- --ignored
else
  echo "==> Skipped: the integration tests that need root (mounts); run as root: cargo test -p atslegas-tests -- --ignored"
fi

echo "==> UI checks without a window: the page's JavaScript against its JSDoc (tsc), catalogues, formats"
"$TSC" -p jsconfig.json
node --test tests/ui/*.test.mjs

echo "==> End-to-end tests in the real window (Xvfb + tauri-driver + WebKitWebDriver)"
rm -rf tests/e2e/screenshots
bash scripts/e2e.sh
echo "==> Screenshots: tests/e2e/screenshots/"

echo "==> The Linux package: bash scripts/package.sh, then installed into a clean Debian 12 and run there"
bash scripts/package.sh
$SUDO env PATH="$PATH" HOME="$HOME" bash tests/package/install.sh
