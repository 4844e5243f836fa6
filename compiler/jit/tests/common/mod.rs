//! Shared helpers of the differential tests: IR builders and the harness that runs one program
//! on both engines and demands identical statuses and output cells.
#![allow(dead_code)]

use pol_core::exact::{Frac, RoundMode};
use pol_core::interp::InterpKernel;
use pol_core::ir::*;
use pol_jit::JitKernel;
use pol_kernel::Kernel;

pub mod pension;

pub fn b(e: Expr) -> Box<Expr> {
    Box::new(e)
}

pub fn ci(v: i64) -> Expr {
    Expr::ConstI(v)
}

pub fn cn(num: i128, den: i128) -> Expr {
    Expr::ConstN(Frac::new(num, den))
}

pub fn inp(i: u32) -> Expr {
    Expr::Input(InputId(i))
}

pub fn local(l: u32) -> Expr {
    Expr::Local(LocalId(l))
}

pub fn num(arg: Expr, den: i128) -> Expr {
    Expr::ToNum { arg: b(arg), den }
}

pub fn arith(op: ArithOp, repr: Repr, a: Expr, bb: Expr, site: u32) -> Expr {
    Expr::Arith { op, repr, a: b(a), b: b(bb), site: SiteId(site) }
}

pub fn ai(op: ArithOp, a: Expr, bb: Expr, site: u32) -> Expr {
    arith(op, Repr::I64, a, bb, site)
}

pub fn an(op: ArithOp, a: Expr, bb: Expr, site: u32) -> Expr {
    arith(op, Repr::Num, a, bb, site)
}

pub fn cmp(op: CmpOp, repr: Repr, a: Expr, bb: Expr, site: u32) -> Expr {
    Expr::Cmp { op, repr, a: b(a), b: b(bb), site: SiteId(site) }
}

pub fn minmax(max: bool, repr: Repr, a: Expr, bb: Expr, site: u32) -> Expr {
    Expr::MinMax { max, repr, a: b(a), b: b(bb), site: SiteId(site) }
}

pub fn round_int(arg: Expr, mode: RoundMode, site: u32) -> Expr {
    Expr::RoundInt { arg: b(arg), mode, site: SiteId(site) }
}

pub fn round_to(arg: Expr, quantum: Frac, mode: RoundMode, site: u32) -> Expr {
    Expr::RoundTo { arg: b(arg), quantum, mode, site: SiteId(site) }
}

pub fn neg(repr: Repr, arg: Expr, site: u32) -> Expr {
    Expr::Neg { repr, arg: b(arg), site: SiteId(site) }
}

pub fn if_(repr: Repr, cond: Expr, then: Expr, els: Expr) -> Expr {
    Expr::If { repr, cond: b(cond), then: b(then), els: b(els) }
}

pub fn call(func: Builtin, args: Vec<Expr>, site: u32) -> Expr {
    Expr::Call { func, args, site: SiteId(site) }
}

pub fn table_get(table: u32, key: Expr, site: u32) -> Expr {
    Expr::TableGet { table: TableId(table), key: b(key), site: SiteId(site) }
}

pub fn bind(l: u32, repr: Repr, value: Expr) -> Binding {
    Binding { local: LocalId(l), repr, value, trace: None }
}

pub fn block(bindings: Vec<Binding>, result: Expr) -> Expr {
    Expr::Block(Box::new(Block { bindings, result }))
}

pub const ALL_MODES: [RoundMode; 5] =
    [RoundMode::HalfAwayFromZero, RoundMode::HalfEven, RoundMode::Down, RoundMode::Up, RoundMode::TowardZero];

pub fn input(name: &str, domain: Option<(i64, i64)>) -> Input {
    Input { name: name.into(), ty: ScalarTy::Int, domain, is_id: false }
}

/// A program of `inputs` and one output per expression (the body a block with no bindings
/// unless the expression is itself a block), with enough sites for every test.
pub fn program(inputs: Vec<Input>, tables: Vec<Table>, outputs: Vec<Expr>) -> Program {
    let outputs = outputs
        .into_iter()
        .enumerate()
        .map(|(i, e)| Output { name: format!("out{i}"), ty: ScalarTy::Int, body: Block { bindings: vec![], result: e }, locals: 64 })
        .collect();
    let sites = (0..64)
        .map(|i| Site {
            rule: format!("rule{i}"),
            file: "test.pol".into(),
            line: i + 1,
            column: 1,
            snippet: format!("site {i}"),
            cite: None,
        })
        .collect();
    Program { name: "test".into(), as_of: 0, inputs, tables, outputs, sites, aggregates: vec![] }
}

/// The statuses and output columns of one engine over `rows` (each row one cell per input).
pub struct Run {
    pub status: Vec<u32>,
    pub outputs: Vec<Vec<i64>>,
}

pub fn run(kernel: &dyn Kernel, n_outputs: usize, rows: &[Vec<i64>]) -> Run {
    let n_inputs = rows.first().map_or(0, |r| r.len());
    let columns: Vec<Vec<i64>> = (0..n_inputs).map(|i| rows.iter().map(|r| r[i]).collect()).collect();
    let inputs: Vec<&[i64]> = columns.iter().map(|c| c.as_slice()).collect();
    // A sentinel shows cells an engine did not write; both must leave the same ones.
    let mut outputs = vec![vec![0x5eed_i64; rows.len()]; n_outputs];
    let mut status = vec![u32::MAX; rows.len()];
    {
        let mut outs: Vec<&mut [i64]> = outputs.iter_mut().map(|c| c.as_mut_slice()).collect();
        kernel.eval_batch(&inputs, &mut outs, &mut status);
    }
    Run { status, outputs }
}

/// Runs `program` on both engines and asserts identical statuses and cells for every row;
/// returns the interpreter's run for further checks.
pub fn check(program: &Program, rows: &[Vec<i64>]) -> Run {
    let jit = JitKernel::compile(program).unwrap_or_else(|e| panic!("compile failed: {e}\n{program}"));
    let interp = InterpKernel::new(program.clone());
    let n = program.outputs.len();
    let want = run(&interp, n, rows);
    let got = run(&jit, n, rows);
    for (r, row) in rows.iter().enumerate() {
        let want_cells: Vec<i64> = want.outputs.iter().map(|c| c[r]).collect();
        let got_cells: Vec<i64> = got.outputs.iter().map(|c| c[r]).collect();
        assert!(
            want.status[r] == got.status[r] && want_cells == got_cells,
            "row {r} {row:?}: interp status {} ({:?}) cells {want_cells:?}, jit status {} ({:?}) cells {got_cells:?}\n{program}",
            want.status[r],
            Fault::from_status(want.status[r]),
            got.status[r],
            Fault::from_status(got.status[r]),
        );
    }
    want
}

/// Interesting cells: zero, small values of both signs, and the edges of `i64`.
pub fn edge_values() -> Vec<i64> {
    vec![
        0,
        1,
        -1,
        2,
        -2,
        3,
        -3,
        5,
        -5,
        7,
        -7,
        10,
        -10,
        99,
        -101,
        1000,
        123_456_789,
        -987_654_321,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
        i64::MAX / 2,
        i64::MIN / 2,
        3_037_000_499,
        -3_037_000_500,
        1 << 40,
        -(1 << 40),
    ]
}

/// Every pair of edge values, as rows of two cells.
pub fn edge_pairs() -> Vec<Vec<i64>> {
    let v = edge_values();
    v.iter().flat_map(|a| v.iter().map(move |b| vec![*a, *b])).collect()
}
