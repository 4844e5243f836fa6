//! A hand-written Rust version of the bundled benchmark rule (Guangdong 2024 pension
//! adjustment), written for speed as a performance engineer would: branch-free (masks), no per-row
//! allocation, i64 arithmetic. `pol bench` compares the JIT against it.

use pol_core::ir::Program;
use std::time::Instant;

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

/// Times the hand-written rule over the scheme's input columns, and returns its results too (for
/// a comparison with the JIT's); `None` when the program is not the bundled Guangdong scheme
/// (there is no hand-written version of other rules).
pub fn time(program: &Program, inputs: &[&[i64]], rows: usize) -> Option<(f64, Vec<i64>)> {
    if program.name != "guangdong_2024" {
        return None;
    }
    let col = |name: &str| program.inputs.iter().position(|i| i.name == name);
    let (c, p, k, a) = (col("contribution")?, col("monthly_pension")?, col("military_cadre")?, col("local_average_pension")?);
    let (months, pension, cadre, average) = (&inputs[c][..rows], &inputs[p][..rows], &inputs[k][..rows], &inputs[a][..rows]);
    // Written before the clock starts, as the JIT's output buffers are.
    let mut out = vec![-1i64; rows];
    let t = Instant::now();
    for ((((o, m), p), k), a) in out.iter_mut().zip(months).zip(pension).zip(cadre).zip(average) {
        *o = guangdong_2024(*m, *p, *k, *a);
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(&out);
    Some((secs, out))
}
