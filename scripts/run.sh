#!/usr/bin/env bash
# Installs what is missing, builds Atslegas and opens its window.
#   bash scripts/run.sh [--data-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_pkgs "${BUILD_PKGS[@]}"
ensure_rust
cargo build --release -p atslegas -p atslegas-cli
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "==> No display found: starting the window inside Xvfb (virtual screen)."
  need_pkgs xvfb xauth
  exec xvfb-run -a -s "-screen 0 1280x800x24" ./target/release/atslegas "$@"
fi
exec ./target/release/atslegas "$@"
