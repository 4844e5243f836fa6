//! Throughput figures for the runtime's report. Runs only when `POL_BENCH_ROWS` is set, e.g.
//! `POL_BENCH_ROWS=10000000 POL_BENCH_DIR=/tmp/polbench cargo test --release -p pol-runtime
//! --test throughput -- --nocapture`; otherwise it checks the harness on 2,000 rows.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use pol_runtime::{Kernel, RunOptions, generate, measure_io_floor, read_columns, run};

fn rate(rows: u64, d: Duration) -> String {
    let per_s = rows as u128 * 1_000_000 / d.as_micros().max(1);
    format!("{:>6.2}M rows/s ({} ms)", per_s as f64 / 1e6, d.as_millis())
}

#[test]
fn throughput() {
    let rows: u64 = std::env::var("POL_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let keep = std::env::var("POL_BENCH_DIR").ok().map(PathBuf::from);
    let temp = temp_dir();
    let dir = keep.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench dir");
    let kernel = AdjustKernel::new(1, 20);
    let sig = kernel.signature();
    for ext in ["parquet", "csv"] {
        if ext == "csv" && rows > 2_000_000 {
            continue;
        }
        let input = dir.join(format!("people_{rows}.{ext}"));
        let t = Instant::now();
        generate(&sig.inputs, rows, 1, &input).expect("generate");
        println!("[{ext}] generate      {}", rate(rows, t.elapsed()));
        let mem = read_columns(&sig.inputs, &input, 65_536).expect("read");
        println!("[{ext}] read_columns  {}", rate(mem.rows, mem.elapsed));
        let floor = measure_io_floor(sig, &input, &dir.join(format!("floor.{ext}")), 65_536).expect("floor");
        println!(
            "[{ext}] io floor      {}  (read {}, write {})",
            rate(floor.rows, floor.elapsed),
            rate(floor.rows, floor.read),
            rate(floor.rows, floor.write)
        );
        for threads in [1, 2] {
            let mut opts = RunOptions::new(&input, dir.join(format!("out.{ext}")));
            opts.threads = Some(threads);
            opts.max_errors = pol_runtime::ErrorLimit::Rows(u64::MAX);
            let s = run(&kernel, &opts).expect("run");
            assert_eq!(s.rows_in, rows);
            println!("[{ext}] run threads={threads} {}  ledger {}", rate(s.rows_in, s.elapsed), s.rows_in_ledger);
        }
    }
}
