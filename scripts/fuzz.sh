#!/usr/bin/env bash
# Fuzzes what reads untrusted files: the backup archive reader, the backup manifest
# parser, the configuration parser, and the CSV and JSON bulk importers (cargo-fuzz targets in fuzz/). Each target
# runs for SECONDS (default 60); exits non-zero when any target crashes (the input that
# did it is in fuzz/artifacts/TARGET/). Not part of scripts/test.sh: it takes minutes.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets: archive_reader manifest_parser config_parser import_csv import_json (default:
# all five).
# The corpus starts from fuzz/seeds/ (text) and from real backups the CLI makes here;
# what the fuzzer finds is kept in fuzz/corpus/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(archive_reader manifest_parser config_parser import_csv import_json)

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
# cargo-fuzz needs nightly's -Z flags (the sanitizer). Use nightly when it is installed;
# a stable toolchain accepts them with RUSTC_BOOTSTRAP=1.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

# The targets write their scratch files under TMPDIR; keep them in one folder we remove.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/atslegas-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"

wants() { [[ " ${targets[*]} " == *" $1 "* ]]; }

echo "==> Seed corpora"
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    if [ -d "fuzz/seeds/$t" ]; then cp fuzz/seeds/"$t"/* "fuzz/corpus/$t/"; fi
done
# The same CSV files with the BOM Excel writes.
if wants import_csv; then
    for f in fuzz/seeds/import_csv/*.csv; do
        { printf '\xef\xbb\xbf'; cat "$f"; } >"fuzz/corpus/import_csv/bom-$(basename "$f")"
    done
fi
# Real backups (full, encrypted, database only, config only) made with the CLI.
if wants archive_reader || wants manifest_parser; then
    cargo build --quiet --locked -p atslegas-cli
    cli="${CARGO_TARGET_DIR:-$root/target}/debug/atslegas-cli"
    data="$scratch/seed-data"
    run() { "$cli" --data-dir "$data" "$@" >/dev/null; }
    printf 'root fuzz password 1\n' | run init --root-password-stdin
    run person add --name "Jānis Bērziņš" --code E-1 --badge B-1
    run key add 101 --name "Room 101"
    run group add Staff --description everyone
    run group member Staff E-1
    run group allow Staff 101
    run issue 101 --to E-1
    n=0
    for args in "" "--encrypt" "--type database" "--type config"; do
        n=$((n + 1))
        mkdir -p "$scratch/seed-backups/$n"
        # The passphrase the archive_reader target tries (atslegas_fuzz::SEED_PASSPHRASE).
        # shellcheck disable=SC2086 # the arguments are meant to split
        ATSLEGAS_BACKUP_PASSPHRASE="fuzz seed passphrase 2024" \
            run backup create --to "$scratch/seed-backups/$n" --reason "fuzz seed" $args
    done
    for z in "$scratch"/seed-backups/*/*.zip; do
        n=$(basename "$(dirname "$z")")
        if wants archive_reader; then cp "$z" "fuzz/corpus/archive_reader/cli-$n.zip"; fi
        # An encrypted backup's entries (its manifest too) are WinZip AES, which unzip
        # cannot read: those seeds come only from the plain backups.
        if wants manifest_parser; then
            unzip -p "$z" manifest.json >"fuzz/corpus/manifest_parser/cli-$n.json" 2>/dev/null ||
                rm -f "fuzz/corpus/manifest_parser/cli-$n.json"
        fi
        if wants config_parser; then
            mkdir -p fuzz/corpus/config_parser
            unzip -p "$z" config.json >"fuzz/corpus/config_parser/cli-$n.json" 2>/dev/null ||
                rm -f "fuzz/corpus/config_parser/cli-$n.json"
        fi
    done
fi

echo "==> Build (${fuzz[*]}, into fuzz/target)"
"${fuzz[@]}" build

failed=()
for t in "${targets[@]}"; do
    echo "==> $t for ${secs}s"
    if ! "${fuzz[@]}" run "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        2>"$scratch/$t.log"; then
        failed+=("$t")
        grep -E -A2 'panicked at|ERROR: |SUMMARY: |Test unit written' "$scratch/$t.log" | head -n 40
    fi
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+.*DONE' "$scratch/$t.log" || true
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "FUZZING FOUND CRASHES in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "==> No crash in ${targets[*]} (${secs}s each)"
