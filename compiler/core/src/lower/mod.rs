//! Lowering: a checked module at an as-of date → IR. Parameters are resolved for the date and
//! folded to constants, tables become constant arrays, rule calls are inlined, `match` becomes
//! a chain of `if`s and `brackets` a sum of clamped bands. Every named Money value (a `let`, a
//! rule's result, a parameter) is rounded to the fen here, half away from zero.

use crate::check::{self, BuiltinFn, FileIdx, Module, ParamId, RuleId, TKind, TPattern, TExpr, Ty};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::exact::{Frac, RoundMode};
use crate::interp;
use crate::ir::{self, ArithOp, Binding, Block, Builtin, CmpOp, Const, Expr, LocalId, Repr, ScalarTy, SiteId, TraceInfo};
use crate::span::{SourceFile, Span};
use crate::syntax::ast::{BinOp, RangeKind};
use std::collections::HashMap;

mod program;
pub use program::{input_cell, lower_program, lower_requirement};

/// Why lowering failed: diagnostics located in one of the module's files.
#[derive(Debug)]
pub struct LowerError {
    pub file: FileIdx,
    pub diagnostic: Diagnostic,
}

/// A value in the lowering environment: a scalar expression or a record's field expressions.
#[derive(Clone, Debug)]
enum Val {
    Scalar(Expr),
    Record(Vec<Expr>),
}

pub struct Lowerer<'a> {
    m: &'a Module,
    sources: &'a [SourceFile],
    as_of: Option<i64>,
    pub(crate) sites: Vec<ir::Site>,
    tables: Vec<ir::Table>,
    table_ids: HashMap<u32, ir::TableId>,
    params: HashMap<u32, Const>,
    next_local: u32,
    errors: Vec<LowerError>,
    /// The file and rule being lowered, for sites and traces.
    file: FileIdx,
    rule: String,
    rule_cite: Option<String>,
}

/// The representation a value of a type has inside an expression.
pub fn expr_repr(ty: Ty) -> Repr {
    match ty {
        Ty::Money(_) | Ty::Rate | Ty::Decimal => Repr::Num,
        _ => Repr::I64,
    }
}

/// The representation a *named* value of a type has (Money rounded to fen).
pub fn named_repr(ty: Ty) -> Repr {
    match ty {
        Ty::Rate | Ty::Decimal => Repr::Num,
        _ => Repr::I64,
    }
}

pub fn scalar_ty(m: &Module, ty: Ty) -> ScalarTy {
    match ty {
        Ty::Money(_) => ScalarTy::Money,
        Ty::Rate | Ty::Decimal => ScalarTy::Decimal { scale: ir::DECIMAL_COLUMN_SCALE },
        Ty::Bool => ScalarTy::Bool,
        Ty::Date => ScalarTy::Date,
        Ty::Months => ScalarTy::Months,
        Ty::Enum(e) => {
            let info = &m.enums[e.0 as usize];
            ScalarTy::Enum { name: info.name.clone(), variants: info.variants.clone() }
        }
        _ => ScalarTy::Int,
    }
}

fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl<'a> Lowerer<'a> {
    pub fn new(m: &'a Module, sources: &'a [SourceFile], as_of: Option<i64>) -> Lowerer<'a> {
        Lowerer {
            m,
            sources,
            as_of,
            sites: Vec::new(),
            tables: Vec::new(),
            table_ids: HashMap::new(),
            params: HashMap::new(),
            next_local: 0,
            errors: Vec::new(),
            file: m.main_file(),
            rule: String::new(),
            rule_cite: None,
        }
    }

    fn fail(&mut self, file: FileIdx, d: Diagnostic) {
        if !self.errors.iter().any(|e| e.diagnostic == d) {
            self.errors.push(LowerError { file, diagnostic: d });
        }
    }

    fn fresh(&mut self) -> LocalId {
        let l = LocalId(self.next_local);
        self.next_local += 1;
        l
    }

    fn site(&mut self, span: Span) -> SiteId {
        let src = self.sources.get(self.file.0 as usize);
        let (line, column) = src.map(|s| s.line_col(span.start)).unwrap_or((0, 0));
        let mut snippet: String = src.map(|s| s.slice(span).to_string()).unwrap_or_default();
        snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        if snippet.chars().count() > 60 {
            snippet = snippet.chars().take(57).collect::<String>() + "...";
        }
        let file = src.map(|s| s.name.clone()).unwrap_or_default();
        self.sites.push(ir::Site { rule: self.rule.clone(), file, line, column, snippet, cite: self.rule_cite.clone() });
        SiteId(self.sites.len() as u32 - 1)
    }

    fn line(&self, span: Span) -> u32 {
        self.sources.get(self.file.0 as usize).map(|s| s.line_col(span.start).0).unwrap_or(0)
    }

    /// The value of a parameter at the as-of date, as a named constant.
    fn param_value(&mut self, p: ParamId, use_span: Span) -> Const {
        if let Some(c) = self.params.get(&p.0) {
            return *c;
        }
        let info = &self.m.params[p.0 as usize];
        let values = &info.values;
        let dated = values.iter().any(|v| v.from.is_some()) || info.until.is_some();
        let chosen = match (self.as_of, dated) {
            (_, false) => values.first(),
            (None, true) => {
                self.fail(
                    self.file,
                    Diagnostic::new(&codes::NO_AS_OF, format!("`{}` has dated values but no as-of date is known", info.name), use_span, "which value applies?")
                        .with_help("add `as of YYYY-MM-DD` to the test, pass `--as-of`, or give the scheme an `effective` date"),
                );
                return Const::I(0);
            }
            (Some(d), true) => {
                if let Some(until) = info.until {
                    if d > until {
                        self.fail(
                            self.file,
                            Diagnostic::new(&codes::PAST_HORIZON, format!("`{}` is used on {} past its horizon {}", info.name, crate::calendar::format_date(d), crate::calendar::format_date(until)), use_span, "no value published for this date")
                                .with_help("add the value for this date to the parameter"),
                        );
                    }
                }
                values.iter().rev().find(|v| v.from.is_none_or(|f| f <= d))
            }
        };
        let Some(chosen) = chosen else {
            let first = values.first().and_then(|v| v.from).map(crate::calendar::format_date).unwrap_or_default();
            let d = self.as_of.map(crate::calendar::format_date).unwrap_or_default();
            let d = Diagnostic::new(
                &codes::BEFORE_FIRST_DATE,
                if values.is_empty() { format!("`{}` has no value", info.name) } else { format!("`{}` has no value on {d}: its first value applies from {first}", info.name) },
                use_span,
                "used here",
            );
            self.fail(self.file, d);
            return Const::I(0);
        };
        let value = chosen.value.clone();
        let ty = info.ty;
        let vfile = info.values_file;
        let (saved_file, saved_rule) = (self.file, std::mem::take(&mut self.rule));
        self.file = vfile;
        self.rule = info.name.clone();
        let e = self.named(&value, ty, &HashMap::new());
        self.file = saved_file;
        self.rule = saved_rule;
        let c = self.eval_const(e, value.span);
        self.params.insert(p.0, c);
        c
    }

    /// Evaluates a closed expression now (parameter values, table values).
    fn eval_const(&mut self, e: Expr, span: Span) -> Const {
        let program = ir::Program {
            name: String::new(),
            as_of: self.as_of.unwrap_or(0),
            inputs: vec![],
            tables: self.tables.clone(),
            outputs: vec![],
            sites: self.sites.clone(),
            aggregates: vec![],
        };
        let block = Block { bindings: vec![], result: e };
        match interp::eval_block(&program, &block, self.next_local, &[]) {
            Ok(c) => c,
            Err(f) => {
                let msg = program.describe_fault(f);
                self.fail(self.file, Diagnostic::new(f.kind.code_info(), format!("constant cannot be evaluated: {msg}"), span, "here"));
                Const::I(0)
            }
        }
    }

    fn table(&mut self, t: check::TableId) -> ir::TableId {
        if let Some(id) = self.table_ids.get(&t.0) {
            return *id;
        }
        let info = &self.m.tables[t.0 as usize];
        let repr = named_repr(info.value_ty);
        let (saved_file, saved_rule) = (self.file, std::mem::take(&mut self.rule));
        self.file = info.loc.file;
        self.rule = info.name.clone();
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for (k, v) in &info.rows {
            let e = self.named(v, info.value_ty, &HashMap::new());
            let c = self.eval_const(e, v.span);
            keys.push(*k);
            values.push(c);
        }
        self.file = saved_file;
        self.rule = saved_rule;
        let id = ir::TableId(self.tables.len() as u32);
        self.tables.push(ir::Table { name: info.name.clone(), repr, keys, values });
        self.table_ids.insert(t.0, id);
        id
    }

    /// Lowers an expression and gives it its *named* representation (Money rounded to fen).
    fn named(&mut self, e: &TExpr, ty: Ty, env: &HashMap<u32, Val>) -> Expr {
        let x = self.scalar(e, env);
        match ty {
            Ty::Money(_) => {
                let site = self.site(e.span);
                Expr::RoundInt { arg: bx(self.as_repr(x, e.ty, Repr::Num)), mode: RoundMode::HalfAwayFromZero, site }
            }
            Ty::Rate | Ty::Decimal => self.as_repr(x, e.ty, Repr::Num),
            _ => x,
        }
    }

    /// Converts an expression lowered for type `ty` to `want`.
    fn as_repr(&mut self, x: Expr, ty: Ty, want: Repr) -> Expr {
        let have = expr_repr(ty);
        match (have, want) {
            (Repr::I64, Repr::Num) => match x {
                Expr::ConstI(i) => Expr::ConstN(Frac::int(i)),
                x => Expr::ToNum { arg: bx(x), den: 1 },
            },
            _ => x,
        }
    }

    fn num(&mut self, e: &TExpr, env: &HashMap<u32, Val>) -> Expr {
        let x = self.scalar(e, env);
        self.as_repr(x, e.ty, Repr::Num)
    }

    /// Lowers a scalar expression in the representation `expr_repr(e.ty)`.
    fn scalar(&mut self, e: &TExpr, env: &HashMap<u32, Val>) -> Expr {
        match &e.kind {
            TKind::Const(c) => match (c, expr_repr(e.ty)) {
                (Const::I(i), Repr::Num) => Expr::ConstN(Frac::int(*i)),
                (Const::I(i), Repr::I64) => Expr::ConstI(*i),
                (Const::N(n), _) => Expr::ConstN(*n),
            },
            TKind::Local(l) => match env.get(l) {
                Some(Val::Scalar(x)) => x.clone(),
                _ => Expr::ConstI(0),
            },
            TKind::Param(p) => {
                let c = self.param_value(*p, e.span);
                match (c, expr_repr(e.ty)) {
                    (Const::I(i), Repr::Num) => Expr::ToNum { arg: bx(Expr::ConstI(i)), den: 1 },
                    (Const::I(i), Repr::I64) => Expr::ConstI(i),
                    (Const::N(n), _) => Expr::ConstN(n),
                }
            }
            TKind::Field(base, i) => {
                let fields = self.record(base, env);
                let x = fields.get(*i).cloned().unwrap_or(Expr::ConstI(0));
                // Named Money fields are fen (I64); inside expressions money is Num.
                if matches!(e.ty, Ty::Money(_)) { Expr::ToNum { arg: bx(x), den: 1 } } else { x }
            }
            TKind::TableGet(t, key) => {
                let id = self.table(*t);
                let k = self.scalar(key, env);
                let site = self.site(e.span);
                let get = Expr::TableGet { table: id, key: bx(k), site };
                if matches!(e.ty, Ty::Money(_)) { Expr::ToNum { arg: bx(get), den: 1 } } else { get }
            }
            TKind::Call(r, args) => {
                let x = self.call(*r, args, env);
                if matches!(e.ty, Ty::Money(_)) { Expr::ToNum { arg: bx(x), den: 1 } } else { x }
            }
            TKind::Builtin(b, args) => self.builtin(*b, args, e, env),
            TKind::Record(..) | TKind::Error => Expr::ConstI(0),
            TKind::Neg(a) => {
                let repr = expr_repr(e.ty);
                let x = self.scalar(a, env);
                let x = self.as_repr(x, a.ty, repr);
                let site = self.site(e.span);
                Expr::Neg { repr, arg: bx(x), site }
            }
            TKind::Not(a) => Expr::Not(bx(self.scalar(a, env))),
            TKind::Binary(op, a, b) => self.binary(*op, a, b, e, env),
            TKind::If(c, t, f) => {
                let repr = expr_repr(e.ty);
                let cond = self.scalar(c, env);
                let then = self.scalar(t, env);
                let then = self.as_repr(then, t.ty, repr);
                let els = self.scalar(f, env);
                let els = self.as_repr(els, f.ty, repr);
                Expr::If { repr, cond: bx(cond), then: bx(then), els: bx(els) }
            }
            TKind::Match { scrutinee, arms } => self.match_expr(scrutinee.as_deref(), arms, e, env),
            TKind::Brackets { value, bands } => self.brackets(value, bands, e, env),
        }
    }

    fn record(&mut self, e: &TExpr, env: &HashMap<u32, Val>) -> Vec<Expr> {
        match &e.kind {
            TKind::Local(l) => match env.get(l) {
                Some(Val::Record(f)) => f.clone(),
                _ => Vec::new(),
            },
            TKind::Record(r, fields) => {
                let tys: Vec<Ty> = self.m.records[r.0 as usize].fields.iter().map(|f| f.ty).collect();
                fields.iter().zip(tys).map(|(f, ty)| self.named(f, ty, env)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Inlines a rule call as a block; the result is the rule's named value.
    fn call(&mut self, r: RuleId, args: &[TExpr], env: &HashMap<u32, Val>) -> Expr {
        let info = self.m.rule(r);
        let mut bindings = Vec::new();
        let mut callee_env: HashMap<u32, Val> = HashMap::new();
        for (i, (a, p)) in args.iter().zip(&info.locals).enumerate() {
            if matches!(p.ty, Ty::Record(_)) {
                callee_env.insert(i as u32, Val::Record(self.record(a, env)));
            } else {
                let v = self.named(a, p.ty, env);
                let local = self.fresh();
                bindings.push(Binding { local, repr: named_repr(p.ty), value: v, trace: None });
                callee_env.insert(i as u32, Val::Scalar(Expr::Local(local)));
            }
        }
        let body = self.rule_body(r, callee_env);
        bindings.extend(body.bindings);
        Expr::Block(Box::new(Block { bindings, result: body.result }))
    }

    /// A rule's body with its parameters bound by `env`: its lets as traced bindings and its
    /// named result as a final traced binding.
    fn rule_body(&mut self, r: RuleId, mut env: HashMap<u32, Val>) -> Block {
        let info = self.m.rule(r);
        let saved = (self.file, std::mem::replace(&mut self.rule, info.name.clone()), std::mem::replace(&mut self.rule_cite, info.cite.clone()));
        self.file = info.loc.file;
        let mut bindings = Vec::new();
        for l in &info.lets {
            let ty = info.locals[l.local as usize].ty;
            let v = self.named(&l.value, ty, &env);
            let local = self.fresh();
            let trace = TraceInfo {
                name: info.locals[l.local as usize].name.clone(),
                rule: info.name.clone(),
                line: self.line(l.span),
                cite: l.cite.clone().or_else(|| info.cite.clone()),
                ty: scalar_ty(self.m, ty),
            };
            bindings.push(Binding { local, repr: named_repr(ty), value: v, trace: Some(trace) });
            env.insert(l.local, Val::Scalar(Expr::Local(local)));
        }
        let result = self.named(&info.result, info.ret, &env);
        let local = self.fresh();
        let trace = TraceInfo { name: info.name.clone(), rule: info.name.clone(), line: self.line(info.loc.span), cite: info.cite.clone(), ty: scalar_ty(self.m, info.ret) };
        bindings.push(Binding { local, repr: named_repr(info.ret), value: result, trace: Some(trace) });
        (self.file, self.rule, self.rule_cite) = saved;
        Block { bindings, result: Expr::Local(local) }
    }

    fn builtin(&mut self, b: BuiltinFn, args: &[TExpr], e: &TExpr, env: &HashMap<u32, Val>) -> Expr {
        let repr = expr_repr(e.ty);
        let call = |s: &mut Self, func: Builtin, args: Vec<Expr>| {
            let site = s.site(e.span);
            Expr::Call { func, args, site }
        };
        match b {
            BuiltinFn::Min | BuiltinFn::Max => {
                let mut acc = self.scalar(&args[0], env);
                acc = self.as_repr(acc, args[0].ty, repr);
                for a in &args[1..] {
                    let x = self.scalar(a, env);
                    let x = self.as_repr(x, a.ty, repr);
                    let site = self.site(e.span);
                    acc = Expr::MinMax { max: b == BuiltinFn::Max, repr, a: bx(acc), b: bx(x), site };
                }
                acc
            }
            BuiltinFn::Clamp => {
                let xs: Vec<Expr> = args.iter().map(|a| {
                    let x = self.scalar(a, env);
                    self.as_repr(x, a.ty, repr)
                }).collect();
                let mut it = xs.into_iter();
                let (x, lo, hi) = (it.next().unwrap_or(Expr::ConstI(0)), it.next().unwrap_or(Expr::ConstI(0)), it.next().unwrap_or(Expr::ConstI(0)));
                let s1 = self.site(e.span);
                let s2 = self.site(e.span);
                Expr::MinMax { max: false, repr, a: bx(Expr::MinMax { max: true, repr, a: bx(x), b: bx(lo), site: s1 }), b: bx(hi), site: s2 }
            }
            BuiltinFn::Abs => {
                let x = self.scalar(&args[0], env);
                let local = self.fresh();
                let zero = if repr == Repr::Num { Expr::ConstN(Frac::ZERO) } else { Expr::ConstI(0) };
                let (s1, s2) = (self.site(e.span), self.site(e.span));
                Expr::Block(Box::new(Block {
                    bindings: vec![Binding { local, repr, value: x, trace: None }],
                    result: Expr::If {
                        repr,
                        cond: bx(Expr::Cmp { op: CmpOp::Lt, repr, a: bx(Expr::Local(local)), b: bx(zero), site: s1 }),
                        then: bx(Expr::Neg { repr, arg: bx(Expr::Local(local)), site: s2 }),
                        els: bx(Expr::Local(local)),
                    },
                }))
            }
            BuiltinFn::Round(mode) => {
                let x = self.num(&args[0], env);
                let quantum = match args.get(1).and_then(|q| check::fold(self.m, q)) {
                    Some(c) => check::as_frac(c),
                    None => Frac::ONE,
                };
                let site = self.site(e.span);
                Expr::RoundTo { arg: bx(x), quantum, mode, site }
            }
            BuiltinFn::Age | BuiltinFn::YearsBetween => {
                let xs = args.iter().map(|a| self.scalar(a, env)).collect();
                call(self, Builtin::AgeYears, xs)
            }
            BuiltinFn::MonthsBetween => {
                let xs = args.iter().map(|a| self.scalar(a, env)).collect();
                call(self, Builtin::MonthsBetween, xs)
            }
            BuiltinFn::AddMonths => {
                let xs = args.iter().map(|a| self.scalar(a, env)).collect();
                call(self, Builtin::AddMonths, xs)
            }
            BuiltinFn::Year | BuiltinFn::Month | BuiltinFn::Day => {
                let f = match b {
                    BuiltinFn::Year => Builtin::Year,
                    BuiltinFn::Month => Builtin::Month,
                    _ => Builtin::Day,
                };
                let xs = args.iter().map(|a| self.scalar(a, env)).collect();
                call(self, f, xs)
            }
            BuiltinFn::MakeDate => {
                let xs = args.iter().map(|a| self.scalar(a, env)).collect();
                call(self, Builtin::MakeDate, xs)
            }
            BuiltinFn::WholeYears | BuiltinFn::RemainingMonths => {
                let m = self.scalar(&args[0], env);
                let op = if b == BuiltinFn::WholeYears { ArithOp::Div } else { ArithOp::Rem };
                let site = self.site(e.span);
                Expr::Arith { op, repr: Repr::I64, a: bx(m), b: bx(Expr::ConstI(12)), site }
            }
            BuiltinFn::Years => {
                let m = self.scalar(&args[0], env);
                Expr::ToNum { arg: bx(m), den: 12 }
            }
            BuiltinFn::MonthsOf => self.scalar(&args[0], env),
            BuiltinFn::Floor | BuiltinFn::Ceil => {
                let x = self.num(&args[0], env);
                let mode = if b == BuiltinFn::Floor { RoundMode::Down } else { RoundMode::Up };
                let site = self.site(e.span);
                Expr::RoundInt { arg: bx(x), mode, site }
            }
            BuiltinFn::Div | BuiltinFn::Rem => {
                let x = self.scalar(&args[0], env);
                let y = self.scalar(&args[1], env);
                let op = if b == BuiltinFn::Div { ArithOp::Div } else { ArithOp::Rem };
                let site = self.site(e.span);
                Expr::Arith { op, repr: Repr::I64, a: bx(x), b: bx(y), site }
            }
            BuiltinFn::ToMonthly | BuiltinFn::ToYearly => {
                let x = self.num(&args[0], env);
                let op = if b == BuiltinFn::ToMonthly { ArithOp::Div } else { ArithOp::Mul };
                let site = self.site(e.span);
                Expr::Arith { op, repr: Repr::Num, a: bx(x), b: bx(Expr::ConstN(Frac::int(12))), site }
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &TExpr, b: &TExpr, e: &TExpr, env: &HashMap<u32, Val>) -> Expr {
        match op {
            BinOp::And | BinOp::Or => {
                let (x, y) = (self.scalar(a, env), self.scalar(b, env));
                if op == BinOp::And { Expr::And(bx(x), bx(y)) } else { Expr::Or(bx(x), bx(y)) }
            }
            _ if op.is_comparison() => {
                let repr = if expr_repr(a.ty) == Repr::Num || expr_repr(b.ty) == Repr::Num { Repr::Num } else { Repr::I64 };
                let x = self.scalar(a, env);
                let x = self.as_repr(x, a.ty, repr);
                let y = self.scalar(b, env);
                let y = self.as_repr(y, b.ty, repr);
                let site = self.site(e.span);
                Expr::Cmp { op: cmp_op(op), repr, a: bx(x), b: bx(y), site }
            }
            BinOp::Add | BinOp::Sub if e.ty == Ty::Date => {
                let (date, months, negate) = if a.ty == Ty::Date { (a, b, op == BinOp::Sub) } else { (b, a, false) };
                let d = self.scalar(date, env);
                let mut m = self.scalar(months, env);
                if negate {
                    let site = self.site(e.span);
                    m = Expr::Neg { repr: Repr::I64, arg: bx(m), site };
                }
                let site = self.site(e.span);
                Expr::Call { func: Builtin::AddMonths, args: vec![d, m], site }
            }
            _ => {
                let repr = expr_repr(e.ty);
                let x = self.scalar(a, env);
                let x = self.as_repr(x, a.ty, repr);
                let y = self.scalar(b, env);
                let y = self.as_repr(y, b.ty, repr);
                let aop = match op {
                    BinOp::Add => ArithOp::Add,
                    BinOp::Sub => ArithOp::Sub,
                    BinOp::Mul => ArithOp::Mul,
                    _ => ArithOp::Div,
                };
                let site = self.site(e.span);
                Expr::Arith { op: aop, repr, a: bx(x), b: bx(y), site }
            }
        }
    }

    fn match_expr(&mut self, scrutinee: Option<&TExpr>, arms: &[check::TArm], e: &TExpr, env: &HashMap<u32, Val>) -> Expr {
        let repr = expr_repr(e.ty);
        let mut bindings = Vec::new();
        let subject = scrutinee.map(|s| {
            let x = self.scalar(s, env);
            let local = self.fresh();
            bindings.push(Binding { local, repr: expr_repr(s.ty), value: x, trace: None });
            (Expr::Local(local), s.ty)
        });
        // Build the chain from the last arm backwards; the last arm is the default (the checker
        // proved the arms exhaustive over the declared domain).
        let mut acc: Option<Expr> = None;
        for arm in arms.iter().rev() {
            let body = self.scalar(&arm.body, env);
            let body = self.as_repr(body, arm.body.ty, repr);
            let Some(rest) = acc else {
                acc = Some(body);
                continue;
            };
            let mut cond = self.pattern_test(&arm.pattern, subject.as_ref(), env, arm.span);
            if let Some(g) = &arm.guard {
                let g = self.scalar(g, env);
                cond = match cond {
                    Some(c) => Some(Expr::And(bx(c), bx(g))),
                    None => Some(g),
                };
            }
            acc = Some(match cond {
                None => body,
                Some(c) => Expr::If { repr, cond: bx(c), then: bx(body), els: bx(rest) },
            });
        }
        let result = acc.unwrap_or(Expr::ConstI(0));
        if bindings.is_empty() { result } else { Expr::Block(Box::new(Block { bindings, result })) }
    }

    /// The test of a pattern against the subject; `None` always matches.
    fn pattern_test(&mut self, p: &TPattern, subject: Option<&(Expr, Ty)>, env: &HashMap<u32, Val>, span: Span) -> Option<Expr> {
        let cmp = |s: &mut Self, op: CmpOp, v: &TExpr| -> Expr {
            let (x, sty) = subject.cloned().unwrap_or((Expr::ConstI(0), Ty::Int));
            let repr = if expr_repr(sty) == Repr::Num || expr_repr(v.ty) == Repr::Num { Repr::Num } else { Repr::I64 };
            let x = s.as_repr(x, sty, repr);
            let y = s.scalar(v, env);
            let y = s.as_repr(y, v.ty, repr);
            let site = s.site(span);
            Expr::Cmp { op, repr, a: bx(x), b: bx(y), site }
        };
        match p {
            TPattern::Else => None,
            TPattern::Range(lo, kind, hi) => {
                let a = cmp(self, CmpOp::Ge, lo);
                let b = cmp(self, if *kind == RangeKind::Inclusive { CmpOp::Le } else { CmpOp::Lt }, hi);
                Some(Expr::And(bx(a), bx(b)))
            }
            TPattern::Compare(op, v) => Some(cmp(self, cmp_op(*op), v)),
            TPattern::Value(v) => match subject {
                Some(_) => Some(cmp(self, CmpOp::Eq, v)),
                None => Some(self.scalar(v, env)),
            },
        }
    }

    fn brackets(&mut self, value: &TExpr, bands: &[(Option<TExpr>, TExpr)], e: &TExpr, env: &HashMap<u32, Val>) -> Expr {
        let vrepr = expr_repr(value.ty);
        let v = self.scalar(value, env);
        let vl = self.fresh();
        let zero = if vrepr == Repr::Num { Expr::ConstN(Frac::ZERO) } else { Expr::ConstI(0) };
        let mut total: Option<Expr> = None;
        let mut lower = zero.clone();
        for (upto, rate) in bands {
            let s = self.site(e.span);
            // Units in this band: clamp(v - lower, 0, upto - lower), or max(v - lower, 0) above.
            let over = Expr::Arith { op: ArithOp::Sub, repr: vrepr, a: bx(Expr::Local(vl)), b: bx(lower.clone()), site: s };
            let s = self.site(e.span);
            let mut units = Expr::MinMax { max: true, repr: vrepr, a: bx(over), b: bx(zero.clone()), site: s };
            if let Some(u) = upto {
                let ub = self.scalar(u, env);
                let ub = self.as_repr(ub, u.ty, vrepr);
                let s = self.site(e.span);
                let width = Expr::Arith { op: ArithOp::Sub, repr: vrepr, a: bx(ub.clone()), b: bx(lower.clone()), site: s };
                let s = self.site(e.span);
                units = Expr::MinMax { max: false, repr: vrepr, a: bx(units), b: bx(width), site: s };
                lower = ub;
            }
            let units = self.as_repr(units, value.ty, Repr::Num);
            let r = self.num(rate, env);
            let s = self.site(rate.span);
            let pay = Expr::Arith { op: ArithOp::Mul, repr: Repr::Num, a: bx(units), b: bx(r), site: s };
            total = Some(match total {
                None => pay,
                Some(t) => {
                    let s = self.site(e.span);
                    Expr::Arith { op: ArithOp::Add, repr: Repr::Num, a: bx(t), b: bx(pay), site: s }
                }
            });
        }
        let result = total.unwrap_or(Expr::ConstN(Frac::ZERO));
        Expr::Block(Box::new(Block { bindings: vec![Binding { local: vl, repr: vrepr, value: v, trace: None }], result }))
    }
}

fn cmp_op(op: BinOp) -> CmpOp {
    match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::Ne => CmpOp::Ne,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

/// A closed expression (a test's assertion or value) lowered with the given local values.
pub struct Lowered {
    pub program: ir::Program,
    pub block: Block,
    pub locals: u32,
}

impl<'a> Lowerer<'a> {
    fn into_program(self, name: &str, inputs: Vec<ir::Input>, outputs: Vec<ir::Output>, aggregates: Vec<pol_kernel::AggregateSpec>) -> Result<ir::Program, Vec<LowerError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(ir::Program { name: name.to_string(), as_of: self.as_of.unwrap_or(0), inputs, tables: self.tables, outputs, sites: self.sites, aggregates })
    }

    /// Lowers the statements of a test for evaluation: each expression is lowered in an
    /// environment of the test's earlier `let`s (which are evaluated eagerly by the caller).
    pub fn lower_closed(&mut self, e: &TExpr, env_values: &HashMap<u32, ClosedVal>) -> Block {
        let env: HashMap<u32, Val> = env_values.iter().map(|(k, v)| (*k, v.to_val())).collect();
        self.next_local = 0;
        let result = self.scalar(e, &env);
        Block { bindings: vec![], result }
    }

    /// Like [`Lowerer::lower_closed`], giving the value its named representation (a `let`).
    pub fn lower_closed_named(&mut self, e: &TExpr, ty: Ty, env_values: &HashMap<u32, ClosedVal>) -> Block {
        let env: HashMap<u32, Val> = env_values.iter().map(|(k, v)| (*k, v.to_val())).collect();
        self.next_local = 0;
        let result = self.named(e, ty, &env);
        Block { bindings: vec![], result }
    }

    /// Lowers the record value of an expression (a test's record literal), each field named.
    pub fn lower_record(&mut self, e: &TExpr, env_values: &HashMap<u32, ClosedVal>) -> Vec<Expr> {
        let env: HashMap<u32, Val> = env_values.iter().map(|(k, v)| (*k, v.to_val())).collect();
        self.record(e, &env)
    }

    pub fn set_context(&mut self, file: FileIdx, rule: &str) {
        self.file = file;
        self.rule = rule.to_string();
        self.rule_cite = None;
    }

    /// A snapshot of the program built so far (tables and sites), to evaluate closed blocks.
    pub fn snapshot(&self) -> ir::Program {
        ir::Program { name: String::new(), as_of: self.as_of.unwrap_or(0), inputs: vec![], tables: self.tables.clone(), outputs: vec![], sites: self.sites.clone(), aggregates: vec![] }
    }

    pub fn locals_used(&self) -> u32 {
        self.next_local
    }

    pub fn take_errors(&mut self) -> Vec<LowerError> {
        std::mem::take(&mut self.errors)
    }
}

/// The value of a test-level `let` after evaluation.
#[derive(Clone, Debug)]
pub enum ClosedVal {
    Scalar(Const),
    Record(Vec<Const>),
}

impl ClosedVal {
    fn to_val(&self) -> Val {
        match self {
            ClosedVal::Scalar(c) => Val::Scalar(const_expr(*c)),
            ClosedVal::Record(fs) => Val::Record(fs.iter().map(|c| const_expr(*c)).collect()),
        }
    }
}

fn const_expr(c: Const) -> Expr {
    match c {
        Const::I(i) => Expr::ConstI(i),
        Const::N(n) => Expr::ConstN(n),
    }
}
