//! Inputs of unusual shape through the whole pipeline (parse → check → lower → both engines):
//! long flat sums, deep nesting, chains of rules calling each other twice, large tables,
//! record-valued expressions, a byte-order mark. Each either works or gets a located
//! diagnostic with a stated limit, in bounded time and stack, never a crash or a wrong value.

use pol_core::check::Module;
use pol_core::driver::{self, Frontend};
use pol_core::interp::InterpKernel;
use pol_core::ir::{Block, Expr, Program};
use pol_core::span::SourceFile;
use pol_core::{lower, testing};
use pol_jit::JitKernel;
use pol_kernel::Kernel;

fn checked(text: &str) -> Frontend {
    driver::check_file(SourceFile::new("shape.pol", text))
}

/// The file checks clean and every test in it passes.
fn passes(text: &str) -> Frontend {
    let f = checked(text);
    assert!(!f.has_errors(), "{}", f.render());
    let results = pol_core::on_compiler_stack(|| testing::run_tests(&f.module, &f.sources, None));
    assert!(!results.is_empty(), "the shape has tests");
    for t in &results {
        assert!(t.passed(), "test {} failed: {:?}", t.name, t.failures);
    }
    f
}

/// The codes and 1-based lines of the file's diagnostics.
fn refused(text: &str) -> Vec<(&'static str, u32)> {
    let f = checked(text);
    let src = &f.sources[0];
    f.main_diagnostics().iter().map(|d| (d.code, src.line_col(d.primary.span.start).0)).collect()
}

fn program(m: &Module, sources: &[SourceFile], rules: &[&str]) -> Program {
    let ids: Vec<_> = rules.iter().map(|r| m.lookup_rule(r).expect("rule exists")).collect();
    pol_core::on_compiler_stack(|| lower::lower_program(m, sources, rules[0], &ids, None)).expect("lowers")
}

/// Runs a program's rows through the interpreter and the JIT; they must agree, and the outputs
/// of the interpreter are returned.
fn both_engines(p: &Program, inputs: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let rows = inputs.first().map_or(1, Vec::len);
    let cols: Vec<&[i64]> = inputs.iter().map(Vec::as_slice).collect();
    let run = |k: &dyn Kernel| {
        let mut outs: Vec<Vec<i64>> = p.outputs.iter().map(|_| vec![0; rows]).collect();
        let mut status = vec![0u32; rows];
        let mut views: Vec<&mut [i64]> = outs.iter_mut().map(Vec::as_mut_slice).collect();
        k.eval_batch(&cols, &mut views, &mut status);
        assert!(status.iter().all(|s| *s == 0), "rows failed: {status:?}");
        outs
    };
    let jit = pol_core::on_compiler_stack(|| JitKernel::compile(p)).expect("the JIT compiles it");
    let interp = InterpKernel::new(p.clone());
    let (a, b) = pol_core::on_compiler_stack(|| (run(&jit), run(&interp)));
    assert_eq!(a, b, "JIT and interpreter disagree");
    b
}

fn ir_nodes(p: &Program) -> usize {
    fn count(e: &mut Expr) -> usize {
        let mut n = 1;
        e.for_each_child_mut(&mut |c| n += count(c));
        n
    }
    let mut total = 0;
    for o in &p.outputs {
        let mut b = Expr::Block(Box::new(Block { bindings: o.body.bindings.clone(), result: o.body.result.clone() }));
        total += count(&mut b);
    }
    total
}

#[test]
fn a_flat_sum_of_four_thousand_terms_checks_lowers_and_runs() {
    let terms: Vec<String> = (0..4000).map(|i| format!("{i} yuan")).collect();
    let total: i64 = (0..4000).sum();
    let text = format!("rule big() -> Money = {}\ntest \"sum\" {{ big() == {total} yuan }}\n", terms.join(" + "));
    // Deep trees are built, cloned and dropped by recursion: all of it on the compiler's stack,
    // as the CLI does.
    pol_core::on_compiler_stack(|| {
        let f = passes(&text);
        let p = program(&f.module, &f.sources, &["big"]);
        assert_eq!(both_engines(&p, &[]), vec![vec![total * 100]]);
    });
}

#[test]
fn deep_nesting_is_refused_at_its_line_with_the_limit() {
    let parens = format!("rule r() -> Int =\n  {}1{}\n", "(".repeat(300), ")".repeat(300));
    assert_eq!(refused(&parens), [("E0003", 2)]);
    let mut ifs = "1".to_string();
    for _ in 0..500 {
        ifs = format!("if true then {ifs} else 0");
    }
    assert_eq!(refused(&format!("rule r() -> Int =\n {ifs}\n")), [("E0003", 2)]);
    let mut matches = "1".to_string();
    for i in 0..500 {
        matches = format!("match {i} {{ 0 => {matches}, else => 2 }}");
    }
    assert_eq!(refused(&format!("\nrule r() -> Int = {matches}\n")), [("E0003", 2)]);
    assert_eq!(refused(&format!("rule r() -> Int = {}1\n", "-".repeat(10_000))), [("E0003", 1)]);
    assert_eq!(refused(&format!("rule r() -> Bool = {}true\n", "not ".repeat(5_000))), [("E0003", 1)]);
    // Nesting far beyond what the parser itself can follow is refused the same way.
    assert_eq!(refused(&format!("rule r() -> Int = {}1{}\n", "(".repeat(200_000), ")".repeat(200_000))), [("E0003", 1)]);
}

#[test]
fn nesting_up_to_the_limit_works() {
    let depth = pol_core::syntax::MAX_NESTING as usize - 1;
    let text = format!("rule r() -> Int = {}7{}\ntest \"deep\" {{ r() == 7 }}\n", "(".repeat(depth), ")".repeat(depth));
    passes(&text);
}

#[test]
fn rules_calling_the_previous_one_twice_lower_linearly() {
    let mut text = String::from("record P {\n  id: Int in 1 ..= 1000 key\n  x: Int in 0 ..= 10\n}\nrule r0(p: P) -> Int = p.x\n");
    for i in 1..=30 {
        text.push_str(&format!("rule r{i}(p: P) -> Int = r{0}(p) + r{0}(p) - r{0}(p)\n", i - 1));
    }
    text.push_str("test \"chain\" { r30(P { id: 1, x: 3 }) == 3 }\n");
    let f = passes(&text);
    let p = program(&f.module, &f.sources, &["r30"]);
    // Each rule adds a constant number of nodes; inlining every call would give 3^30.
    assert!(ir_nodes(&p) < 30 * 40, "{} IR nodes", ir_nodes(&p));
    assert_eq!(both_engines(&p, &[vec![1, 2], vec![3, 9]]), vec![vec![3, 9]]);
}

#[test]
fn a_call_inside_a_branch_is_not_reused_outside_it() {
    let text = "rule f(x: Int) -> Int = div(100, x)
rule g(x: Int) -> Int = (if x > 0 then f(x) else 0) + (if x > 0 then f(x) else 1)
test \"both branches\" { g(4) == 50
  g(0) == 1 }
";
    let f = passes(text);
    let p = program(&f.module, &f.sources, &["g"]);
    assert_eq!(both_engines(&p, &[vec![4, 0, -5]]), vec![vec![50, 1, 1]]);
}

#[test]
fn a_table_of_forty_thousand_rows_lowers_in_linear_time() {
    let rows: Vec<String> = (0..40_000).map(|i| format!("  {i}: {i}.{:02} yuan", i % 100)).collect();
    let text = format!(
        "table t(k: Int) -> Money {{\n{}\n}}\nrule get(k: Int) -> Money = t[k]\ntest \"t\" {{ get(39999) == 39999.99 yuan }}\n",
        rows.join(",\n")
    );
    let f = passes(&text);
    let p = program(&f.module, &f.sources, &["get"]);
    assert_eq!(both_engines(&p, &[vec![7, 39_999]]), vec![vec![707, 3_999_999]]);
}

#[test]
fn record_values_pay_their_real_fields_in_both_engines() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/language/good/record_values.pol")).expect("fixture");
    let f = passes(&text);
    let p = program(&f.module, &f.sources, &["with_let", "from_call", "chosen"]);
    // Columns: id, pension (fen), years, kind (0 Worker, 1 Cadre).
    let inputs = vec![vec![1, 2, 3], vec![300_000, 100_000, 100_000], vec![30, 10, 20], vec![0, 0, 1]];
    assert_eq!(both_engines(&p, &inputs), vec![vec![6_000, 4_000, 4_000], vec![12_000, 4_000, 4_000], vec![6_000, 1_000, 4_000]]);
}

#[test]
fn a_byte_order_mark_is_accepted_and_positions_stay_right() {
    passes("\u{feff}rule one() -> Int = 1\ntest \"one\" { one() == 1 }\n");
    assert_eq!(refused("\u{feff}rule one() -> Int = nope\n"), [("E0101", 1)]);
}

/// A call shared between the fields of a record literal is bound wherever any field is read:
/// reading one field of a literal, choosing a record by `if`, a test's record `let`, and table
/// rows (each evaluated on its own) all see the call's real value, in both engines.
#[test]
fn calls_shared_between_record_fields_and_table_rows_keep_their_values() {
    let text = "record P {
  id: Int in 1 ..= 9 key
  a: Int in 0 ..= 100
  b: Int in 0 ..= 100
}
rule f(x: Int) -> Int = x + 1
rule one_field(p: P) -> Int = P { id: p.id, a: f(p.a), b: 0 }.b + f(p.a)
rule chosen(p: P) -> Int {
  let q = if p.a > 0 then P { id: p.id, a: f(p.a), b: f(p.a) } else P { id: p.id, a: 0, b: 0 }
  q.b
}
table t(k: Int) -> Int {
  1: f(1),
  2: f(1),
}
test \"shared calls\" {
  let p = P { id: 1, a: f(1), b: f(1) }
  p.b == 2
  one_field(P { id: 1, a: 1, b: 5 }) == 2
  chosen(P { id: 1, a: 3, b: 5 }) == 4
  t[2] == 2
}
";
    let f = passes(text);
    let p = program(&f.module, &f.sources, &["one_field", "chosen"]);
    let inputs = vec![vec![1, 2], vec![1, 0], vec![5, 5]];
    assert_eq!(both_engines(&p, &inputs), vec![vec![2, 1], vec![2, 0]]);
}

#[test]
fn long_postfix_chains_and_nested_index_keys_are_refused() {
    let fields = ".x".repeat(30_000);
    assert_eq!(refused(&format!("record R {{\n  x: Int\n}}\nrule r(q: R) -> Int = q{fields}\n")), [("E0003", 4)]);
    let mut key = "1".to_string();
    for _ in 0..300 {
        key = format!("t[{key}]");
    }
    assert_eq!(refused(&format!("table t(k: Int) -> Int {{\n  1: 1,\n}}\nrule r() -> Int = {key}\n")), [("E0003", 4)]);
    // Chains inside chains count together: 255 nested sums of 100 terms each.
    let mut e = "1".to_string();
    for _ in 0..255 {
        e = format!("({e}{})", " + 1".repeat(99));
    }
    assert_eq!(refused(&format!("rule r() -> Int = {e}\n")), [("E0003", 1)]);
}
