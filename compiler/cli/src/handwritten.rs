//! A hand-written Rust version of the bundled benchmark rule (Guangdong 2024 pension
//! adjustment), written for speed as a performance engineer would: branch-free, no per-row
//! allocation, i64 arithmetic. `pol bench` compares the JIT against it.

use pol_core::ir::Program;
use std::time::Instant;

/// Guangdong 2024 (粤人社规〔2024〕12号): 30 yuan + 1.16% of the pension + 1 yuan per full year of
/// contribution + 1 more yuan per full year beyond 20, the years part at least 15 yuan; the
/// total rounded to the fen half away from zero. Money in fen.
#[inline(always)]
fn guangdong_2024(contribution_months: i64, pension_fen: i64, cadre: i64) -> i64 {
    let years = contribution_months / 12;
    let years_part = (years + (years - 20).max(0)) * 100;
    let years_part = years_part.max(1500);
    // 30 yuan + years part + pension × 1.16%, exact in units of 1/10000 fen, then rounded
    // (every term is non-negative, so half away from zero is + 5000 and truncation).
    let exact = (3000 + years_part) * 10_000 + pension_fen * 116;
    let base = (exact + 5_000) / 10_000;
    // 军转干部: topped up to the city average of 3800 yuan.
    let floor = if cadre != 0 { 380_000 - pension_fen } else { i64::MIN };
    base.max(floor)
}

/// Times the hand-written rule over the scheme's input columns; `None` when the program is not
/// the bundled Guangdong scheme (there is no hand-written version of other rules).
pub fn time(program: &Program, inputs: &[&[i64]], rows: usize) -> Option<f64> {
    if program.name != "guangdong_2024" {
        return None;
    }
    let col = |name: &str| program.inputs.iter().position(|i| i.name == name);
    let (c, p, k) = (col("contribution")?, col("monthly_pension")?, col("military_cadre")?);
    let (months, pension, cadre) = (&inputs[c][..rows], &inputs[p][..rows], &inputs[k][..rows]);
    let mut out = vec![0i64; rows];
    let t = Instant::now();
    for (((o, m), p), k) in out.iter_mut().zip(months).zip(pension).zip(cadre) {
        *o = guangdong_2024(*m, *p, *k);
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(&out);
    Some(secs)
}
