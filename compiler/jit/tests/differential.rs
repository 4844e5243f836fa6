//! Hand-built IR programs run on the JIT and the interpreter: every expression form, every
//! rounding mode, and the edges where exact arithmetic overflows or faults.

mod common;

use common::*;
use pol_core::calendar::parse_date;
use pol_core::exact::{Frac, RoundMode};
use pol_core::ir::{ArithOp, Builtin, CmpOp, Const, Fault, FaultKind, Repr, SiteId, Table};

const OPS: [ArithOp; 5] = [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div, ArithOp::Rem];

fn two_unbounded() -> Vec<pol_core::ir::Input> {
    vec![input("x", None), input("y", None)]
}

#[test]
fn int_arithmetic_overflows_and_divides_like_the_interpreter() {
    let outputs = OPS.iter().enumerate().map(|(s, op)| ai(*op, inp(0), inp(1), s as u32)).collect();
    // One output per operation, each on its own program, so a fault in one does not hide the
    // others.
    let all: Vec<_> = outputs;
    for e in all {
        check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    }
}

#[test]
fn int_arithmetic_with_bounded_inputs_drops_checks_without_changing_results() {
    let inputs = vec![input("x", Some((-1_000_000, 1_000_000))), input("y", Some((1, 1000)))];
    let rows: Vec<Vec<i64>> = [-1_000_000, -999, -7, -1, 0, 1, 7, 999, 1_000_000]
        .iter()
        .flat_map(|x| [1, 2, 3, 7, 10, 999, 1000].iter().map(move |y| vec![*x, *y]))
        .collect();
    for (s, op) in OPS.iter().enumerate() {
        check(&program(inputs.clone(), vec![], vec![ai(*op, inp(0), inp(1), s as u32)]), &rows);
    }
    // Floor division and remainder by constant divisors of both signs.
    for d in [1, 2, 3, 12, -1, -3, 0] {
        for op in [ArithOp::Div, ArithOp::Rem] {
            check(&program(inputs.clone(), vec![], vec![ai(op, inp(0), ci(d), 9)]), &rows);
        }
    }
}

#[test]
fn int_negation_of_the_minimum_overflows() {
    let p = program(two_unbounded(), vec![], vec![neg(Repr::I64, inp(0), 3)]);
    let run = check(&p, &edge_pairs());
    assert!(run.status.contains(&Fault { site: SiteId(3), kind: FaultKind::Overflow }.status()));
}

#[test]
fn every_rounding_mode_on_halves_and_thirds_of_both_signs() {
    let inputs = vec![input("x", Some((-1000, 1000))), input("y", None)];
    let rows: Vec<Vec<i64>> = (-25..=25).map(|x| vec![x, 0]).collect();
    for mode in ALL_MODES {
        for den in [1, 2, 3, 4, 10, 100] {
            check(&program(inputs.clone(), vec![], vec![round_int(num(inp(0), den), mode, 1)]), &rows);
        }
    }
}

#[test]
fn every_rounding_mode_on_non_negative_domains_near_the_top_of_i64() {
    // Non-negative numerators over constant denominators round with one unsigned division;
    // near `i64::MAX` the bias no longer fits and the general sequence takes over.
    let domains = [(0, 1000), (i64::MAX - 1000, i64::MAX), (0, i64::MAX - 3)];
    for (lo, hi) in domains {
        let inputs = vec![input("x", Some((lo, hi))), input("y", None)];
        let cell = |k: i64| {
            let base = lo + (hi - lo) / 1000 * k;
            base.checked_add(k % 7).filter(|v| *v <= hi).unwrap_or(base)
        };
        let rows: Vec<Vec<i64>> = (0..=1000).map(|k| vec![cell(k), 0]).collect();
        for mode in ALL_MODES {
            for den in [2, 3, 4, 7, 10, 100] {
                check(&program(inputs.clone(), vec![], vec![round_int(num(inp(0), den), mode, 1)]), &rows);
            }
        }
    }
}

#[test]
fn rounding_unbounded_values_takes_the_wide_paths() {
    for mode in ALL_MODES {
        for den in [2, 3, 7, 1000] {
            // x * 5/den can exceed 64 bits before the rounding brings it back (or not).
            let e = round_int(an(ArithOp::Mul, num(inp(0), 1), cn(5, den), 2), mode, 1);
            check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
            // A run-time denominator: x / y.
            let e = round_int(an(ArithOp::Div, num(inp(0), 1), num(inp(1), 1), 2), mode, 1);
            check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
        }
    }
}

#[test]
fn fractions_with_equal_and_different_denominators() {
    let x = || num(inp(0), 100);
    let y = || num(inp(1), 1000);
    let z = || num(inp(1), 100);
    for op in [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div] {
        for (a, bb) in [(x(), y()), (x(), z()), (y(), x())] {
            for mode in [RoundMode::HalfAwayFromZero, RoundMode::HalfEven] {
                let e = round_int(an(op, a.clone(), bb.clone(), 4), mode, 5);
                check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
            }
        }
    }
}

#[test]
fn fractions_with_run_time_denominators_decide_equality_at_run_time() {
    // (x / y) + (1 / y) has equal denominators exactly when y's signs agree; (x/y) + 1/3 mixes.
    let q = || an(ArithOp::Div, num(inp(0), 1), num(inp(1), 1), 1);
    let r = || an(ArithOp::Div, cn(1, 1), num(inp(1), 1), 2);
    for op in [ArithOp::Add, ArithOp::Sub] {
        for other in [r(), cn(1, 3), q()] {
            let e = round_int(an(op, q(), other, 3), RoundMode::HalfEven, 4);
            check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
        }
    }
    for op in [CmpOp::Lt, CmpOp::Eq, CmpOp::Ge] {
        let e = cmp(op, Repr::Num, q(), r(), 5);
        check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    }
    let e = round_int(minmax(true, Repr::Num, q(), cn(7, 2), 6), RoundMode::Up, 7);
    check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
}

#[test]
fn i128_limits_overflow_at_the_same_site() {
    let max = i128::MAX;
    let cases = vec![
        an(ArithOp::Add, cn(max, 1), num(inp(0), 1), 1),
        an(ArithOp::Sub, cn(-max, 1), num(inp(0), 1), 2),
        an(ArithOp::Mul, cn(max / 3, 1), num(inp(0), 1), 3),
        an(ArithOp::Add, cn(max / 2, 3), num(inp(0), 7), 4),
        an(ArithOp::Div, cn(max, 1), num(inp(0), 5), 5),
        an(ArithOp::Div, num(inp(0), 1), cn(1, max), 6),
        neg(Repr::Num, an(ArithOp::Sub, cn(-max, 1), num(inp(0), 1), 7), 8),
        an(ArithOp::Mul, cn(1, max), cn(1, 2), 9),
    ];
    for e in cases {
        let e = round_int(e, RoundMode::HalfAwayFromZero, 30);
        check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    }
}

#[test]
fn rounding_a_fraction_too_large_for_i64_overflows() {
    let e = round_int(an(ArithOp::Mul, num(inp(0), 1), cn(3, 2), 1), RoundMode::Down, 2);
    let run = check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    assert!(run.status.contains(&Fault { site: SiteId(2), kind: FaultKind::Overflow }.status()));
}

#[test]
fn division_by_zero_is_reported_before_overflow() {
    let e = round_int(an(ArithOp::Div, cn(i128::MAX, 1), num(inp(1), 3), 1), RoundMode::Up, 2);
    let run = check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    assert!(run.status.contains(&Fault { site: SiteId(1), kind: FaultKind::DivisionByZero }.status()));
    let e = ai(ArithOp::Div, inp(0), inp(1), 4);
    let run = check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    assert!(run.status.contains(&Fault { site: SiteId(4), kind: FaultKind::DivisionByZero }.status()));
}

#[test]
fn rem_on_fractions_is_an_overflow() {
    let e = round_int(an(ArithOp::Rem, num(inp(0), 1), num(inp(1), 1), 1), RoundMode::Up, 2);
    check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
}

#[test]
fn round_to_quanta() {
    let quanta = [Frac::new(1, 1), Frac::new(5, 1), Frac::new(1, 10), Frac::new(25, 100), Frac::new(3, 7)];
    for q in quanta {
        for mode in ALL_MODES {
            let e = round_to(an(ArithOp::Mul, num(inp(0), 100), cn(7, 3), 1), q, mode, 2);
            let e = round_int(an(ArithOp::Mul, e, cn(1000, 1), 3), RoundMode::HalfAwayFromZero, 4);
            check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
        }
    }
}

#[test]
fn comparisons_and_min_max_keep_the_first_on_ties() {
    for op in CmpOp::ALL {
        check(&program(two_unbounded(), vec![], vec![cmp(op, Repr::I64, inp(0), inp(1), 1)]), &edge_pairs());
        let e = cmp(op, Repr::Num, num(inp(0), 2), num(inp(1), 3), 2);
        check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
        let e = cmp(op, Repr::Num, num(inp(0), 2), num(inp(1), 2), 2);
        check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    }
    for max in [false, true] {
        check(&program(two_unbounded(), vec![], vec![minmax(max, Repr::I64, inp(0), inp(1), 1)]), &edge_pairs());
        // Equal values with different denominators: the first one's denominator survives and
        // shows in the result of a later multiplication.
        let m = minmax(max, Repr::Num, num(inp(0), 2), an(ArithOp::Mul, num(inp(1), 4), cn(2, 1), 3), 4);
        let e = round_int(an(ArithOp::Mul, m, cn(i128::MAX / 8, 1), 5), RoundMode::TowardZero, 6);
        check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    }
}

#[test]
fn lazy_and_or_if_never_report_faults_of_the_side_not_taken() {
    let boom = || ai(ArithOp::Div, ci(1), ci(0), 9);
    let boom_n = || an(ArithOp::Add, cn(i128::MAX, 1), cn(1, 1), 8);
    let x_pos = || cmp(CmpOp::Gt, Repr::I64, inp(0), ci(0), 1);
    let cases = vec![
        Expr::And(b(x_pos()), b(cmp(CmpOp::Eq, Repr::I64, boom(), ci(1), 2))),
        Expr::Or(b(x_pos()), b(cmp(CmpOp::Eq, Repr::I64, boom(), ci(1), 2))),
        if_(Repr::I64, x_pos(), inp(1), boom()),
        if_(Repr::I64, x_pos(), boom(), inp(1)),
        round_int(if_(Repr::Num, x_pos(), num(inp(1), 3), boom_n()), RoundMode::HalfEven, 3),
        round_int(if_(Repr::Num, x_pos(), boom_n(), cn(5, 2)), RoundMode::HalfEven, 3),
        // Cheap branches that cannot fault become selects; mixed representations join.
        if_(Repr::I64, x_pos(), inp(1), ci(7)),
        round_int(if_(Repr::Num, x_pos(), num(inp(1), 3), ci(4)), RoundMode::Up, 3),
        Expr::Not(b(Expr::And(b(x_pos()), b(inp(1))))),
        Expr::Or(b(inp(0)), b(inp(1))),
    ];
    for e in cases {
        check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
    }
}

#[test]
fn the_first_fault_stops_the_row_and_later_outputs() {
    let outputs = vec![ai(ArithOp::Add, inp(0), ci(1), 1), ai(ArithOp::Div, ci(100), inp(1), 2), ai(ArithOp::Mul, inp(0), inp(1), 3)];
    check(&program(two_unbounded(), vec![], outputs), &edge_pairs());
}

fn dense_int_table() -> Table {
    Table { name: "dense".into(), repr: Repr::I64, keys: (-2..6).collect(), values: (-2..6).map(|k| Const::I(k * 100 - 7)).collect() }
}

fn sparse_num_table() -> Table {
    Table {
        name: "sparse".into(),
        repr: Repr::Num,
        keys: vec![-50, 1, 7, 1990, 2025, i64::MAX],
        values: vec![
            Const::N(Frac::new(6, 1000)),
            Const::N(Frac::new(25, 1000)),
            Const::N(Frac::new(2, 100)),
            Const::I(3),
            Const::N(Frac::new(i128::MAX / 5, 7)),
            Const::N(Frac::new(-1, 3)),
        ],
    }
}

fn wide_num_table() -> Table {
    Table {
        name: "wide".into(),
        repr: Repr::Num,
        keys: vec![0, 1, 2],
        values: vec![Const::N(Frac::new(1, 3)), Const::N(Frac::new(i128::MAX / 4, 1 << 70)), Const::N(Frac::new(-5, 2))],
    }
}

#[test]
fn table_lookups_hit_and_miss() {
    let tables = vec![dense_int_table(), sparse_num_table(), wide_num_table()];
    let rows: Vec<Vec<i64>> = [-51, -50, -3, -2, 0, 1, 2, 5, 6, 7, 1990, 2025, i64::MAX, i64::MIN].iter().map(|k| vec![*k, 3]).collect();
    let rate = |t| an(ArithOp::Mul, num(inp(1), 1), table_get(t, inp(0), 1), 2);
    let cases = vec![
        table_get(0, inp(0), 1),
        round_int(rate(1), RoundMode::HalfAwayFromZero, 3),
        round_int(rate(2), RoundMode::HalfEven, 3),
        // Constant keys are looked up at compile time, hits and misses alike.
        table_get(0, ci(3), 4),
        table_get(0, ci(9), 4),
        round_int(table_get(1, ci(2025), 5), RoundMode::Down, 6),
        round_int(table_get(1, ci(2), 5), RoundMode::Down, 6),
    ];
    for e in cases {
        check(&program(vec![input("k", None), input("y", None)], tables.clone(), vec![e]), &rows);
    }
    // A key whose domain lies inside a dense table needs no miss check.
    let bounded = vec![input("k", Some((-2, 5))), input("y", None)];
    let rows: Vec<Vec<i64>> = (-2..=5).map(|k| vec![k, 1]).collect();
    check(&program(bounded, tables, vec![table_get(0, inp(0), 1)]), &rows);
}

#[test]
fn calendar_builtins_share_the_interpreters_code() {
    let d = |s: &str| parse_date(s).unwrap_or(0);
    let dates = [d("1950-06-01"), d("2000-01-31"), d("2000-02-29"), d("2026-01-01"), 0, i64::MIN, 5_000_000, -719_162];
    let rows: Vec<Vec<i64>> = dates.iter().flat_map(|a| dates.iter().map(move |bb| vec![*a, *bb])).collect();
    let cases = vec![
        call(Builtin::AgeYears, vec![inp(0), inp(1)], 1),
        call(Builtin::MonthsBetween, vec![inp(0), inp(1)], 2),
        call(Builtin::AddMonths, vec![inp(0), ci(721)], 3),
        call(Builtin::Year, vec![inp(0)], 4),
        call(Builtin::Month, vec![inp(1)], 5),
        call(Builtin::Day, vec![inp(0)], 6),
        call(Builtin::MakeDate, vec![ci(2025), ci(2), ci(29)], 7),
        call(Builtin::MakeDate, vec![call(Builtin::Year, vec![inp(0)], 8), ci(3), ci(1)], 9),
    ];
    for e in cases {
        check(&program(two_unbounded(), vec![], vec![e]), &rows);
    }
}

#[test]
fn nested_blocks_bind_locals_of_both_representations() {
    let e = block(
        vec![
            bind(0, Repr::Num, an(ArithOp::Mul, num(inp(0), 100), cn(6, 1000), 1)),
            bind(1, Repr::I64, ai(ArithOp::Add, inp(1), ci(1), 2)),
        ],
        round_int(
            an(
                ArithOp::Add,
                local(0),
                block(
                    vec![bind(2, Repr::Num, an(ArithOp::Div, local(0), num(local(1), 1), 3))],
                    if_(Repr::Num, cmp(CmpOp::Gt, Repr::Num, local(2), cn(0, 1), 4), local(2), local(0)),
                ),
                5,
            ),
            RoundMode::HalfAwayFromZero,
            6,
        ),
    );
    check(&program(two_unbounded(), vec![], vec![e]), &edge_pairs());
}

#[test]
fn invalid_programs_are_rejected() {
    let bad_input = program(two_unbounded(), vec![], vec![inp(7)]);
    assert!(matches!(pol_jit::JitKernel::compile(&bad_input), Err(pol_jit::JitError::InvalidProgram(_))));
    let unbound = program(two_unbounded(), vec![], vec![local(3)]);
    assert!(pol_jit::JitKernel::compile(&unbound).is_err());
    let zero_den = program(two_unbounded(), vec![], vec![round_int(cn(1, 0), RoundMode::Up, 1)]);
    assert!(pol_jit::JitKernel::compile(&zero_den).is_err());
}

use pol_core::ir::Expr;

#[test]
fn pension_adjustment_rule_matches_the_interpreter_and_the_hand_written_rule() {
    use common::pension::*;
    let p = pension_program();
    let rows = pension_rows(5000);
    let run = check(&p, &rows);
    for (row, got) in rows.iter().zip(&run.outputs[0]) {
        assert_eq!(*got, pension_by_hand(row[0], row[1], row[2]), "{row:?}");
    }
    assert!(run.status.iter().all(|s| *s == 0));
}

#[test]
fn one_kernel_serves_many_threads_at_once() {
    use common::pension::*;
    let p = pension_program();
    let kernel = pol_jit::JitKernel::compile(&p).expect("compiles");
    let rows = pension_rows(40_000);
    let whole = run(&kernel, 1, &rows);
    let chunks: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = rows.chunks(10_000).map(|c| s.spawn(|| run(&kernel, 1, c))).collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let joined: Vec<i64> = chunks.iter().flat_map(|r| r.outputs[0].iter().copied()).collect();
    assert_eq!(joined, whole.outputs[0]);
}

#[test]
fn pension_rule_compiles_to_straight_line_code_without_checks() {
    // Declared domains prove every step fits 64 bits, so the row body has no fault check, no
    // helper call and no branch: only the loop's own test branches.
    let clif = pol_jit::JitKernel::clif(&common::pension::pension_program()).expect("compiles");
    assert_eq!(clif.matches("brif").count(), 1, "{clif}");
    assert!(!clif.contains(" call "), "{clif}");
    assert!(!clif.contains("i128"), "{clif}");
}
