//! Differential test of the two engines over the real policies: for every rule in `policies/`
//! (a scheme's slots together; every rule of a plain rule file on its own) and random records in
//! the declared domains, the Cranelift JIT and the reference interpreter give the same output
//! cells and the same row statuses.

use pol_core::check::{Module, RuleId};
use pol_core::driver::{self, FileKind};
use pol_core::interp::InterpKernel;
use pol_core::lower;
use pol_core::span::SourceFile;
use pol_jit::JitKernel;
use pol_kernel::Kernel;
use std::path::{Path, PathBuf};

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

fn pol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "rejected") {
                continue;
            }
            pol_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "pol") {
            out.push(p);
        }
    }
}

/// Loads a file (a scheme with the framework it names, found under policies/).
fn load(path: &Path, all: &[PathBuf]) -> Option<(Vec<SourceFile>, Module)> {
    let src = SourceFile::new(path.display().to_string(), std::fs::read_to_string(path).ok()?);
    let checked = match driver::file_kind(&src.text) {
        FileKind::Scheme { implements, version, .. } => all.iter().find_map(|f| {
            let fsrc = SourceFile::new(f.display().to_string(), std::fs::read_to_string(f).ok()?);
            match driver::file_kind(&fsrc.text) {
                FileKind::Framework { name, version: v } if name == implements && version.as_ref().is_none_or(|w| *w == v) => {
                    Some(driver::check_scheme_structure(fsrc, src.clone()))
                }
                _ => None,
            }
        })?,
        FileKind::Framework { .. } => return None,
        FileKind::Plain => driver::check_file(src),
    };
    (!checked.has_errors()).then_some((checked.sources, checked.module))
}

/// A deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn in_range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (self.next() as u128 % span) as i128) as i64
    }
}

fn compare(program: pol_core::ir::Program, rows: usize, seed: u64) -> Result<(), String> {
    let jit = JitKernel::compile(&program).map_err(|e| format!("{}: JIT failed: {e}", program.name))?;
    let interp = InterpKernel::new(program.clone());
    let mut rng = Rng(seed);
    let inputs: Vec<Vec<i64>> = program
        .inputs
        .iter()
        .map(|i| {
            let (lo, hi) = match (&i.domain, &i.ty) {
                (Some(d), _) => *d,
                (None, pol_core::ir::ScalarTy::Bool) => (0, 1),
                (None, pol_core::ir::ScalarTy::Enum { variants, .. }) => (0, variants.len() as i64 - 1),
                (None, pol_core::ir::ScalarTy::Date) => (-25_000, 40_000),
                // Undeclared domains: plausible magnitudes, plus a few extreme values.
                (None, _) => (-1_000_000_000, 1_000_000_000),
            };
            (0..rows)
                .map(|r| if i.domain.is_none() && r % 97 == 0 { [i64::MAX, i64::MIN, 0][r % 3] } else { rng.in_range(lo, hi) })
                .collect()
        })
        .collect();
    let cols: Vec<&[i64]> = inputs.iter().map(|c| c.as_slice()).collect();
    let run = |k: &dyn Kernel| {
        let mut outs: Vec<Vec<i64>> = program.outputs.iter().map(|_| vec![0; rows]).collect();
        let mut status = vec![0u32; rows];
        let mut views: Vec<&mut [i64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
        k.eval_batch(&cols, &mut views, &mut status);
        (outs, status)
    };
    let (jo, js) = run(&jit);
    let (io, is) = run(&interp);
    for r in 0..rows {
        if js[r] != is[r] {
            return Err(format!("{}: row {r}: status jit {} vs interp {}", program.name, js[r], is[r]));
        }
        if is[r] == 0 {
            for (o, out) in program.outputs.iter().enumerate() {
                if jo[o][r] != io[o][r] {
                    return Err(format!("{}: row {r}: `{}` jit {} vs interp {}", program.name, out.name, jo[o][r], io[o][r]));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn jit_and_interpreter_agree_on_every_rule_in_policies() {
    let mut all = Vec::new();
    pol_files(&policies(), &mut all);
    let mut programs = 0;
    let mut failures = Vec::new();
    for (n, f) in all.iter().enumerate() {
        let Some((sources, m)) = load(f, &all) else { continue };
        let as_of = m.files.last().and_then(|fi| fi.effective).or(Some(20_454)); // 2026-01-01
        let main = m.main_file();
        let groups: Vec<Vec<RuleId>> = if pol_core::compliance::is_scheme(&m) {
            vec![m.slots.iter().filter_map(|s| m.lookup_rule(&s.name)).collect()]
        } else {
            (0..m.rules.len() as u32).map(RuleId).filter(|r| m.rule(*r).loc.file == main).map(|r| vec![r]).collect()
        };
        for rules in groups {
            if rules.is_empty() {
                continue;
            }
            // Rules whose parameters have no value at this date are not comparable here.
            let Ok(program) = lower::lower_program(&m, &sources, &m.rule(rules[0]).name, &rules, as_of) else { continue };
            programs += 1;
            if let Err(e) = compare(program, 2_000, 1 + n as u64) {
                failures.push(format!("{}: {e}", f.display()));
            }
        }
    }
    assert!(programs >= 1, "no program compared");
    assert!(failures.is_empty(), "engines disagree:\n{}", failures.join("\n"));
}
