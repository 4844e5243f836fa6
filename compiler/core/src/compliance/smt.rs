//! The exact decision of requirements: a lowered requirement program encoded into Z3's
//! integer and real arithmetic, with the interpreter's semantics operation for operation.
//!
//! Encoding (each IR expression becomes a term and a "does not fault" condition):
//! - `I64` values are integers, `Num` values are reals (exact rationals; no floats anywhere);
//!   Bool values are formulas, converted to 0/1 where an integer is needed;
//! - every rounding is `to_int` (floor) of an exact real, arranged for its mode exactly as
//!   [`crate::exact::round_quotient`] rounds;
//! - `if`, `and`, `or` keep the interpreter's laziness: an arm's faults count only when the arm
//!   runs;
//! - dates are decomposed into year, month and day by the inverse of Hinnant's
//!   `days_from_civil` (linear with constant divisors), so `age`, `months_between`,
//!   `add_months`, `year`, `month`, `day` and `make_date` are exact for every day;
//! - faults are the interpreter's: 64-bit overflow of integers and of rounded results,
//!   division by zero, a table miss, an invalid date. The interpreter's 128-bit fractions can
//!   also overflow where the exact value fits; such a record has no result, and the encoding
//!   ignores that fault, which only adds records: a proof stays sound, and a model that
//!   overflows in the interpreter is set aside and the solver asked again.
//!
//! Work is bounded by Z3's resource limit (`rlimit`), counted in the solver's own deterministic
//! units, so the same files always get the same answer.

use super::prove::{Budget, Verdict, initial_box};
use super::smt_num::{Q, compare_ints};
use crate::calendar;
use crate::exact::{Frac, RoundMode};
use crate::interp;
use crate::ir::{ArithOp, Builtin, CmpOp, Const, Expr, Output, Program, Repr};
use std::fmt::Write;
use z3::ast::{Bool, Int};
use z3::{Params, SatResult, Solver};

/// A term of the encoding: a formula, an integer (`I64` values) or an exact rational (`Num`).
#[derive(Clone)]
enum T {
    B(Bool),
    I(Int),
    N(Q),
}

impl T {
    fn int(&self) -> Int {
        match self {
            T::I(i) => i.clone(),
            T::B(b) => b.ite(&Int::from_i64(1), &Int::from_i64(0)),
            T::N(Q::Scaled(n, 1)) => n.clone(),
            // The lowering keeps representations apart; a fraction where an integer is read
            // is floored, which never happens for a well-typed program.
            T::N(q) => q.round(RoundMode::Down),
        }
    }

    fn bool(&self) -> Bool {
        match self {
            T::B(b) => b.clone(),
            other => other.int().ne(Int::from_i64(0)),
        }
    }

    fn num(&self) -> Q {
        match self {
            T::N(q) => q.clone(),
            other => Q::integer(other.int()),
        }
    }
}

fn int(i: i64) -> Int {
    Int::from_i64(i)
}

fn in_i64(t: &Int) -> Bool {
    between(t, i64::MIN, i64::MAX)
}

fn between(t: &Int, lo: i64, hi: i64) -> Bool {
    Bool::and(&[t.ge(int(lo)), t.le(int(hi))])
}

/// Floor division of integers, as [`crate::interp::int_arith`] divides (the divisor is
/// nonzero wherever the value is used: the caller adds that to the fault condition).
fn floor_div(a: &Int, b: &Int) -> Int {
    match b.as_i64() {
        Some(k) if k > 0 => a.div(b),
        Some(k) if k < 0 => a.unary_minus().div(b.unary_minus()),
        _ => b.gt(int(0)).ite(&a.div(b), &a.unary_minus().div(b.unary_minus())),
    }
}

fn leap(y: &Int) -> Bool {
    let m = |k: i64| y.modulo(int(k));
    Bool::or(&[Bool::and(&[m(4).eq(int(0)), m(100).ne(int(0))]), m(400).eq(int(0))])
}

fn days_in_month(y: &Int, m: &Int) -> Int {
    let short = Bool::or(&[m.eq(int(4)), m.eq(int(6)), m.eq(int(9)), m.eq(int(11))]);
    m.eq(int(2)).ite(&leap(y).ite(&int(29), &int(28)), &short.ite(&int(30), &int(31)))
}

/// Hinnant's `days_from_civil` for any proleptic date with `1 <= m <= 12`.
fn days_from_civil(y: &Int, m: &Int, d: &Int) -> Int {
    let y1 = Int::sub(&[y.clone(), m.le(int(2)).ite(&int(1), &int(0))]);
    let era = y1.div(int(400));
    let yoe = Int::sub(&[y1.clone(), Int::mul(&[era.clone(), int(400)])]);
    let mp = m.gt(int(2)).ite(&Int::sub(&[m.clone(), int(3)]), &Int::add(&[m.clone(), int(9)]));
    let doy = Int::add(&[Int::add(&[Int::mul(&[int(153), mp]), int(2)]).div(int(5)), d.clone(), int(-1)]);
    let doe = Int::add(&[Int::mul(&[yoe.clone(), int(365)]), yoe.div(int(4)), yoe.div(int(100)).unary_minus(), doy]);
    Int::add(&[Int::mul(&[era, int(146_097)]), doe, int(-719_468)])
}

thread_local! {
    /// The thread's Z3 context's resource count after its last query.
    static LAST_COUNT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// A query: requirement programs to encode, the constraints between their copies, and the
/// formula that must be unsatisfiable.
pub struct Encoder<'p> {
    program: &'p Program,
    /// Per copy of the record, one integer per input.
    copies: Vec<Vec<Int>>,
    /// Definitions of the fresh variables (civil dates); satisfiable for every value of what
    /// they define, so asserting them restricts nothing.
    defs: Vec<Bool>,
    /// What made the query non-linear, for an "unknown" answer.
    pub hard: Vec<String>,
    /// Each input's admitted values.
    domain: Vec<(i128, i128)>,
}

/// Which of Z3's solvers a query uses.
#[derive(Clone, Copy)]
enum Strategy {
    /// The SMT core (`(check-sat-using smt)`), without the default solver's preprocessing.
    SmtCore,
    /// Z3's default combined solver.
    Default,
}

/// The answer of the solver.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// No record (or pair) of the domain breaks the requirement.
    Unsat,
    /// The inputs of each copy, for the interpreter to confirm.
    Sat(Vec<Vec<i64>>),
    /// The solver could not decide within its limit (the reason).
    Unknown(String),
}

/// The outcome of evaluating one copy of a program, under which it does not fault.
pub struct Encoded {
    value: T,
    ok: Bool,
}

impl<'p> Encoder<'p> {
    /// An encoder for `copies` records of `program`'s inputs, each within `domain`.
    pub fn new(program: &'p Program, copies: usize) -> Encoder<'p> {
        let copies =
            (0..copies).map(|c| program.inputs.iter().enumerate().map(|(i, _)| Int::new_const(format!("x{c}_{i}"))).collect()).collect();
        Encoder { program, copies, defs: Vec::new(), hard: Vec::new(), domain: initial_box(program) }
    }

    /// An encoder for two records that differ only in input `input`: the second copy shares
    /// the first's variable for every other input, so that what the two records compute alike
    /// is one term for the solver.
    pub fn new_pair(program: &'p Program, input: usize) -> Encoder<'p> {
        let mut enc = Encoder::new(program, 2);
        for j in 0..program.inputs.len() {
            if j != input {
                enc.copies[1][j] = enc.copies[0][j].clone();
            }
        }
        enc
    }

    /// The domain constraints of every copy (inclusive integer bounds per input).
    fn domains(&self) -> Vec<Bool> {
        let mut out = Vec::new();
        for copy in &self.copies {
            for (x, (lo, hi)) in copy.iter().zip(&self.domain) {
                out.push(x.ge(Int::from_i128(*lo)));
                out.push(x.le(Int::from_i128(*hi)));
            }
        }
        out
    }

    /// Encodes `output` for copy `copy` of the inputs.
    pub fn output(&mut self, output: &Output, copy: usize) -> Encoded {
        let mut cx = Cx { enc: self, copy, locals: vec![None; output.locals as usize] };
        let (value, ok) = cx.block(&output.body);
        Encoded { value, ok }
    }

    /// Input `i` of copy `c`.
    pub fn input(&self, c: usize, i: usize) -> &Int {
        &self.copies[c][i]
    }

    /// Decides whether `violation` can hold for inputs in the domain where every encoded copy
    /// in `oks` evaluates without a fault, with one of Z3's solvers; `rlimit` bounds its work
    /// and `blocked` lists models already set aside.
    fn decide(&self, strategy: Strategy, oks: &[&Encoded], violation: &Bool, blocked: &[Vec<Vec<i64>>], rlimit: u32) -> (Answer, u64) {
        let solver = match strategy {
            Strategy::SmtCore => z3::Tactic::new("smt").solver(),
            Strategy::Default => Solver::new(),
        };
        let mut params = Params::new();
        params.set_u32("rlimit", rlimit);
        solver.set_params(&params);
        for b in self.domains() {
            solver.assert(&b);
        }
        for d in &self.defs {
            solver.assert(d);
        }
        for e in oks {
            solver.assert(&e.ok);
        }
        solver.assert(violation);
        for model in blocked {
            let same: Vec<Bool> =
                self.copies.iter().zip(model).flat_map(|(xs, vs)| xs.iter().zip(vs).map(|(x, v)| x.eq(int(*v)))).collect();
            solver.assert(Bool::and(&same).not());
        }
        let answer = match solver.check() {
            SatResult::Unsat => Answer::Unsat,
            SatResult::Sat => match solver.get_model() {
                Some(model) => {
                    let mut cells = Vec::new();
                    let mut complete = true;
                    for copy in &self.copies {
                        let mut row = Vec::new();
                        for x in copy {
                            match model.eval(x, true).and_then(|v| v.as_i64()) {
                                Some(v) => row.push(v),
                                None => complete = false,
                            }
                        }
                        cells.push(row);
                    }
                    if complete { Answer::Sat(cells) } else { Answer::Unknown("the solver's model has no value for an input".into()) }
                }
                None => Answer::Unknown("the solver found a model but did not return it".into()),
            },
            SatResult::Unknown => {
                let why = solver.get_reason_unknown().unwrap_or_default();
                let mut s = if why.contains("resource") || why.contains("canceled") {
                    "the solver's resource limit was reached".to_string()
                } else {
                    format!("the solver answered unknown ({why})")
                };
                if !self.hard.is_empty() {
                    let _ = write!(s, "; the requirement is non-linear: {}", self.hard.join(", "));
                }
                Answer::Unknown(s)
            }
        };
        // Z3 counts resources per context (one per thread) cumulatively, in 32 bits: this
        // query's work is the difference from the previous count.
        let used = match solver.get_statistics().value("rlimit count") {
            Some(z3::StatisticsValue::UInt(now)) => LAST_COUNT.with(|last| {
                let delta = now.wrapping_sub(last.get());
                last.set(now);
                u64::from(delta)
            }),
            _ => u64::from(rlimit),
        };
        (answer, used)
    }
}

impl Encoded {
    /// The value as an exact rational (for comparisons across copies).
    fn num(&self) -> Q {
        self.value.num()
    }

    /// The value as a formula (a Bool requirement).
    pub fn holds(&self) -> Bool {
        self.value.bool()
    }
}

struct Cx<'e, 'p> {
    enc: &'e mut Encoder<'p>,
    copy: usize,
    locals: Vec<Option<T>>,
}

/// A civil date: year, month, day.
struct Civil {
    y: Int,
    m: Int,
    d: Int,
}

impl Cx<'_, '_> {
    fn block(&mut self, b: &crate::ir::Block) -> (T, Bool) {
        let mut oks = Vec::new();
        for bind in &b.bindings {
            let (v, ok) = self.expr(&bind.value);
            let i = bind.local.0 as usize;
            if self.locals.len() <= i {
                self.locals.resize(i + 1, None);
            }
            self.locals[i] = Some(v);
            oks.push(ok);
        }
        let (v, ok) = self.expr(&b.result);
        oks.push(ok);
        (v, Bool::and(&oks))
    }

    fn civil(&mut self, day: &Int) -> Civil {
        if day.as_i64().is_none() && self.enc.hard.len() < 4 && !self.enc.hard.iter().any(|h| h.starts_with("date arithmetic")) {
            self.enc.hard.push("date arithmetic on dates that depend on the record (decomposed into year, month and day)".into());
        }
        // A constant date (an as-of date, a date literal) is decomposed now.
        if let Some(d) = day.as_i64()
            && calendar::pol_year(d) != calendar::INVALID
        {
            return Civil { y: int(calendar::pol_year(d)), m: int(calendar::pol_month(d)), d: int(calendar::pol_day(d)) };
        }
        let n = self.enc.defs.len();
        let c = Civil {
            y: Int::new_const(format!("cy{}_{n}", self.copy)),
            m: Int::new_const(format!("cm{}_{n}", self.copy)),
            d: Int::new_const(format!("cd{}_{n}", self.copy)),
        };
        let def = Bool::and(&[
            between(&c.m, 1, 12),
            c.d.ge(int(1)),
            c.d.le(days_in_month(&c.y, &c.m)),
            day.eq(days_from_civil(&c.y, &c.m, &c.d)),
        ]);
        self.enc.defs.push(def);
        c
    }

    fn valid_day(day: &Int) -> Bool {
        between(day, calendar::MIN_DAY, calendar::MAX_DAY)
    }

    /// Whole months from `a` to `b` for `a <= b` (a month counts once its day is reached).
    fn months_forward(a: &Civil, b: &Civil) -> Int {
        let years = Int::mul(&[Int::sub(&[b.y.clone(), a.y.clone()]), int(12)]);
        let short = b.d.lt(&a.d).ite(&int(1), &int(0));
        Int::sub(&[Int::add(&[years, b.m.clone()]), a.m.clone(), short])
    }

    fn months_between(&mut self, from: &Int, to: &Int) -> (Int, Bool) {
        let (a, b) = (self.civil(from), self.civil(to));
        let v = to.lt(from).ite(&Self::months_forward(&b, &a).unary_minus(), &Self::months_forward(&a, &b));
        (v, Bool::and(&[Self::valid_day(from), Self::valid_day(to)]))
    }

    fn call(&mut self, func: Builtin, args: &[Int]) -> (Int, Bool) {
        match func {
            Builtin::MonthsBetween => self.months_between(&args[0], &args[1]),
            Builtin::AgeYears => {
                let (m, ok) = self.months_between(&args[0], &args[1]);
                (m.div(int(12)), ok)
            }
            Builtin::AddMonths => {
                let c = self.civil(&args[0]);
                let total = Int::add(&[Int::mul(&[c.y.clone(), int(12)]), c.m.clone(), int(-1), args[1].clone()]);
                let ny = total.div(int(12));
                let nm = Int::add(&[total.modulo(int(12)), int(1)]);
                let dim = days_in_month(&ny, &nm);
                let nd = c.d.gt(&dim).ite(&dim, &c.d);
                let ok = Bool::and(&[Self::valid_day(&args[0]), between(&args[1], -120_000, 120_000), between(&ny, 1, 9999)]);
                (days_from_civil(&ny, &nm, &nd), ok)
            }
            Builtin::Year | Builtin::Month | Builtin::Day => {
                let c = self.civil(&args[0]);
                let v = match func {
                    Builtin::Year => c.y,
                    Builtin::Month => c.m,
                    _ => c.d,
                };
                (v, Self::valid_day(&args[0]))
            }
            Builtin::MakeDate => {
                let (y, m, d) = (&args[0], &args[1], &args[2]);
                let ok = Bool::and(&[between(y, 1, 9999), between(m, 1, 12), d.ge(int(1)), d.le(days_in_month(y, m))]);
                (days_from_civil(y, m, d), ok)
            }
        }
    }

    /// A calendar function of one input (every other argument a constant, as in
    /// `age(r.birth_date, at: 2026-01-01)`) as the step function it is over that input's
    /// domain: `f(lo) + Σ [x >= start_k] × jump_k`, the steps found by evaluating the
    /// interpreter's own calendar function on every day of the domain. `None` when the domain
    /// is too wide or the steps too many; the caller then decomposes dates exactly.
    fn piecewise(&mut self, func: Builtin, args: &[Expr]) -> Option<(T, Bool)> {
        const MAX_SPAN: i128 = 120_000;
        const MAX_STEPS: usize = 2_000;
        let mut fixed = [0i64; 3];
        let mut var = None;
        for (i, a) in args.iter().enumerate() {
            match a {
                Expr::ConstI(c) => fixed[i] = *c,
                Expr::Input(x) if var.is_none() => var = Some((i, x.0 as usize)),
                _ => return None,
            }
        }
        let (pos, input) = var?;
        let (lo, hi) = *self.enc.domain.get(input)?;
        if hi - lo > MAX_SPAN {
            return None;
        }
        let at = |x: i128| {
            let mut v = fixed;
            v[pos] = x as i64;
            interp::call_builtin(func, &v)
        };
        let first = at(lo);
        if first == calendar::INVALID {
            return None;
        }
        let mut steps: Vec<(i64, i64)> = Vec::new();
        let mut prev = first;
        for x in lo + 1..=hi {
            let v = at(x);
            if v == calendar::INVALID || steps.len() > MAX_STEPS {
                return None;
            }
            if v != prev {
                steps.push((x as i64, v - prev));
                prev = v;
            }
        }
        let x = self.enc.copies[self.copy][input].clone();
        let mut terms = vec![int(first)];
        for (start, jump) in steps {
            terms.push(x.ge(int(start)).ite(&int(jump), &int(0)));
        }
        Some((T::I(Int::add(&terms)), Bool::from_bool(true)))
    }

    fn note_product(&mut self, what: &str, a: &Expr, b: &Expr) {
        let constant = |e: &Expr| matches!(e, Expr::ConstI(_) | Expr::ConstN(_));
        if !constant(a) && !constant(b) && self.enc.hard.len() < 4 {
            self.enc.hard.push(what.to_string());
        }
    }

    fn expr(&mut self, e: &Expr) -> (T, Bool) {
        let yes = || Bool::from_bool(true);
        match e {
            Expr::ConstI(i) => (T::I(int(*i)), yes()),
            Expr::ConstN(n) => (T::N(Q::constant(*n)), yes()),
            Expr::Input(i) => (T::I(self.enc.copies[self.copy][i.0 as usize].clone()), yes()),
            Expr::Local(l) => match self.locals.get(l.0 as usize).cloned().flatten() {
                Some(v) => (v, yes()),
                // The IR's dominance rule (checked by the JIT's validator) rules this out; an
                // unbound local makes nothing provable.
                None => (T::I(Int::fresh_const("unbound")), Bool::from_bool(false)),
            },
            Expr::ToNum { arg, den } => {
                let (a, ok) = self.expr(arg);
                (T::N(Q::Scaled(a.int(), *den)), ok)
            }
            Expr::RoundInt { arg, mode, .. } => {
                let (a, ok) = self.expr(arg);
                let n = a.num().round(*mode);
                let fits = in_i64(&n);
                (T::I(n), Bool::and(&[ok, fits]))
            }
            Expr::RoundTo { arg, quantum, mode, .. } => {
                let (a, ok) = self.expr(arg);
                let q = Q::constant(*quantum);
                let k = Q::div(&a.num(), &q, Some(*quantum)).round(*mode);
                let fits = in_i64(&k);
                (T::N(Q::mul(&Q::integer(k), &q)), Bool::and(&[ok, fits]))
            }
            Expr::Arith { op, repr: Repr::I64, a, b, .. } => {
                let (x, okx) = self.expr(a);
                let (y, oky) = self.expr(b);
                let (x, y) = (x.int(), y.int());
                let (v, extra) = match op {
                    ArithOp::Add => (Int::add(&[x, y]), yes()),
                    ArithOp::Sub => (Int::sub(&[x, y]), yes()),
                    ArithOp::Mul => {
                        self.note_product("a product of two integer inputs", a, b);
                        (Int::mul(&[x, y]), yes())
                    }
                    ArithOp::Div => (floor_div(&x, &y), y.ne(int(0))),
                    ArithOp::Rem => {
                        let q = floor_div(&x, &y);
                        let overflow = Bool::and(&[x.eq(int(i64::MIN)), y.eq(int(-1))]);
                        (Int::sub(&[x, Int::mul(&[y.clone(), q])]), Bool::and(&[y.ne(int(0)), overflow.not()]))
                    }
                };
                let fits = in_i64(&v);
                (T::I(v), Bool::and(&[okx, oky, extra, fits]))
            }
            Expr::Arith { op, repr: Repr::Num, a, b, .. } => {
                let (x, okx) = self.expr(a);
                let (y, oky) = self.expr(b);
                let (x, y) = (x.num(), y.num());
                let divisor = match **b {
                    Expr::ConstN(f) => Some(f),
                    Expr::ConstI(i) => Some(Frac::int(i)),
                    _ => None,
                };
                let (v, extra) = match op {
                    ArithOp::Add => (Q::add(&x, &y), yes()),
                    ArithOp::Sub => (Q::sub(&x, &y), yes()),
                    ArithOp::Mul => {
                        self.note_product("a product of two amounts that both depend on the record", a, b);
                        (Q::mul(&x, &y), yes())
                    }
                    ArithOp::Div => {
                        if divisor.is_none() && self.enc.hard.len() < 4 {
                            self.enc.hard.push("a division by an amount that depends on the record".into());
                        }
                        let nonzero = Q::compare(CmpOp::Ne, &y, &Q::integer(int(0)));
                        (Q::div(&x, &y, divisor), nonzero)
                    }
                    // The interpreter faults on a remainder of fractions (never lowered).
                    ArithOp::Rem => (x, Bool::from_bool(false)),
                };
                (T::N(v), Bool::and(&[okx, oky, extra]))
            }
            Expr::Neg { repr, arg, .. } => {
                let (x, ok) = self.expr(arg);
                match repr {
                    Repr::I64 => {
                        let v = x.int().unary_minus();
                        let fits = in_i64(&v);
                        (T::I(v), Bool::and(&[ok, fits]))
                    }
                    Repr::Num => (T::N(x.num().neg()), ok),
                }
            }
            Expr::Cmp { op, repr, a, b, .. } => {
                let (x, okx) = self.expr(a);
                let (y, oky) = self.expr(b);
                let v = match repr {
                    Repr::I64 => compare_ints(*op, &x.int(), &y.int()),
                    Repr::Num => Q::compare(*op, &x.num(), &y.num()),
                };
                (T::B(v), Bool::and(&[okx, oky]))
            }
            Expr::MinMax { max, repr, a, b, .. } => {
                let (x, okx) = self.expr(a);
                let (y, oky) = self.expr(b);
                let ok = Bool::and(&[okx, oky]);
                // The first operand on ties, as the interpreter.
                match repr {
                    Repr::I64 => {
                        let (x, y) = (x.int(), y.int());
                        let pick_b = compare_ints(if *max { CmpOp::Gt } else { CmpOp::Lt }, &y, &x);
                        (T::I(pick_b.ite(&y, &x)), ok)
                    }
                    Repr::Num => {
                        let (x, y) = (x.num(), y.num());
                        let pick_b = Q::compare(if *max { CmpOp::Gt } else { CmpOp::Lt }, &y, &x);
                        (T::N(Q::ite(&pick_b, &y, &x)), ok)
                    }
                }
            }
            Expr::Not(a) => {
                let (x, ok) = self.expr(a);
                (T::B(x.bool().not()), ok)
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let (x, okx) = self.expr(a);
                let (y, oky) = self.expr(b);
                let (x, y) = (x.bool(), y.bool());
                let is_and = matches!(e, Expr::And(..));
                // `b` runs only when `a` is true (and) or false (or).
                let runs_b = if is_and { x.clone() } else { x.not() };
                let ok = Bool::and(&[okx, runs_b.implies(&oky)]);
                let v = if is_and { Bool::and(&[x, y]) } else { Bool::or(&[x, y]) };
                (T::B(v), ok)
            }
            Expr::If { repr, cond, then, els } => {
                let (c, okc) = self.expr(cond);
                let (t, okt) = self.expr(then);
                let (f, okf) = self.expr(els);
                let c = c.bool();
                let ok = Bool::and(&[okc, c.ite(&okt, &okf)]);
                let v = match (repr, &t, &f) {
                    (Repr::I64, T::B(x), T::B(y)) => T::B(c.ite(x, y)),
                    (Repr::I64, _, _) => T::I(c.ite(&t.int(), &f.int())),
                    (Repr::Num, _, _) => T::N(Q::ite(&c, &t.num(), &f.num())),
                };
                (v, ok)
            }
            Expr::Call { func, args, .. } => {
                if let Some(encoded) = self.piecewise(*func, args) {
                    return encoded;
                }
                let mut oks = Vec::new();
                let mut vals = Vec::new();
                for a in args {
                    let (v, ok) = self.expr(a);
                    vals.push(v.int());
                    oks.push(ok);
                }
                let (v, ok) = self.call(*func, &vals);
                oks.push(ok);
                (T::I(v), Bool::and(&oks))
            }
            Expr::TableGet { table, key, .. } => {
                let (k, okk) = self.expr(key);
                let k = k.int();
                let t = &self.enc.program.tables[table.0 as usize];
                let present = match (t.dense_start(), t.keys.last()) {
                    (Some(k0), Some(kn)) => between(&k, k0, *kn),
                    _ => Bool::or(&t.keys.iter().map(|x| k.eq(int(*x))).collect::<Vec<_>>()),
                };
                let cell = |c: &Const| match (t.repr, c) {
                    (Repr::I64, Const::I(i)) => T::I(int(*i)),
                    (_, c) => T::N(Q::constant(c.to_frac())),
                };
                // An if-chain from the last row to the first; a missing key faults.
                let mut acc = match t.values.last() {
                    Some(v) => cell(v),
                    None => return (T::I(int(0)), Bool::from_bool(false)),
                };
                for (key, v) in t.keys.iter().zip(&t.values).rev().skip(1) {
                    let hit = k.eq(int(*key));
                    acc = match (cell(v), acc) {
                        (T::N(a), b) => T::N(Q::ite(&hit, &a, &b.num())),
                        (a, T::N(b)) => T::N(Q::ite(&hit, &a.num(), &b)),
                        (a, b) => T::I(hit.ite(&a.int(), &b.int())),
                    };
                }
                (acc, Bool::and(&[okk, present]))
            }
            Expr::Block(b) => self.block(b),
        }
    }
}

/// How many counter-examples that overflow the interpreter's 128-bit arithmetic are set aside
/// before the answer is "unknown".
const MAX_SET_ASIDE: usize = 8;

/// What the interpreter says of a model.
enum Confirm {
    /// It breaks the requirement: a real counter-example.
    Breaks,
    /// The interpreter faults on it (a 128-bit overflow the encoding does not model): no result,
    /// so no counter-example; set aside.
    Faults,
    /// It meets the requirement: the encoding disagrees with the interpreter.
    Meets(String),
}

/// One way of asking: an encoding, the query on it, the solver, and its share of the query's
/// units (in twentieths; the last attempt gets what is left).
struct Attempt<'e, 'p> {
    enc: &'e Encoder<'p>,
    oks: Vec<&'e Encoded>,
    violation: Bool,
    strategy: Strategy,
    share: u32,
}

/// Asks for inputs making a violation true, attempt after attempt while the answer is unknown
/// (a portfolio: Z3's heuristics suit different rules, and on the schemes under `policies/`
/// each attempt alone takes seconds on some file that another decides in milliseconds; every
/// attempt is bounded in units, so the portfolio is deterministic), until the interpreter
/// confirms a counter-example or the solver shows there is none.
fn solve(attempts: &[Attempt], budget: &Budget, confirm: impl Fn(&[Vec<i64>]) -> Confirm) -> Verdict {
    let mut blocked: Vec<Vec<Vec<i64>>> = Vec::new();
    let mut why = String::new();
    'ask: while blocked.len() < MAX_SET_ASIDE {
        let Some(limit) = budget.next_limit() else {
            return Verdict::Unknown { why: "the proof budget of this file is spent".into() };
        };
        let mut left = limit;
        for (i, at) in attempts.iter().enumerate() {
            let units = if i + 1 == attempts.len() { left } else { (limit / 20).saturating_mul(at.share).min(left) };
            let (answer, used) = at.enc.decide(at.strategy, &at.oks, &at.violation, &blocked, units);
            budget.spend(used);
            left = left.saturating_sub(used.min(u64::from(u32::MAX)) as u32);
            match answer {
                Answer::Unsat => return Verdict::Proven,
                Answer::Unknown(w) => why = w,
                Answer::Sat(cells) => match confirm(&cells) {
                    Confirm::Breaks => return Verdict::Refuted { records: cells },
                    Confirm::Faults => {
                        blocked.push(cells);
                        continue 'ask;
                    }
                    Confirm::Meets(why) => return Verdict::Internal { why },
                },
            }
        }
        return Verdict::Unknown { why };
    }
    Verdict::Unknown { why: "every counter-example the solver found overflows the interpreter's 128-bit exact arithmetic".into() }
}

/// Decides a per-record requirement (output 0 of `program`, a Bool) exactly.
pub fn decide_one(program: &Program, budget: &Budget) -> Verdict {
    let Some(out) = program.outputs.first() else { return Verdict::Proven };
    let mut enc = Encoder::new(program, 1);
    let req = enc.output(out, 0);
    let violation = req.holds().not();
    let attempts = [
        Attempt { enc: &enc, oks: vec![&req], violation: violation.clone(), strategy: Strategy::SmtCore, share: 1 },
        Attempt { enc: &enc, oks: vec![&req], violation, strategy: Strategy::Default, share: 19 },
    ];
    solve(&attempts, budget, |cells| match interp::eval_output(program, out, &cells[0]) {
        Ok(Const::I(0)) => Confirm::Breaks,
        Ok(_) => Confirm::Meets(format!("the solver's counter-example {:?} meets the requirement in the interpreter", cells[0])),
        Err(_) => Confirm::Faults,
    })
}

/// The two-record query on an encoder with two copies: the copies ordered in `input` (and
/// equal elsewhere, unless they share variables), and the values moving the wrong way.
fn monotone_violation(enc: &mut Encoder, out: &Output, input: usize, nondecreasing: bool) -> (Encoded, Encoded, Bool) {
    let a = enc.output(out, 0);
    let b = enc.output(out, 1);
    let mut conds: Vec<Bool> = (0..enc.program.inputs.len())
        .map(|j| if j == input { enc.input(0, j).lt(enc.input(1, j)) } else { enc.input(0, j).eq(enc.input(1, j)) })
        .collect();
    conds.push(Q::compare(if nondecreasing { CmpOp::Gt } else { CmpOp::Lt }, &a.num(), &b.num()));
    (a, b, Bool::and(&conds))
}

/// Decides a two-record requirement: output 0 of `program` (a number) never decreases
/// (`nondecreasing`) or never increases as input `input` grows, every other input equal.
/// Two encodings: the second record sharing the first's variables (what both compute alike is
/// one term), then with its own variables constrained equal.
pub fn decide_monotone(program: &Program, input: usize, nondecreasing: bool, budget: &Budget) -> Verdict {
    let Some(out) = program.outputs.first() else { return Verdict::Proven };
    let mut shared = Encoder::new_pair(program, input);
    let (sa, sb, sv) = monotone_violation(&mut shared, out, input, nondecreasing);
    let mut apart = Encoder::new(program, 2);
    let (pa, pb, pv) = monotone_violation(&mut apart, out, input, nondecreasing);
    let attempts = [
        Attempt { enc: &shared, oks: vec![&sa, &sb], violation: sv, strategy: Strategy::SmtCore, share: 1 },
        Attempt { enc: &apart, oks: vec![&pa, &pb], violation: pv, strategy: Strategy::Default, share: 19 },
    ];
    solve(&attempts, budget, |cells| {
        let values = (interp::eval_output(program, out, &cells[0]), interp::eval_output(program, out, &cells[1]));
        let (Ok(x), Ok(y)) = values else { return Confirm::Faults };
        match x.to_frac().cmp(y.to_frac()) {
            Ok(o) if (nondecreasing && o.is_gt()) || (!nondecreasing && o.is_lt()) => Confirm::Breaks,
            Ok(_) => Confirm::Meets(format!("the solver's pair {:?} meets the requirement in the interpreter", cells)),
            Err(_) => Confirm::Faults,
        }
    })
}
