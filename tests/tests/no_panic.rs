//! Fuzzing the front end: random token soup and mutations of real files (the language fixtures
//! and every policy under `policies/`) go through parse, check and, when the text checks clean,
//! the test runner; mutations of a scheme also go through compliance against its framework.
//! Nothing may panic; errors must come back as diagnostics.

use pol_core::compliance::prove;
use pol_core::span::SourceFile;
use pol_core::{driver, testing};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn pol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            pol_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "pol") {
            out.push(p);
        }
    }
}

/// Every `.pol` file of the language fixtures and of `policies/`, in a fixed order.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        pol_files(&root.join("language"), &mut files);
        pol_files(&root.join("../policies"), &mut files);
        files.sort();
        let texts: Vec<String> = files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
        assert!(texts.len() >= 10, "the fuzz corpus is too small ({} files)", texts.len());
        texts
    })
}

/// The whole pipeline a user's text can reach without a framework.
fn run(text: &str) {
    let src = SourceFile::new("fuzz.pol", text);
    let checked = driver::check_file(src.clone());
    for d in checked.main_diagnostics() {
        let _ = src.line_col(d.primary.span.start);
        let _ = src.slice(d.primary.span);
    }
    let _ = checked.render();
    if !checked.has_errors() {
        let as_of = checked.module.files.last().and_then(|f| f.effective);
        pol_core::on_compiler_stack(|| testing::run_tests(&checked.module, std::slice::from_ref(&src), as_of));
    }
}

/// The national pension-adjustment framework (checked) and the Guangdong 2024 scheme text.
fn guangdong() -> &'static (SourceFile, String) {
    static PAIR: OnceLock<(SourceFile, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let fw_text = std::fs::read_to_string(root.join("national/pension_adjustment.pol")).expect("framework");
        let scheme = std::fs::read_to_string(root.join("provinces/guangdong/pension_adjustment_2024.pol")).expect("scheme");
        let fw = SourceFile::new("pension_adjustment.pol", fw_text);
        assert!(!driver::check_file(fw.clone()).has_errors(), "the framework has errors");
        (fw, scheme)
    })
}

/// A scheme checked against its framework as `pol check` does (compliance included), then
/// tested when it is compliant.
fn run_scheme(fw: &SourceFile, text: &str) {
    // A small solver budget: every stage runs (the solver included) and the thousands of
    // cases stay fast; what is looked for here is a panic, not a proof.
    let budget = prove::Budget::new(16, 200_000, 2_000_000);
    let checked = driver::check_scheme(fw.clone(), SourceFile::new("scheme.pol", text), &budget);
    let _ = checked.render();
    if !checked.has_errors() {
        let as_of = checked.module.files.last().and_then(|f| f.effective);
        pol_core::on_compiler_stack(|| testing::run_tests(&checked.module, &checked.sources, as_of));
    }
}

fn fuzz_cases() -> u32 {
    std::env::var("POL_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1200)
}

const TOKENS: &[&str] = &[
    "rule",
    "param",
    "local",
    "locked",
    "table",
    "record",
    "enum",
    "slot",
    "test",
    "let",
    "match",
    "brackets",
    "to",
    "above",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "true",
    "false",
    "cite",
    "from",
    "until",
    "as of",
    "require",
    "aggregate",
    "sum",
    "may use",
    "population",
    "framework",
    "scheme",
    "implements",
    "version",
    "effective",
    "in",
    "key",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    ";",
    ".",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=>",
    "->",
    "+",
    "-",
    "*",
    "/",
    "×",
    "÷",
    "..=",
    "..<",
    "%",
    "0",
    "1",
    "-1",
    "15",
    "0.5",
    "0.8684",
    "1.2%",
    "20 yuan",
    "3265.40 元",
    "0.005 yuan",
    "92233720368547758.07 yuan",
    "99999999999999999999999",
    "1 fen",
    "15 years",
    "6 months",
    "6 个月",
    "12 月",
    "2026-01-01",
    "2024-02-29",
    "2025-02-30",
    "0000-01-01",
    "yuan/month",
    "元/年",
    "Money",
    "Money/month",
    "Money/year",
    "Rate",
    "Decimal",
    "Int",
    "Bool",
    "Date",
    "Months",
    "x",
    "r",
    "r.monthly_pension",
    "基础养老金",
    "年限",
    "min",
    "max",
    "clamp",
    "round",
    "round_down",
    "round_up",
    "age",
    "whole_years",
    "to_monthly",
    "to_yearly",
    "add_months",
    "at:",
    "to:",
    "\"名称\"",
    "\"",
    "//",
    "/*",
    "*/",
    "\n",
    " ",
    "\u{3000}",
    "_",
    "é",
    "\u{0}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|ts| ts.join(" "))
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteBytes { at: usize, len: usize },
    InsertBytes { at: usize, bytes: Vec<u8> },
    ReplaceByte { at: usize, byte: u8 },
    InsertToken { at: usize, token: &'static str },
    ReplaceToken { nth: usize, token: &'static str },
    DeleteToken { nth: usize },
    SwapLines { a: usize, b: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 1usize..40).prop_map(|(at, len)| Mutation::DeleteBytes { at, len }),
        (pos, prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Mutation::InsertBytes { at, bytes }),
        (pos, any::<u8>()).prop_map(|(at, byte)| Mutation::ReplaceByte { at, byte }),
        (pos, prop::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::InsertToken { at, token }),
        (pos, prop::sample::select(TOKENS)).prop_map(|(nth, token)| Mutation::ReplaceToken { nth, token }),
        pos.prop_map(|nth| Mutation::DeleteToken { nth }),
        (pos, pos).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        pos.prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// Applies a mutation on bytes; the result is read back lossily, as a file with bad UTF-8 would be.
fn apply(text: &str, m: &Mutation) -> String {
    let mut b = text.as_bytes().to_vec();
    let n = b.len().max(1);
    let token_spans = || -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    spans.push((s, i));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            spans.push((s, text.len()));
        }
        spans
    };
    match m {
        Mutation::DeleteBytes { at, len } => {
            let at = at % n;
            let end = (at + len).min(b.len());
            if at < end {
                b.drain(at..end);
            }
        }
        Mutation::InsertBytes { at, bytes } => {
            let at = at % (b.len() + 1);
            b.splice(at..at, bytes.iter().copied());
        }
        Mutation::ReplaceByte { at, byte } => {
            if !b.is_empty() {
                let at = at % b.len();
                b[at] = *byte;
            }
        }
        Mutation::InsertToken { at, token } => {
            let at = at % (b.len() + 1);
            b.splice(at..at, format!(" {token} ").into_bytes());
        }
        Mutation::ReplaceToken { nth, token } => {
            let spans = token_spans();
            if !spans.is_empty() {
                let (s, e) = spans[nth % spans.len()];
                b.splice(s..e, token.bytes());
            }
        }
        Mutation::DeleteToken { nth } => {
            let spans = token_spans();
            if !spans.is_empty() {
                let (s, e) = spans[nth % spans.len()];
                b.drain(s..e);
            }
        }
        Mutation::SwapLines { a, b: other } => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (i, j) = (a % lines.len(), other % lines.len());
                lines.swap(i, j);
            }
            return lines.join("\n");
        }
        Mutation::Truncate { at } => b.truncate(at % n),
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Files of the shapes that once crashed or exhausted the compiler: deep nesting of each kind,
/// long flat sums, chains of rules calling the previous one twice, large tables, and
/// record-valued expressions.
fn shape() -> impl Strategy<Value = String> {
    let nesting = (0usize..5, 0usize..600).prop_map(|(kind, depth)| {
        let mut e = "1".to_string();
        for i in 0..depth {
            e = match kind {
                0 => format!("({e})"),
                1 => format!("if true then {e} else 0"),
                2 => format!("match {} {{ 0 => {e}, else => 2 }}", i % 3),
                3 => format!("-{e}"),
                _ => format!("max({e}, 0)"),
            };
        }
        format!("rule r() -> Int = {e}\ntest \"t\" {{ r() == r() }}\n")
    });
    let flat = (1usize..5000, prop::sample::select(&["+", "-", "*"][..])).prop_map(|(n, op)| {
        let terms: Vec<String> = (0..n).map(|i| (i % 7 + 1).to_string()).collect();
        format!("rule r() -> Int = {}\ntest \"t\" {{ r() == r() }}\n", terms.join(&format!(" {op} ")))
    });
    let chain = (1usize..40).prop_map(|n| {
        let mut t = String::from("rule c0(x: Int) -> Int = x\n");
        for i in 1..=n {
            t.push_str(&format!("rule c{i}(x: Int) -> Int = c{0}(x) + c{0}(x) - c{0}(x)\n", i - 1));
        }
        t.push_str(&format!("test \"t\" {{ c{n}(3) == 3 }}\n"));
        t
    });
    let table = (1usize..3000).prop_map(|n| {
        let rows: Vec<String> = (0..n).map(|i| format!("  {i}: {i} yuan")).collect();
        format!("table t(k: Int) -> Money {{\n{}\n}}\nrule g(k: Int) -> Money = t[k]\ntest \"t\" {{ g(0) == 0 yuan }}\n", rows.join(",\n"))
    });
    let records = (0usize..4, 0i64..100).prop_map(|(kind, v)| {
        let body = match kind {
            0 => "let q = p\n  q.x + 1".to_string(),
            1 => "let q = if p.x > 50 then P { id: p.id, x: p.x - 50 } else p\n  q.x".to_string(),
            2 => "let q = match p.x { >= 50 => p, else => P { id: p.id, x: 0 } }\n  q.x".to_string(),
            _ => "twice(p).x + twice(twice(p)).x".to_string(),
        };
        format!(
            "record P {{\n  id: Int in 1 ..= 9 key\n  x: Int in 0 ..= 100\n}}\nrule twice(p: P) -> P = P {{ id: p.id, x: p.x * 2 }}\nrule r(p: P) -> Int {{\n  {body}\n}}\ntest \"t\" {{ r(P {{ id: 1, x: {v} }}) == r(P {{ id: 1, x: {v} }}) }}\n"
        )
    });
    prop_oneof![nesting, flat, chain, table, records]
}

/// Like [`run`], then every rule of a file that checks is lowered and run through both engines,
/// which must agree.
fn run_lowered(text: &str) {
    // Everything, drops of deep trees included, on the compiler's stack as the CLI does.
    pol_core::on_compiler_stack(|| {
        run(text);
        let checked = driver::check_file(SourceFile::new("shape.pol", text));
        if checked.has_errors() {
            return;
        }
        let m = &checked.module;
        for (i, rule) in m.rules.iter().enumerate() {
            let id = pol_core::check::RuleId(i as u32);
            let Ok(program) = pol_core::lower::lower_program(m, &checked.sources, &rule.name, &[id], None) else { continue };
            let jit = pol_jit::JitKernel::compile(&program).expect("the JIT compiles every lowered program");
            let interp = pol_core::interp::InterpKernel::new(program.clone());
            let columns: Vec<Vec<i64>> = program
                .inputs
                .iter()
                .map(|i| {
                    let (lo, hi) = i.domain.unwrap_or((-50, 50));
                    vec![lo, hi]
                })
                .collect();
            let cols: Vec<&[i64]> = columns.iter().map(Vec::as_slice).collect();
            let eval = |k: &dyn pol_kernel::Kernel| {
                let mut outs: Vec<Vec<i64>> = program.outputs.iter().map(|_| vec![0; 2]).collect();
                let mut status = vec![0u32; 2];
                let mut views: Vec<&mut [i64]> = outs.iter_mut().map(Vec::as_mut_slice).collect();
                k.eval_batch(&cols, &mut views, &mut status);
                (outs, status)
            };
            assert_eq!(eval(&jit), eval(&interp), "{}: the engines disagree", rule.name);
        }
    });
}

proptest! {
    // A few seconds in a debug build; `POL_FUZZ_CASES=100000` fuzzes longer.
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        run(&text);
    }

    #[test]
    fn mutated_files_never_panic(file in any::<prop::sample::Index>(), ms in prop::collection::vec(mutation(), 1..4)) {
        let corpus = corpus();
        let mut text = corpus[file.index(corpus.len())].clone();
        for m in &ms {
            text = apply(&text, m);
        }
        run(&text);
    }

    #[test]
    fn mutated_schemes_never_panic_against_their_framework(ms in prop::collection::vec(mutation(), 1..3)) {
        let (fw, scheme) = guangdong();
        let mut text = scheme.clone();
        for m in &ms {
            text = apply(&text, m);
        }
        run_scheme(fw, &text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        run(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn the_unmutated_corpus_never_panics() {
    for text in corpus() {
        run(text);
    }
}

#[test]
fn known_edge_cases_never_panic() {
    for text in [
        "",
        "\u{3000}",
        "rule",
        "rule r() -> Money = 92233720368547758.07 yuan * 92233720368547758.07 yuan / 1 yuan",
        "rule r() -> Money = -(-(-(1 yuan)))",
        "test \"t\" { 1 / 0 == 1 }",
        "test \"t\" { 92233720368547758.07 yuan + 0.01 yuan > 0 yuan }",
        "param p: Money = 1 yuan from 9999-12-31\ntest \"t\" as of 9999-12-31 { p == 1 yuan }",
        "test \"t\" { add_months(9999-12-31, 1 months) > 2000-01-01 }",
        "test \"t\" { age(9999-12-31, at: 0001-01-01) == 0 }",
        "test \"t\" { round(1 yuan, to: 0.0000000000000001 yuan) == 1 yuan }",
        "rule r(x: Int) -> Money = brackets x { to 9223372036854775807: 1 yuan, above: 2 yuan }",
        "rule r(x: Int) -> Int = match x { -9223372036854775807 ..= 9223372036854775807 => 1 }",
        "table t(k: Int) -> Int { 9223372036854775807: 1 }\ntest \"t\" { t[9223372036854775807] == 1 }",
        "record R { a: Int in -9223372036854775807 ..< -9223372036854775807 }",
        "record R { a: Int in 0 ..< 0 }",
        "record R { a: Months in 0 months ..< 0 months }",
        "enum E { A }\nrule r(e: E) -> Int = match e { E.A => 1 }",
    ] {
        run(text);
    }
}

proptest! {
    // Each case is a large file through every stage, so fewer cases than the token tests.
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn shapes_never_panic_and_both_engines_agree(text in shape()) {
        run_lowered(&text);
    }
}
