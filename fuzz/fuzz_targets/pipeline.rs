//! Any text through parse → check → tests → lower → the interpreter and the JIT: nothing may
//! panic, overflow the stack or hang, and the two engines must agree on every row they run.
//! Run with `cargo fuzz run pipeline` or as `.ci/run` does (see fuzz/README.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pol_core::driver;
use pol_core::interp::InterpKernel;
use pol_core::span::SourceFile;
use pol_core::{lower, testing};
use pol_jit::JitKernel;
use pol_kernel::Kernel;

fuzz_target!(|data: &[u8]| {
    // Bounded cost per case: the parser's own limits bound the depth; the size is bounded here.
    if data.len() > 64 * 1024 {
        return;
    }
    let text = String::from_utf8_lossy(data).into_owned();
    pol_core::on_compiler_stack(move || pipeline(text));
});

fn pipeline(text: String) {
    let checked = driver::check_file(SourceFile::new("fuzz.pol", text));
    let _ = checked.render();
    if checked.has_errors() {
        return;
    }
    let m = &checked.module;
    let as_of = m.files.last().and_then(|f| f.effective);
    let _ = testing::run_tests(m, &checked.sources, as_of);
    for (i, rule) in m.rules.iter().enumerate().take(8) {
        let id = pol_core::check::RuleId(i as u32);
        let Ok(program) = lower::lower_program(m, &checked.sources, &rule.name, &[id], as_of) else { continue };
        let Ok(jit) = JitKernel::compile(&program) else { panic!("the JIT refused a program the compiler lowered") };
        let interp = InterpKernel::new(program.clone());
        // Three rows per input: the bottom, the top and the middle of its domain (or of a
        // plausible range).
        let columns: Vec<Vec<i64>> = program
            .inputs
            .iter()
            .map(|input| {
                let (lo, hi) = input.domain.unwrap_or((-1_000_000, 1_000_000));
                vec![lo, hi, lo / 2 + hi / 2]
            })
            .collect();
        let cols: Vec<&[i64]> = columns.iter().map(Vec::as_slice).collect();
        let rows = 3;
        let run = |k: &dyn Kernel| {
            let mut outs: Vec<Vec<i64>> = program.outputs.iter().map(|_| vec![0; rows]).collect();
            let mut status = vec![0u32; rows];
            let mut views: Vec<&mut [i64]> = outs.iter_mut().map(Vec::as_mut_slice).collect();
            k.eval_batch(&cols, &mut views, &mut status);
            (outs, status)
        };
        let (jo, js) = run(&jit);
        let (io, is) = run(&interp);
        assert_eq!(js, is, "row statuses differ between the JIT and the interpreter");
        for r in 0..rows {
            if is[r] == 0 {
                for o in 0..program.outputs.len() {
                    assert_eq!(jo[o][r], io[o][r], "the JIT and the interpreter disagree");
                }
            }
        }
    }
}
