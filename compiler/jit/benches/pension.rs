//! Throughput of the JIT on a pension-adjustment-like rule, against the interpreter and the
//! same rule written by hand in Rust (`cargo bench -p pol-jit --bench pension`). Compute only:
//! columns are in memory and output buffers are reused.

#[path = "../tests/common/mod.rs"]
mod common;

use common::pension::{pension_by_hand, pension_program, pension_rows};
use pol_core::interp::InterpKernel;
use pol_jit::JitKernel;
use pol_kernel::Kernel;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn best_of<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn rate(rows: usize, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64() / 1e6
}

fn main() {
    let rows = std::env::var("POL_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000usize);
    let records = pension_rows(rows);
    let columns: Vec<Vec<i64>> = (0..3).map(|i| records.iter().map(|r| r[i]).collect()).collect();
    drop(records);
    let inputs: Vec<&[i64]> = columns.iter().map(|c| c.as_slice()).collect();
    let mut out = vec![0i64; rows];
    let mut status = vec![0u32; rows];

    let program = pension_program();
    let start = Instant::now();
    let jit = JitKernel::compile(&program).expect("the pension rule compiles");
    let compile = start.elapsed();

    let t_jit = best_of(5, || {
        let mut outs: Vec<&mut [i64]> = vec![out.as_mut_slice()];
        jit.eval_batch(black_box(&inputs), &mut outs, &mut status);
    });
    let jit_out = out.clone();

    let t_hand = best_of(5, || {
        let (p, m, a) = (black_box(&columns[0]), black_box(&columns[1]), black_box(&columns[2]));
        for i in 0..rows {
            out[i] = pension_by_hand(p[i], m[i], a[i]);
            status[i] = 0;
        }
    });
    assert_eq!(jit_out, out, "the JIT and the hand-written rule disagree");

    let interp = InterpKernel::new(program);
    let interp_rows = rows.min(1_000_000);
    let t_interp = best_of(3, || {
        let inputs: Vec<&[i64]> = columns.iter().map(|c| &c[..interp_rows]).collect();
        let mut outs: Vec<&mut [i64]> = vec![&mut out[..interp_rows]];
        interp.eval_batch(&inputs, &mut outs, &mut status[..interp_rows]);
    });
    assert_eq!(jit_out[..interp_rows], out[..interp_rows], "the JIT and the interpreter disagree");

    // Without declared domains every step needs its overflow check and 128-bit intermediates.
    let mut unbounded = interp.program().clone();
    unbounded.inputs.iter_mut().for_each(|i| i.domain = None);
    let jit_unbounded = JitKernel::compile(&unbounded).expect("the unbounded rule compiles");
    let t_unbounded = best_of(5, || {
        let mut outs: Vec<&mut [i64]> = vec![out.as_mut_slice()];
        jit_unbounded.eval_batch(black_box(&inputs), &mut outs, &mut status);
    });
    assert_eq!(jit_out, out, "the JIT without domains disagrees");

    let (jit_rate, hand_rate, interp_rate) = (rate(rows, t_jit), rate(rows, t_hand), rate(interp_rows, t_interp));
    println!("pension-adjustment rule, {rows} rows, one thread, compute only");
    println!("  compile          {:>8.2} ms", compile.as_secs_f64() * 1e3);
    println!("  jit              {jit_rate:>8.1} M rows/s");
    println!("  hand-written     {hand_rate:>8.1} M rows/s   (jit at {:.0} %)", 100.0 * jit_rate / hand_rate);
    println!("  interpreter      {interp_rate:>8.1} M rows/s   (jit {:.1}x faster)", jit_rate / interp_rate);
    println!("  jit, no domains  {:>8.1} M rows/s", rate(rows, t_unbounded));
}
