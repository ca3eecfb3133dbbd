#!/usr/bin/env bash
# Runs the reference tools of docs/BENCHMARK.md beside atslegas-cli on the same register
# and prints each ratio (ours / reference, median wall clock) beside its target (issue 15):
#   verified backup  `backup create` (encrypted, the window's default; and plain) against
#                    sqlite3 DB ".backup x.db" + pigz -1 -p2 + sha256sum      at most 1.0x
#   restore          `backup restore ARCHIVE --force` (encrypted and plain) against
#                    unzip -p ARCHIVE database.db > x.db + sqlite3 new.db ".restore x.db"
#                                                                             at most 1.5x
#   key-log export   `export keylog` (CSV, every row) against sqlite3 -csv of the export's
#                    own query (core/src/export/keylog.rs)                    at most 1.0x
#
#   bash scripts/bench-references.sh DATA_DIR [--runs N] [--markdown] [--work DIR]
#
# DATA_DIR is a data folder made by `atslegas-cli init` and `atslegas-cli demo` (for the
# figures in docs/BENCHMARK.md: `demo --log-rows 6000000`, a database of about 1 GB).
# It is never changed (close the app and other commands on it: the copy is a plain
# cp -a of its files): everything runs on that copy, in a temporary folder under
# --work (default $TMPDIR, else /tmp), which also holds every output of both sides and is
# removed at the end. That folder needs about six times the database's size.
# Each figure runs ours and the reference alternately N times (default 3; the order
# swaps every round) and takes the median of each. Outputs are deleted between runs, so
# neither side reads a warm copy of its own output; the register itself is in the page
# cache for both sides (the copy puts it there), so these are warm-cache figures.
# --markdown prints the tables as Markdown, for docs/BENCHMARK.md.
# The dashboard's own figures are `atslegas-cli bench` (see docs/BENCHMARK.md).
# Needs sqlite3, pigz, unzip and sha256sum (it installs nothing: it names the Debian
# package and exits 2), and builds target/release/atslegas-cli with cargo first (a no-op
# when it is up to date; ATSLEGAS_CLI=/path/to/atslegas-cli measures that build instead). Exit codes: 0 measured (a missed target is in the table, not in
# the exit code); 1 a command failed (its output is printed); 2 wrong arguments or a
# missing tool.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

die_usage() {
  echo "bench-references: $1" >&2
  echo "usage: bash scripts/bench-references.sh DATA_DIR [--runs N] [--markdown] [--work DIR]" >&2
  exit 2
}

DATA_DIR=""
RUNS=3
MARKDOWN=0
WORK_PARENT="${TMPDIR:-/tmp}"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --runs)
      [ $# -ge 2 ] || die_usage "--runs needs a number"
      RUNS="$2"; shift 2 ;;
    --runs=*) RUNS="${1#--runs=}"; shift ;;
    --markdown) MARKDOWN=1; shift ;;
    --work)
      [ $# -ge 2 ] || die_usage "--work needs a folder"
      WORK_PARENT="$2"; shift 2 ;;
    --work=*) WORK_PARENT="${1#--work=}"; shift ;;
    -*) die_usage "unknown option $1" ;;
    *)
      [ -z "$DATA_DIR" ] || die_usage "one DATA_DIR only (got $DATA_DIR and $1)"
      DATA_DIR="$1"; shift ;;
  esac
done
[ -n "$DATA_DIR" ] || die_usage "DATA_DIR is missing"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die_usage "--runs takes a whole number of at least 1, not \"$RUNS\""
[ -f "$DATA_DIR/config.json" ] || die_usage "$DATA_DIR has no config.json: make it with atslegas-cli --data-dir DIR init, then demo"
[ -d "$WORK_PARENT" ] || die_usage "--work $WORK_PARENT is not a folder"

# The tools, by the Debian package that holds each. Nothing is installed from here.
declare -A PACKAGE=([sqlite3]=sqlite3 [pigz]=pigz [unzip]=unzip [sha256sum]=coreutils [cargo]="cargo (or rustup: https://rustup.rs)")
missing=()
tools=(sqlite3 pigz unzip sha256sum)
[ -n "${ATSLEGAS_CLI:-}" ] || tools+=(cargo)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  for tool in "${missing[@]}"; do
    echo "bench-references: $tool is missing: install the Debian package ${PACKAGE[$tool]}" >&2
  done
  pkgs=()
  for tool in "${missing[@]}"; do [ "$tool" = cargo ] || pkgs+=("${PACKAGE[$tool]}"); done
  [ ${#pkgs[@]} -eq 0 ] || echo "  sudo apt-get install -y ${pkgs[*]}" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
if [ -n "${ATSLEGAS_CLI:-}" ]; then
  CLI="$(realpath "$ATSLEGAS_CLI")"
else
  echo "==> cargo build --release --locked -p atslegas-cli" >&2
  cargo build --release --locked -p atslegas-cli >&2
  CLI="$PWD/target/release/atslegas-cli"
fi

WORK="$(mktemp -d "$WORK_PARENT/atslegas-bench-refs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
COPY="$WORK/data"        # the copy of DATA_DIR every command of ours runs on
OURS="$WORK/ours"        # our outputs: backups, the CSV
REF="$WORK/ref"          # the reference's outputs, on the same file system
KEEP="$WORK/archives"    # the backups the restore figures restore
LOG="$WORK/log"
mkdir -p "$OURS" "$REF" "$KEEP"

echo "==> Copying $DATA_DIR (never changed) to $COPY" >&2
cp -a "$DATA_DIR" "$COPY"
# The original's safety backups are not part of what is measured.
rm -rf "$COPY/safety-backups"
DB="$(sed -n 's/^ *"database": *"\(.*\)",\{0,1\}$/\1/p' < <("$CLI" --data-dir "$COPY" --json status) | head -1)"
[ -f "$DB" ] || { echo "bench-references: could not find the database of $COPY (status says \"$DB\")" >&2; exit 1; }
DB_BYTES="$(stat -c %s "$DB")"
# At most: the copy, its WAL during a restore, the kept archives, the restore's new
# database and the safety backup beside it.
need=$((DB_BYTES * 6 / 1024))
have="$(df -Pk "$WORK" | awk 'NR==2 {print $4}')"
[ "$have" -ge "$need" ] || { echo "bench-references: $WORK_PARENT has $((have / 1024)) MiB free; this needs about $((need / 1024)) MiB" >&2; exit 1; }

# A backup passphrase for the encrypted figures (the window encrypts by default and
# generates one; a given one costs the same and lets the restore open the archive).
PASSPHRASE="bench-references correct horse battery staple"
# Every row, as `export keylog --start 0 --end 4102444800` asks for: the export's own
# query, with the filter its where_sql builds (core/src/keylog.rs).
KEYLOG_SQL="SELECT l.id, l.action, k.number, l.at, l.actor, l.comment, p.full_name, p.code, l.due_back_at
    FROM key_log l JOIN keys k ON k.id = l.key_id LEFT JOIN persons p ON p.id = l.person_id WHERE 1=1 AND l.at >= 0 AND l.at < 4102444800 ORDER BY l.at, l.id"

# --- one side, timed -------------------------------------------------------------------

# Runs "$@" with its output in $LOG and sets ELAPSED_US to its wall time in microseconds.
# A failure prints the output and stops the script.
ELAPSED_US=0
timed() {
  local t0 t1
  t0="${EPOCHREALTIME/./}"
  if ! "$@" >"$LOG" 2>&1; then
    echo "bench-references: this failed: $*" >&2
    cat "$LOG" >&2
    exit 1
  fi
  t1="${EPOCHREALTIME/./}"
  ELAPSED_US=$((t1 - t0))
}

clean_outputs() { rm -rf "${OURS:?}"/* "${REF:?}"/* "$COPY/safety-backups"; }

# Only the encrypted runs get a passphrase: one set in the caller's environment would
# make a plain backup's restore refuse it.
unset ATSLEGAS_BACKUP_PASSPHRASE
ours_backup_encrypted() {
  ATSLEGAS_BACKUP_PASSPHRASE="$PASSPHRASE" "$CLI" --data-dir "$COPY" backup create --to "$OURS" --encrypt
}
ours_backup_plain() { "$CLI" --data-dir "$COPY" backup create --to "$OURS"; }
ref_backup() {
  sqlite3 "$DB" ".backup '$REF/x.db'" && pigz -1 -p2 "$REF/x.db" && sha256sum "$REF/x.db.gz"
}
ours_restore_encrypted() {
  ATSLEGAS_BACKUP_PASSPHRASE="$PASSPHRASE" "$CLI" --data-dir "$COPY" backup restore "$ENC_ARCHIVE" --force
}
ours_restore_plain() {
  "$CLI" --data-dir "$COPY" backup restore "$PLAIN_ARCHIVE" --force
}
ref_restore() {
  unzip -p "$PLAIN_ARCHIVE" database.db >"$REF/x.db" && sqlite3 "$REF/new.db" ".restore '$REF/x.db'"
}
ours_export() { "$CLI" --data-dir "$COPY" export keylog --start 0 --end 4102444800 --out "$OURS/keylog.csv"; }
ref_export() { sqlite3 -csv "$DB" "$KEYLOG_SQL" >"$REF/keylog.csv"; }

# --- a figure: both sides, alternately -------------------------------------------------

seconds() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1e6 }'; }
median_us() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

ROWS=()
# figure NAME TARGET OURS_FN REF_FN [AFTER_OURS_FN]
figure() {
  local name="$1" target="$2" ours="$3" ref="$4" after="${5:-}" i side o=() r=()
  for ((i = 1; i <= RUNS; i++)); do
    # Odd rounds run ours first, even rounds the reference, so neither always goes first.
    local order=("$ours" "$ref")
    ((i % 2)) || order=("$ref" "$ours")
    for side in "${order[@]}"; do
      clean_outputs
      timed "$side"
      if [ "$side" = "$ours" ]; then
        o+=("$ELAPSED_US")
        [ -z "$after" ] || "$after"
      else
        r+=("$ELAPSED_US")
      fi
    done
    echo "    $name, run $i/$RUNS: ours $(seconds "${o[-1]}") s, reference $(seconds "${r[-1]}") s" >&2
  done
  clean_outputs
  local om rm_
  om="$(median_us "${o[@]}")"
  rm_="$(median_us "${r[@]}")"
  ROWS+=("$(awk -v n="$name" -v o="$om" -v r="$rm_" -v t="$target" 'BEGIN {
    ratio = o / r; printf "%s\t%.2f\t%.2f\t%.2f\t%.1f\t%s", n, o / 1e6, r / 1e6, ratio, t, (ratio <= t) ? "yes" : "no" }')")
}

# Keeps the backup ours just wrote (with its .sha256: restore checks it) for the restores.
keep_as() { rm -rf "${KEEP:?}/$1"; mkdir -p "$KEEP/$1"; mv "$OURS"/* "$KEEP/$1/"; }
keep_encrypted() { keep_as encrypted; }
keep_plain() { keep_as plain; }
# The one archive kept in folder $1.
archive_in() {
  local f
  for f in "$1"/*.zip; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
  echo "bench-references: no backup archive in $1" >&2
  exit 1
}

# --- the machine, and the run -----------------------------------------------------------

CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
KEYLOG_ROWS="$(sqlite3 "$DB" 'SELECT count(*) FROM key_log')"

echo "==> Measuring, $RUNS runs each" >&2
figure "verified backup, encrypted (the window's default)" 1.0 ours_backup_encrypted ref_backup keep_encrypted
figure "verified backup, not encrypted" 1.0 ours_backup_plain ref_backup keep_plain
ENC_ARCHIVE="$(archive_in "$KEEP/encrypted")"
PLAIN_ARCHIVE="$(archive_in "$KEEP/plain")"
figure "key-log CSV export" 1.0 ours_export ref_export
figure "restore, encrypted backup" 1.5 ours_restore_encrypted ref_restore
figure "restore, backup not encrypted" 1.5 ours_restore_plain ref_restore

LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
ARCHIVE_BYTES="$(stat -c %s "$PLAIN_ARCHIVE")"

MACHINE=(
  "date	$STARTED"
  "CPU	$(nproc) cores: $CPU"
  "load average (1, 5, 15 min)	$LOAD_BEFORE before, $LOAD_AFTER after"
  "sqlite3	$(sqlite3 --version | cut -d' ' -f1-2)"
  "pigz	$(pigz --version 2>&1 | head -1)"
  "atslegas-cli	$("$CLI" --version)"
  "database	$DB_BYTES bytes ($((DB_BYTES / 1048576)) MiB), $KEYLOG_ROWS key-log rows"
  "backup archive (not encrypted)	$ARCHIVE_BYTES bytes ($((ARCHIVE_BYTES / 1048576)) MiB)"
  "runs	$RUNS per side, median wall clock"
)

if [ "$MARKDOWN" = 1 ]; then
  echo "| | |"
  echo "| --- | --- |"
  for m in "${MACHINE[@]}"; do echo "| ${m%%	*} | ${m#*	} |"; done
  echo
  echo "| figure | ours (s) | reference (s) | ratio | target | met |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  for row in "${ROWS[@]}"; do
    IFS=$'\t' read -r n o r q t m <<<"$row"
    echo "| $n | $o | $r | ${q}× | ≤ ${t}× | $m |"
  done
else
  for m in "${MACHINE[@]}"; do printf '%-32s %s\n' "${m%%	*}" "${m#*	}"; done
  echo
  printf '%-50s %9s %14s %7s %7s %4s\n' figure "ours (s)" "reference (s)" ratio target met
  for row in "${ROWS[@]}"; do
    IFS=$'\t' read -r n o r q t m <<<"$row"
    printf '%-50s %9s %14s %6sx %6sx %4s\n' "$n" "$o" "$r" "$q" "$t" "$m"
  done
fi
