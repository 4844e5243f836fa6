//! Compliance fixtures (`tests/compliance/{good,bad}`) against `tests/compliance/framework.pol`,
//! the refutation path (counter-examples really break the requirement), and the soundness
//! property test over generated schemes.
//!
//! A bad fixture starts with `// expect: CODE line N`: the scheme must be rejected with that
//! code on that line, and with no other code. One insta snapshot per fixture holds the source
//! and the rendered diagnostics.

use pol_core::check::Module;
use pol_core::compliance::prove;
use pol_core::diagnostic::{self, Diagnostic};
use pol_core::span::SourceFile;
use pol_core::{driver, interp, ir, lower, testing};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compliance")
}

struct Checked {
    sources: Vec<SourceFile>,
    diagnostics: Vec<Diagnostic>,
}

/// Checks a scheme against a framework the way `pol check` does, then runs its tests (whose
/// failures, e.g. a broken aggregate over a population, count as diagnostics too).
fn check_scheme(framework: &SourceFile, scheme: SourceFile) -> Checked {
    let checked = driver::check_scheme(framework.clone(), scheme, &prove::Budget::default());
    assert!(checked.diagnostics[0].is_empty(), "framework has errors: {:?}", checked.diagnostics[0]);
    let mut diagnostics = checked.main_diagnostics().to_vec();
    let sources = checked.sources;
    if diagnostics.is_empty() {
        let eff = checked.module.files.last().and_then(|f| f.effective);
        for t in testing::run_tests(&checked.module, &sources, eff) {
            for f in t.failures {
                diagnostics.push(Diagnostic {
                    code: pol_core::codes::lookup(f.code).map(|c| c.code).unwrap_or("T0001"),
                    message: f.message,
                    primary: diagnostic::Label { span: f.span, message: "here".into() },
                    secondary: vec![],
                    help: None,
                    notes: vec![],
                });
            }
        }
    }
    Checked { sources, diagnostics }
}

fn framework() -> SourceFile {
    let path = root().join("framework.pol");
    SourceFile::new("framework.pol", std::fs::read_to_string(path).expect("framework exists"))
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("fixture dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    v.sort();
    v
}

fn load(path: &Path) -> SourceFile {
    let name = format!(
        "{}/{}",
        path.parent().and_then(|p| p.file_name()).unwrap_or_default().to_string_lossy(),
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    SourceFile::new(name, std::fs::read_to_string(path).expect("fixture readable"))
}

#[test]
fn good_schemes_are_compliant_and_their_tests_pass() {
    let fw = framework();
    let files = fixtures("good");
    assert!(files.len() >= 2);
    for f in files {
        let c = check_scheme(&fw, load(&f));
        let rendered = diagnostic::render(&c.sources[1], &c.diagnostics);
        assert!(c.diagnostics.is_empty(), "{} should be compliant:\n{rendered}", f.display());
    }
}

#[test]
fn bad_schemes_are_rejected_with_their_code_on_their_line() {
    let fw = framework();
    let files = fixtures("bad");
    assert!(files.len() >= 15, "every rejection kind has a fixture");
    for f in files {
        let src = load(&f);
        let first = src.text.lines().next().unwrap_or_default().to_string();
        let spec = first.strip_prefix("// expect: ").unwrap_or_else(|| panic!("{} lacks `// expect:`", f.display()));
        let mut parts = spec.split_whitespace();
        let code = parts.next().unwrap_or_default().to_string();
        let line: u32 = parts.nth(1).and_then(|l| l.parse().ok()).expect("expect line");
        let c = check_scheme(&fw, src.clone());
        let found: Vec<(&str, u32)> = c.diagnostics.iter().map(|d| (d.code, src.line_col(d.primary.span.start).0)).collect();
        assert!(found.contains(&(code.as_str(), line)), "{}: expected {code} on line {line}, found {found:?}", f.display());
        assert!(found.iter().all(|(c, _)| *c == code), "{}: only {code} expected, found {found:?}", f.display());
        // Compliance diagnostics cite the framework.
        if code.starts_with('C') && code != "C0111" && code != "C0112" {
            assert!(
                c.diagnostics.iter().any(|d| d.notes.iter().any(|n| n.contains("framework.pol") || n.contains("test_fw"))),
                "{}: no note citing the framework",
                f.display()
            );
        }
        let name = f.file_stem().unwrap_or_default().to_string_lossy().to_string();
        let rendered = diagnostic::render(&c.sources[1], &c.diagnostics);
        insta::assert_snapshot!(format!("compliance_{name}"), format!("{}\n---\n{}", src.text, rendered));
    }
}

/// The negation of the requirement each refuted fixture breaks, as a Pol condition.
const REFUTED: &[(&str, &str)] = &[
    ("below_floor.pol", "benefit(cx) < minimum"),
    ("below_floor_later_year.pol", "benefit(cx) < minimum"),
    ("above_cap.pol", "benefit(cx) > 2000 yuan"),
];

#[test]
fn counter_examples_in_diagnostics_really_break_the_requirement() {
    let fw = framework();
    for (file, broken) in REFUTED {
        let src = load(&root().join("bad").join(file));
        let c = check_scheme(&fw, src.clone());
        let d = c.diagnostics.iter().find(|d| d.code == "C0107").expect("refuted");
        let note = d.notes.iter().find_map(|n| n.strip_prefix("counter-example: ")).expect("counter-example note");
        let on = d.message.rsplit(" on ").next().unwrap_or_default();
        // Re-run the counter-example through a test block appended to the scheme.
        let text = format!("{}\ntest \"counter-example\" as of {on} {{\n  let cx = {note}\n  {broken}\n}}\n", src.text);
        let c2 = check_scheme_without_compliance(&fw, SourceFile::new(src.name.clone(), text));
        let outcomes = testing::run_tests(&c2, &[fw.clone(), SourceFile::new("x", "")], None);
        let t = outcomes.iter().find(|o| o.name == "counter-example").expect("test ran");
        assert!(t.passed(), "{file}: the counter-example does not break the requirement: {:?}", t.failures);
    }
}

fn check_scheme_without_compliance(fw: &SourceFile, scheme: SourceFile) -> Module {
    let c = driver::check_scheme_structure(fw.clone(), scheme);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    c.module
}

// ---------------------------------------------------------------------------------------------
// Soundness: random schemes over a tiny domain, checked exhaustively.

const TINY_FRAMEWORK: &str = r#"framework tiny "soundness" version 1 effective 2025-01-01
record T { a: Int in 0 ..= 12, b: Int in -6 ..= 6, flag: Bool }
slot f(t: T) -> Money {
  require result >= 0 yuan
  require result <= 50 yuan
}
"#;

fn arb_cond() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (0i64..13).prop_map(|k| format!("t.a > {k}")),
        (-6i64..7).prop_map(|k| format!("t.b <= {k}")),
        Just("t.flag".to_string()),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![inner.clone().prop_map(|c| format!("not ({c})")), (inner.clone(), inner).prop_map(|(a, b)| format!("({a} and {b})")),]
    })
}

fn arb_money() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (-20i64..60).prop_map(|k| format!("{k} yuan")),
        (-5i64..6).prop_map(|k| format!("t.a * {k} yuan")),
        (-5i64..6).prop_map(|k| format!("t.b * {k}.5 yuan")),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("min({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("max({a}, {b})")),
            (arb_cond(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("(if {c} then {a} else {b})")),
            (0i64..12, inner.clone(), inner.clone()).prop_map(|(k, a, b)| format!("(match t.a {{ <= {k} => {a}, else => {b} }})")),
            (1i64..7, -3i64..4, -3i64..4).prop_map(|(k, r1, r2)| format!("(brackets t.a {{ to {k}: {r1} yuan, above: {r2} yuan }})")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            (inner.clone(), 1i64..7).prop_map(|(a, k)| format!("({a} / {k})")),
            (inner.clone(), 0i64..30).prop_map(|(a, k)| format!("round({a} * {k}%, to: 1 yuan)")),
            (inner, 0i64..20, 20i64..60).prop_map(|(a, lo, hi)| format!("clamp({a}, {lo} yuan, {hi} yuan)")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn accepted_schemes_never_break_a_requirement_and_refutations_are_real(body in arb_money()) {
        let fw = SourceFile::new("tiny.pol", TINY_FRAMEWORK);
        let scheme = SourceFile::new("s.pol", format!("scheme s \"s\" implements tiny version 1 effective 2025-01-01\nrule f(t: T) -> Money = {body}\n"));
        let c = driver::check_scheme_structure(fw, scheme);
        prop_assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let m = &c.module;
        let sources = &c.sources;
        let rule = m.lookup_rule("f").expect("rule");
        let slot = &m.slots[0];
        for req in &slot.requires {
            let program = lower::lower_requirement(m, sources, rule, &req.cond, slot.loc.file, m.files[1].effective).expect("lowers");
            let out = &program.outputs[0];
            match prove::prove(&program, &prove::Budget::default()) {
                prove::Verdict::Proven => {
                    for a in 0..=12 { for b in -6..=6 { for flag in 0..=1 {
                        let r = interp::eval_output(&program, out, &[a, b, flag]);
                        prop_assert!(r != Ok(ir::Const::I(0)), "proven but broken at a={a} b={b} flag={flag}: {body}");
                    }}}
                }
                prove::Verdict::Refuted { records } => {
                    prop_assert_eq!(interp::eval_output(&program, out, &records[0]), Ok(ir::Const::I(0)), "refutation not confirmed: {}", body);
                }
                prove::Verdict::Unknown { .. } => {}
                prove::Verdict::Internal { why } => prop_assert!(false, "internal error: {why}: {body}"),
            }
        }
    }
}
