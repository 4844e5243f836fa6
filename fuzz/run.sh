#!/usr/bin/env bash
# Builds the fuzz target with libFuzzer's coverage instrumentation (as cargo-fuzz does, without
# a sanitizer, on the stable toolchain) and fuzzes the pipeline for $1 runs (default 20000) from a
# fixed seed, so the same commit always tries the same inputs (more runs or another seed: $2).
set -euo pipefail
cd "$(dirname "$0")"
runs="${1:-20000}"
seed="${2:-1}"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the instrumentation out of build scripts and proc macros.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --locked --target "$host" --bin pipeline
mkdir -p target/findings
# A copy of the kept corpus is fuzzed, so a run does not change the repository.
work=$(mktemp -d)
cp corpus/pipeline/* "$work/"
"./target/$host/release/pipeline" "$work" -runs="$runs" -seed="$seed" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -artifact_prefix=target/findings/ -print_final_stats=1
rm -rf "$work"
