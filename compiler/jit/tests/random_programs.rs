//! Property test: random well-typed IR programs on random records in the declared domains; the
//! JIT must give the interpreter's statuses and output cells on every row.

mod common;

use common::*;
use pol_core::exact::{Frac, RoundMode};
use pol_core::ir::*;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

/// Placeholders for local reads, resolved to a local in scope by [`resolve_locals`].
const INT_LOCAL: u32 = 1000;
const NUM_LOCAL: u32 = 2000;

const DEPTH: usize = 4;

fn domains() -> Vec<Option<(i64, i64)>> {
    vec![None, Some((-1000, 1000)), Some((0, 1_000_000_000)), Some((-2, 5))]
}

fn tables() -> Vec<Table> {
    vec![
        Table {
            name: "dense_int".into(),
            repr: Repr::I64,
            keys: (-2..6).collect(),
            values: (-2..6).map(|k| Const::I(k * 37 - 5)).collect(),
        },
        Table {
            name: "sparse_num".into(),
            repr: Repr::Num,
            keys: vec![-7, 0, 3, 1000, 123_456],
            values: vec![
                Const::N(Frac::new(6, 1000)),
                Const::N(Frac::new(-25, 1000)),
                Const::I(2),
                Const::N(Frac::new(1, 3)),
                Const::N(Frac::new(i128::MAX / 3, 2)),
            ],
        },
        Table {
            name: "dense_rate".into(),
            repr: Repr::Num,
            keys: (0..5).collect(),
            values: (0..5).map(|k| Const::N(Frac::new(k * 15 + 3, 1000))).collect(),
        },
    ]
}

fn site() -> impl Strategy<Value = SiteId> {
    (0u32..16).prop_map(SiteId)
}

fn mode() -> impl Strategy<Value = RoundMode> {
    prop::sample::select(ALL_MODES.to_vec())
}

fn const_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -12i64..12,
        1 => prop::sample::select(edge_values()),
        1 => any::<i64>(),
    ]
}

fn den() -> impl Strategy<Value = i128> {
    prop_oneof![
        4 => prop::sample::select(vec![1i128, 2, 3, 4, 7, 10, 100, 1000]),
        1 => prop::sample::select(vec![1_000_000i128, 1 << 62, 1 << 70, i128::MAX / 2]),
    ]
}

fn const_num() -> impl Strategy<Value = Frac> {
    let num = prop_oneof![
        6 => -30i128..30,
        1 => prop::sample::select(vec![i128::MAX, i128::MIN + 1, i128::MAX / 7, i64::MAX as i128, -(1i128 << 100)]),
    ];
    (num, den()).prop_map(|(n, d)| Frac::new(n, d))
}

fn int_leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        3 => const_int().prop_map(Expr::ConstI),
        4 => (0u32..4).prop_map(|i| Expr::Input(InputId(i))),
        1 => (0u32..4).prop_map(|k| Expr::Local(LocalId(INT_LOCAL + k))),
    ]
    .boxed()
}

fn num_leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        3 => const_num().prop_map(Expr::ConstN),
        3 => ((0u32..4), den()).prop_map(|(i, den)| Expr::ToNum { arg: b(Expr::Input(InputId(i))), den }),
        1 => (0u32..4).prop_map(|k| Expr::Local(LocalId(NUM_LOCAL + k))),
    ]
    .boxed()
}

fn arith_op() -> impl Strategy<Value = ArithOp> {
    prop::sample::select(vec![ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div, ArithOp::Rem])
}

fn num_op() -> impl Strategy<Value = ArithOp> {
    prop_oneof![
        12 => prop::sample::select(vec![ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div]),
        1 => Just(ArithOp::Rem),
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(CmpOp::ALL.to_vec())
}

fn builtin() -> impl Strategy<Value = Builtin> {
    prop::sample::select(Builtin::ALL.to_vec())
}

/// A block binding one value of either representation, then a result.
fn block_of(ints: &BoxedStrategy<Expr>, nums: &BoxedStrategy<Expr>, result: &BoxedStrategy<Expr>) -> BoxedStrategy<Expr> {
    let value = prop_oneof![ints.clone().prop_map(|e| (Repr::I64, e)), nums.clone().prop_map(|e| (Repr::Num, e)),];
    (prop::collection::vec(value, 1..3), result.clone())
        .prop_map(|(values, result)| {
            let bindings = values.into_iter().map(|(repr, value)| Binding { local: LocalId(0), repr, value, trace: None }).collect();
            Expr::Block(Box::new(Block { bindings, result }))
        })
        .boxed()
}

/// Strategies for `I64` and `Num` expressions of at most `DEPTH` levels.
fn expr_strategies() -> (BoxedStrategy<Expr>, BoxedStrategy<Expr>) {
    let mut ints = int_leaf();
    let mut nums = num_leaf();
    for _ in 0..DEPTH {
        let (i, n) = (ints.clone(), nums.clone());
        let next_int = prop_oneof![
            2 => int_leaf(),
            3 => (arith_op(), i.clone(), i.clone(), site()).prop_map(|(op, a, c, s)| ai(op, a, c, s.0)),
            1 => (i.clone(), site()).prop_map(|(a, s)| neg(Repr::I64, a, s.0)),
            1 => (cmp_op(), i.clone(), i.clone(), site()).prop_map(|(op, a, c, s)| cmp(op, Repr::I64, a, c, s.0)),
            2 => (cmp_op(), n.clone(), n.clone(), site()).prop_map(|(op, a, c, s)| cmp(op, Repr::Num, a, c, s.0)),
            1 => (any::<bool>(), i.clone(), i.clone(), site()).prop_map(|(m, a, c, s)| minmax(m, Repr::I64, a, c, s.0)),
            1 => i.clone().prop_map(|a| Expr::Not(b(a))),
            1 => (i.clone(), i.clone()).prop_map(|(a, c)| Expr::And(b(a), b(c))),
            1 => (i.clone(), i.clone()).prop_map(|(a, c)| Expr::Or(b(a), b(c))),
            2 => (i.clone(), i.clone(), i.clone()).prop_map(|(c, t, e)| if_(Repr::I64, c, t, e)),
            4 => (n.clone(), mode(), site()).prop_map(|(a, m, s)| round_int(a, m, s.0)),
            1 => (builtin(), prop::collection::vec(i.clone(), 1..4), site()).prop_map(|(f, args, s)| call(f, args, s.0)),
            1 => (i.clone(), site()).prop_map(|(k, s)| table_get(0, k, s.0)),
            1 => block_of(&i, &n, &i),
        ]
        .boxed();
        let next_num = prop_oneof![
            2 => num_leaf(),
            6 => (num_op(), n.clone(), n.clone(), site()).prop_map(|(op, a, c, s)| an(op, a, c, s.0)),
            1 => (n.clone(), site()).prop_map(|(a, s)| neg(Repr::Num, a, s.0)),
            2 => (any::<bool>(), n.clone(), n.clone(), site()).prop_map(|(m, a, c, s)| minmax(m, Repr::Num, a, c, s.0)),
            2 => (i.clone(), n.clone(), n.clone()).prop_map(|(c, t, e)| if_(Repr::Num, c, t, e)),
            2 => (i.clone(), den()).prop_map(|(a, d)| num(a, d)),
            2 => (n.clone(), const_num(), mode(), site()).prop_map(|(a, q, m, s)| {
                let q = Frac::new(q.num.abs().max(1), q.den);
                round_to(a, q, m, s.0)
            }),
            1 => (i.clone(), prop::sample::select(vec![1u32, 2]), site()).prop_map(|(k, t, s)| table_get(t, k, s.0)),
            1 => block_of(&i, &n, &n),
        ]
        .boxed();
        ints = next_int;
        nums = next_num;
    }
    (ints, nums)
}

/// Gives every binding a fresh local and points every placeholder read at a local of the
/// right representation in scope (or a constant when there is none).
fn resolve_locals(e: &mut Expr, scope: &mut Vec<(LocalId, Repr)>, next: &mut u32) {
    match e {
        Expr::Local(l) if l.0 >= INT_LOCAL => {
            let want = if l.0 >= NUM_LOCAL { Repr::Num } else { Repr::I64 };
            let k = (l.0 % 1000) as usize;
            let candidates: Vec<LocalId> = scope.iter().filter(|(_, r)| *r == want).map(|(l, _)| *l).collect();
            *e = match (candidates.is_empty(), want) {
                (false, _) => Expr::Local(candidates[k % candidates.len()]),
                (true, Repr::I64) => Expr::ConstI(k as i64),
                (true, Repr::Num) => Expr::ConstN(Frac::new(k as i128, 3)),
            };
        }
        Expr::ConstI(_) | Expr::ConstN(_) | Expr::Input(_) | Expr::Local(_) => {}
        Expr::ToNum { arg, .. }
        | Expr::RoundInt { arg, .. }
        | Expr::RoundTo { arg, .. }
        | Expr::Neg { arg, .. }
        | Expr::Not(arg)
        | Expr::TableGet { key: arg, .. } => resolve_locals(arg, scope, next),
        Expr::Arith { a, b, .. } | Expr::Cmp { a, b, .. } | Expr::MinMax { a, b, .. } | Expr::And(a, b) | Expr::Or(a, b) => {
            resolve_locals(a, scope, next);
            resolve_locals(b, scope, next);
        }
        Expr::If { cond, then, els, .. } => {
            resolve_locals(cond, scope, next);
            resolve_locals(then, scope, next);
            resolve_locals(els, scope, next);
        }
        Expr::Call { args, .. } => args.iter_mut().for_each(|a| resolve_locals(a, scope, next)),
        Expr::Block(block) => {
            let depth = scope.len();
            for binding in &mut block.bindings {
                resolve_locals(&mut binding.value, scope, next);
                binding.local = LocalId(*next);
                *next += 1;
                scope.push((binding.local, binding.repr));
            }
            resolve_locals(&mut block.result, scope, next);
            scope.truncate(depth);
        }
    }
}

fn cell(domain: Option<(i64, i64)>) -> BoxedStrategy<i64> {
    match domain {
        None => prop_oneof![
            2 => prop::sample::select(edge_values()),
            2 => -1000i64..1000,
            1 => any::<i64>(),
        ]
        .boxed(),
        Some((lo, hi)) => prop_oneof![
            1 => prop::sample::select(vec![lo, hi, lo.max(0).min(hi)]),
            3 => lo..=hi,
        ]
        .boxed(),
    }
}

fn rows() -> impl Strategy<Value = Vec<Vec<i64>>> {
    let row: Vec<BoxedStrategy<i64>> = domains().into_iter().map(cell).collect();
    prop::collection::vec(row, 16)
}

fn build_program(outputs: Vec<Expr>) -> Program {
    let inputs = domains().into_iter().enumerate().map(|(i, d)| input(&format!("in{i}"), d)).collect();
    let mut p = program(inputs, tables(), outputs);
    for output in &mut p.outputs {
        let mut next = 0;
        resolve_locals(&mut output.body.result, &mut Vec::new(), &mut next);
        output.locals = next;
    }
    p
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(600)
}

proptest! {
    // `PROPTEST_CASES` overrides the count for a longer local hunt.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn jit_agrees_with_the_interpreter_on_random_programs(
        outputs in prop::collection::vec(expr_strategies().0, 1..3),
        rows in rows(),
    ) {
        check(&build_program(outputs), &rows);
    }

    #[test]
    fn jit_agrees_on_random_fraction_roundings(
        fraction in expr_strategies().1,
        mode in mode(),
        rows in rows(),
    ) {
        check(&build_program(vec![round_int(fraction, mode, 63)]), &rows);
    }
}
