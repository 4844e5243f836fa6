//! The bundled benchmark rule (Guangdong 2024 pension adjustment) written by hand in Rust, as a
//! performance engineer would: branch-free (masks), no per-row allocation, i64 arithmetic,
//! against the JIT on the same generated population. `cargo bench -p pol-cli --bench guangdong`.
//! It lives here, not in the `pol` binary: it is a yardstick for the compiler, not a feature.

use pol_core::driver;
use pol_core::span::SourceFile;
use pol_jit::JitKernel;
use pol_kernel::Kernel;
use std::path::Path;
use std::time::{Duration, Instant};

/// Guangdong 2024 (粤人社规〔2024〕12号): 30 yuan + 1.16% of the pension + 1 yuan per full year of
/// contribution + 1 more yuan per full year beyond 20, the years part at least 15 yuan; the
/// total rounded to the fen half away from zero. Money in fen.
#[inline(always)]
fn guangdong_2024(contribution_months: i64, pension_fen: i64, cadre: i64, local_average_fen: i64) -> i64 {
    // Branch-free: LLVM turns `max` and even `select_unpredictable` into branches here, which
    // mispredict on random data; a mask cannot become a branch.
    let max = |a: i64, b: i64| a ^ ((a ^ b) & -i64::from(a < b));
    // Every input is validated into its declared domain before a rule runs: months and pension
    // are non-negative, so the divisions by constants are unsigned (a multiply and a shift).
    let years = (contribution_months as u64 / 12) as i64;
    let years_part = max((years + max(years - 20, 0)) * 100, 1500);
    // 30 yuan + years part + pension × 1.16%, exact in units of 1/10000 fen, then rounded
    // (every term is non-negative, so half away from zero is + 5000 and truncation).
    let exact = (3000 + years_part) * 10_000 + pension_fen * 116;
    let base = ((exact + 5_000) as u64 / 10_000) as i64;
    // 军转干部: topped up to the local average enterprise pension.
    base ^ ((base ^ max(base, local_average_fen - pension_fen)) & -(cadre & 1))
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |p: &str| SourceFile::new(p, std::fs::read_to_string(root.join(p)).expect("policy file"));
    let checked = pol_core::on_compiler_stack(|| {
        driver::check_scheme(
            read("policies/national/pension_adjustment.pol"),
            read("policies/provinces/guangdong/pension_adjustment_2024.pol"),
            &pol_core::compliance::prove::Budget::default(),
        )
    });
    assert!(!checked.has_errors(), "{}", checked.render());
    let m = &checked.module;
    let rule = m.lookup_rule("pension_adjustment").expect("slot");
    let as_of = m.files.last().and_then(|f| f.effective);
    let program = pol_core::on_compiler_stack(|| pol_core::lower::lower_program(m, &checked.sources, "guangdong_2024", &[rule], as_of))
        .expect("lowers");
    let jit = JitKernel::compile(&program).expect("compiles");
    let rows = 2_000_000usize;
    let columns = pol_core::interp::signature(&program).inputs;
    let profile = std::fs::read_to_string(root.join("policies/national/profiles/retiree.toml")).expect("profile");
    let profile = pol_runtime::Profile::parse(&profile).expect("profile parses");
    let dir = std::env::temp_dir().join(format!("pol-bench-{}", std::process::id()));
    let file = dir.join("population.parquet");
    pol_runtime::generate_with_profile(&columns, rows as u64, 7, Some(&profile), &file).expect("population");
    let cols = pol_runtime::read_columns(&columns, &file, pol_runtime::DEFAULT_BATCH_ROWS).expect("reads");
    let _ = std::fs::remove_dir_all(&dir);
    let col = |name: &str| &cols.columns[program.inputs.iter().position(|i| i.name == name).expect("column")];
    let (months, pension, cadre, average) =
        (col("contribution"), col("monthly_pension"), col("military_cadre"), col("local_average_pension"));
    let inputs: Vec<&[i64]> = cols.columns.iter().map(Vec::as_slice).collect();
    let mut jit_out = vec![-1i64; rows];
    let mut status = vec![0u32; rows];
    let t_jit = best_of(5, || {
        let mut views: Vec<&mut [i64]> = vec![jit_out.as_mut_slice()];
        jit.eval_batch(&inputs, &mut views, &mut status);
    });
    let mut hand_out = vec![-1i64; rows];
    let t_hand = best_of(5, || {
        for (i, o) in hand_out.iter_mut().enumerate() {
            *o = guangdong_2024(months[i], pension[i], cadre[i], average[i]);
        }
        std::hint::black_box(&hand_out);
    });
    assert!(status.iter().all(|s| *s == 0), "rows failed in the JIT");
    assert_eq!(jit_out, hand_out, "the JIT and the hand-written rule disagree");
    let rate = |d: Duration| rows as f64 / d.as_secs_f64().max(1e-9) / 1e6;
    println!("guangdong_2024 over {rows} realistic rows, 1 thread, compute only (best of 5)");
    println!("  jit           {:>8.1} M rows/s", rate(t_jit));
    println!("  hand-written  {:>8.1} M rows/s   (jit at {:.0} % of it)", rate(t_hand), 100.0 * rate(t_jit) / rate(t_hand));
}
