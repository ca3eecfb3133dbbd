#!/usr/bin/env bash
# Runs the end-to-end tests (tests/e2e/*.test.mjs) one file at a time, in the real
# window under Xvfb, each file bounded in time, so that a hung window fails
# its own file instead of stalling the whole run. Every file runs even if one fails; the
# exit status is non-zero if any did. Expects the app and the CLI to be built.
#   bash scripts/e2e.sh [FILE...]
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# One virtual display for the whole run, owned (and cleaned up) by xvfb-run.
if [ -z "${ATSLEGAS_E2E_DISPLAY:-}" ]; then
  export ATSLEGAS_E2E_DISPLAY=1
  exec xvfb-run -a -s "-screen 0 1280x800x24" bash "$0" "$@"
fi
# The longest file takes about a minute here; ten is room for a slow machine, not a hang.
PER_FILE_SECONDS=${ATSLEGAS_E2E_FILE_SECONDS:-600}
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/e2e/*.test.mjs)
# Each file's registers, drives and exports go into a temporary folder of its own under
# target/, removed when the file passes and kept (until the next run) when it fails.
tmp_root="$PWD/target/e2e-tmp"
rm -rf "$tmp_root"
failed=()
for f in "${files[@]}"; do
  echo "==> $f"
  tmp="$tmp_root/$(basename "$f" .test.mjs)"
  mkdir -p "$tmp"
  TMPDIR="$tmp" timeout --kill-after=20 "$PER_FILE_SECONDS" node --test "$f"
  rc=$?
  if [ $rc -eq 0 ]; then rm -rf "$tmp"; else echo "!! $f left its files in $tmp"; fi
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "!! $f did not finish within ${PER_FILE_SECONDS} s and was stopped"
  fi
  [ $rc -eq 0 ] || failed+=("$f")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "!! End-to-end failures: ${failed[*]}"
  exit 1
fi
