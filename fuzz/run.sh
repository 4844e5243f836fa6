#!/usr/bin/env bash
# Builds the fuzz target with libFuzzer's coverage instrumentation (as cargo-fuzz does, without
# a sanitizer, on the stable toolchain) and fuzzes the pipeline for $1 seconds (default 60).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --release --locked --bin pipeline
mkdir -p target/findings
# A copy of the kept corpus is fuzzed, so a run does not change the repository.
work=$(mktemp -d)
cp corpus/pipeline/* "$work/"
./target/release/pipeline "$work" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -artifact_prefix=target/findings/ -print_final_stats=1
rm -rf "$work"
