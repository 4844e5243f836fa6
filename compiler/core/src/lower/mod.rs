//! Lowering: a checked module at an as-of date → IR. Parameters are resolved for the date and
//! folded to constants, tables become constant arrays, rule calls are inlined, `match` becomes
//! a chain of `if`s and `brackets` a sum of clamped bands. Every named Money value (a `let`, a
//! rule's result, a parameter) is rounded to the fen here, half away from zero.

use crate::check::{self, BuiltinFn, FileIdx, Module, ParamId, RuleId, TExpr, TKind, TPattern, Ty};
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

/// A lowered record value: bindings to evaluate first, then one expression per field (in the
/// field's named representation).
struct RecVal {
    prelude: Vec<Binding>,
    fields: Vec<Expr>,
}

impl RecVal {
    fn plain(fields: Vec<Expr>) -> RecVal {
        RecVal { prelude: Vec::new(), fields }
    }
}

/// Where an inlined rule call left its result, for later calls with the same arguments.
#[derive(Clone, Debug)]
enum CachedCall {
    Scalar(LocalId),
    Record(Vec<LocalId>),
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
    /// Results of rule calls already inlined, by callee and arguments, one scope per lazily
    /// evaluated branch: a later call reuses the local of an earlier one only where the
    /// earlier one is certainly evaluated first, so sharing never evaluates anything the
    /// source would not, and a program grows linearly with its source instead of doubling
    /// with each level of calls.
    calls: Vec<HashMap<String, CachedCall>>,
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
            calls: vec![HashMap::new()],
        }
    }

    /// Records a case believed impossible; the lowering then yields no program, so the
    /// expression returned in its place is never evaluated.
    fn internal(&mut self, span: Span, what: &str) -> Expr {
        let d = Diagnostic::internal("lowering", what, span);
        self.fail(self.file, d);
        Expr::ConstI(i64::MIN)
    }

    /// A framework's call of a slot that no scheme implements here (the framework lowered on
    /// its own): there is no rule to evaluate.
    fn unimplemented_slot(&mut self, slot: u32, span: Span) -> Expr {
        let name = self.m.slots.get(slot as usize).map(|s| s.name.clone()).unwrap_or_default();
        let d = Diagnostic::new(
            &codes::BAD_CALL,
            format!("slot `{name}` has no implementation here"),
            span,
            "each scheme implements this slot",
        )
        .with_help("evaluate the framework's rules through a scheme that implements its slots");
        self.fail(self.file, d);
        Expr::ConstI(i64::MIN)
    }

    /// Starts a fresh frame of locals: nothing cached from another frame may be reused.
    fn reset_frame(&mut self) {
        self.next_local = 0;
        self.calls = vec![HashMap::new()];
    }

    /// Lowers `f` as a lazily evaluated branch: calls first inlined inside it are not
    /// reused after it.
    fn lazily<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.calls.push(HashMap::new());
        let out = f(self);
        self.calls.pop();
        out
    }

    fn cached_call(&self, key: &str) -> Option<CachedCall> {
        self.calls.iter().rev().find_map(|scope| scope.get(key).cloned())
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
        // Only the start of the span is shown, so only the start is read: the spans of a long
        // sum nest, and reading each whole would make lowering quadratic.
        let text = src.map(|s| s.slice(span)).unwrap_or("");
        let head = match text.char_indices().nth(240) {
            Some((i, _)) => &text[..i],
            None => text,
        };
        let mut snippet = head.split_whitespace().collect::<Vec<_>>().join(" ");
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
                    Diagnostic::new(
                        &codes::NO_AS_OF,
                        format!("`{}` has dated values but no as-of date is known", info.name),
                        use_span,
                        "which value applies?",
                    )
                    .with_help("add `as of YYYY-MM-DD` to the test, pass `--as-of`, or give the scheme an `effective` date"),
                );
                return Const::I(0);
            }
            (Some(d), true) => {
                if let Some(until) = info.until
                    && d > until
                {
                    self.fail(
                        self.file,
                        Diagnostic::new(
                            &codes::PAST_HORIZON,
                            format!(
                                "`{}` is used on {} past its horizon {}",
                                info.name,
                                crate::calendar::format_date(d),
                                crate::calendar::format_date(until)
                            ),
                            use_span,
                            "no value published for this date",
                        )
                        .with_help("add the value for this date to the parameter"),
                    );
                }
                values.iter().rev().find(|v| v.from.is_none_or(|f| f <= d))
            }
        };
        let Some(chosen) = chosen else {
            let first = values.first().and_then(|v| v.from).map(crate::calendar::format_date).unwrap_or_default();
            let d = self.as_of.map(crate::calendar::format_date).unwrap_or_default();
            let d = Diagnostic::new(
                &codes::BEFORE_FIRST_DATE,
                if values.is_empty() {
                    format!("`{}` has no value", info.name)
                } else {
                    format!("`{}` has no value on {d}: its first value applies from {first}", info.name)
                },
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
        let saved_calls = std::mem::replace(&mut self.calls, vec![HashMap::new()]);
        self.file = vfile;
        self.rule = info.name.clone();
        let e = self.named(&value, ty, &HashMap::new());
        self.file = saved_file;
        self.rule = saved_rule;
        self.calls = saved_calls;
        let c = self.eval_const(e, value.span);
        self.params.insert(p.0, c);
        c
    }

    /// Evaluates a closed expression now (parameter values, table values).
    fn eval_const(&mut self, e: Expr, span: Span) -> Const {
        // The tables and sites are lent to the program and taken back, not copied: a table of
        // n rows evaluates n constants, and copying would make that quadratic.
        let program = ir::Program {
            name: String::new(),
            as_of: self.as_of.unwrap_or(0),
            inputs: vec![],
            tables: std::mem::take(&mut self.tables),
            outputs: vec![],
            sites: std::mem::take(&mut self.sites),
            aggregates: vec![],
        };
        let block = Block { bindings: vec![], result: e };
        let result = interp::eval_block(&program, &block, self.next_local, &[]).map_err(|f| (f, program.describe_fault(f)));
        self.tables = program.tables;
        self.sites = program.sites;
        match result {
            Ok(c) => c,
            Err((f, msg)) => {
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
        let saved_calls = std::mem::replace(&mut self.calls, vec![HashMap::new()]);
        self.file = info.loc.file;
        self.rule = info.name.clone();
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for (k, v) in &info.rows {
            // Each row is evaluated in a frame of its own: nothing is shared between rows.
            self.calls = vec![HashMap::new()];
            let e = self.named(v, info.value_ty, &HashMap::new());
            let c = self.eval_const(e, v.span);
            keys.push(*k);
            values.push(c);
        }
        self.file = saved_file;
        self.rule = saved_rule;
        self.calls = saved_calls;
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
                Some(Val::Record(_)) => self.internal(e.span, "a record-valued local used as a single value"),
                None => self.internal(e.span, "a local with no value in scope"),
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
                let rv = self.record(base, env);
                let x = match rv.fields.get(*i) {
                    Some(x) => wrap(&rv.prelude, x.clone()),
                    None => self.internal(e.span, "a field beyond the record's fields"),
                };
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
            TKind::SlotCall(slot, _) => self.unimplemented_slot(*slot, e.span),
            TKind::Builtin(b, args) => self.builtin(*b, args, e, env),
            TKind::Record(..) => self.internal(e.span, "a record literal where a single value is expected"),
            TKind::Error => self.internal(e.span, "an expression that did not type-check"),
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
                let then = self.lazily(|s| {
                    let x = s.scalar(t, env);
                    s.as_repr(x, t.ty, repr)
                });
                let els = self.lazily(|s| {
                    let x = s.scalar(f, env);
                    s.as_repr(x, f.ty, repr)
                });
                Expr::If { repr, cond: bx(cond), then: bx(then), els: bx(els) }
            }
            TKind::Match { scrutinee, arms } => {
                let repr = expr_repr(e.ty);
                self.match_expr(scrutinee.as_deref(), arms, e.span, repr, env, |s, _, body| {
                    let x = s.scalar(body, env);
                    s.as_repr(x, body.ty, repr)
                })
            }
            TKind::Brackets { value, bands } => self.brackets(value, bands, e, env),
        }
    }

    /// Lowers a record-valued expression: a record local, a literal, a call of a rule that
    /// returns a record, or an `if`/`match` choosing between records (field by field).
    fn record(&mut self, e: &TExpr, env: &HashMap<u32, Val>) -> RecVal {
        let width = match e.ty {
            Ty::Record(r) => self.m.records[r.0 as usize].fields.len(),
            _ => 0,
        };
        match &e.kind {
            TKind::Local(l) => match env.get(l) {
                Some(Val::Record(f)) => RecVal::plain(f.clone()),
                _ => {
                    let x = self.internal(e.span, "a record local with no record value in scope");
                    RecVal::plain(vec![x; width])
                }
            },
            TKind::Record(r, fields) => {
                // A record literal evaluates all its fields, in order, before any is read: a
                // call shared between two fields is then bound wherever either is used.
                let tys: Vec<Ty> = self.m.records[r.0 as usize].fields.iter().map(|f| f.ty).collect();
                let mut prelude = Vec::new();
                let mut out = Vec::with_capacity(fields.len());
                for (f, ty) in fields.iter().zip(tys) {
                    let x = self.named(f, ty, env);
                    if is_plain(&x) {
                        out.push(x);
                    } else {
                        let local = self.fresh();
                        prelude.push(Binding { local, repr: named_repr(ty), value: x, trace: None });
                        out.push(Expr::Local(local));
                    }
                }
                RecVal { prelude, fields: out }
            }
            TKind::SlotCall(slot, _) => RecVal::plain(vec![self.unimplemented_slot(*slot, e.span); width]),
            TKind::Call(r, args) => match self.call_value(*r, args, env) {
                Inlined::Record(rv) => rv,
                Inlined::Scalar(_) => {
                    let x = self.internal(e.span, "a rule with a single-value result used as a record");
                    RecVal::plain(vec![x; width])
                }
            },
            TKind::If(c, t, f) => {
                let cond = self.scalar(c, env);
                let local = self.fresh();
                let prelude = vec![Binding { local, repr: Repr::I64, value: cond, trace: None }];
                let tv = self.lazily(|s| s.record(t, env));
                let fv = self.lazily(|s| s.record(f, env));
                let reprs = self.field_reprs(e.ty);
                let then_fields = self.wrap_fields(&tv.prelude, tv.fields);
                let else_fields = self.wrap_fields(&fv.prelude, fv.fields);
                let fields = then_fields
                    .into_iter()
                    .zip(else_fields)
                    .zip(reprs)
                    .map(|((a, b), repr)| Expr::If { repr, cond: bx(Expr::Local(local)), then: bx(a), els: bx(b) })
                    .collect();
                RecVal { prelude, fields }
            }
            TKind::Match { scrutinee, arms } => {
                // The arm that applies is chosen once (as its index); each field then picks
                // that arm's field, so the conditions are not repeated per field.
                let mut values: Vec<Vec<Expr>> = Vec::new();
                for arm in arms {
                    let v = self.lazily(|s| s.record(&arm.body, env));
                    let fields = self.wrap_fields(&v.prelude, v.fields);
                    values.push(fields);
                }
                let chosen = self.match_expr(scrutinee.as_deref(), arms, e.span, Repr::I64, env, |_, k, _| Expr::ConstI(k as i64));
                let local = self.fresh();
                let prelude = vec![Binding { local, repr: Repr::I64, value: chosen, trace: None }];
                let reprs = self.field_reprs(e.ty);
                let mut fields = Vec::with_capacity(width);
                for (i, repr) in reprs.into_iter().enumerate() {
                    let mut acc: Option<Expr> = None;
                    for (k, v) in values.iter().enumerate().rev() {
                        let Some(x) = v.get(i).cloned() else { continue };
                        acc = Some(match acc {
                            None => x,
                            Some(rest) => {
                                let site = self.site(e.span);
                                let cond = Expr::Cmp {
                                    op: CmpOp::Eq,
                                    repr: Repr::I64,
                                    a: bx(Expr::Local(local)),
                                    b: bx(Expr::ConstI(k as i64)),
                                    site,
                                };
                                Expr::If { repr, cond: bx(cond), then: bx(x), els: bx(rest) }
                            }
                        });
                    }
                    let field = match acc {
                        Some(x) => x,
                        None => self.internal(e.span, "a record-valued match with no arms"),
                    };
                    fields.push(field);
                }
                RecVal { prelude, fields }
            }
            _ => {
                let x = self.internal(e.span, "an expression that is not a record used as one");
                RecVal::plain(vec![x; width])
            }
        }
    }

    /// The named representation of each field of a record type.
    fn field_reprs(&self, ty: Ty) -> Vec<Repr> {
        match ty {
            Ty::Record(r) => self.m.records[r.0 as usize].fields.iter().map(|f| named_repr(f.ty)).collect(),
            _ => Vec::new(),
        }
    }

    /// Evaluates a record value once: its prelude and every field that is not already a
    /// plain value are bound to locals in `bindings`, and the fields are returned as those
    /// locals. `trace` names the bound fields (`name.field`) for `pol trace`.
    fn bind_record(&mut self, rv: RecVal, ty: Ty, bindings: &mut Vec<Binding>, trace: Option<(&str, u32, Option<String>)>) -> Vec<Expr> {
        bindings.extend(rv.prelude);
        let Ty::Record(r) = ty else { return rv.fields };
        let rec = &self.m.records[r.0 as usize];
        let mut out = Vec::with_capacity(rv.fields.len());
        for (x, f) in rv.fields.into_iter().zip(&rec.fields) {
            if is_plain(&x) && trace.is_none() {
                out.push(x);
                continue;
            }
            let local = self.fresh();
            let info = trace.as_ref().map(|(name, line, cite)| TraceInfo {
                name: format!("{name}.{}", f.name),
                rule: self.rule.clone(),
                file: self.sources.get(self.file.0 as usize).map(|s| s.name.clone()).unwrap_or_default(),
                line: *line,
                cite: cite.clone(),
                ty: scalar_ty(self.m, f.ty),
            });
            bindings.push(Binding { local, repr: named_repr(f.ty), value: x, trace: info });
            out.push(Expr::Local(local));
        }
        out
    }

    /// Inlines a rule call as a block whose result is the rule's named value.
    fn call(&mut self, r: RuleId, args: &[TExpr], env: &HashMap<u32, Val>) -> Expr {
        match self.call_value(r, args, env) {
            Inlined::Scalar(x) => x,
            Inlined::Record(_) => {
                let span = self.m.rule(r).loc.span;
                self.internal(span, "a rule with a record result used as a single value")
            }
        }
    }

    /// Binds a call's arguments and inlines the callee, or reuses the result of the same call
    /// evaluated earlier on every path to this one.
    fn call_value(&mut self, r: RuleId, args: &[TExpr], env: &HashMap<u32, Val>) -> Inlined {
        let info = self.m.rule(r);
        let mut bindings = Vec::new();
        let mut callee_env: HashMap<u32, Val> = HashMap::new();
        let mut key = Some(format!("{}", r.0));
        for (i, (a, p)) in args.iter().zip(&info.locals).enumerate() {
            if matches!(p.ty, Ty::Record(_)) {
                let rv = self.record(a, env);
                let fields = self.bind_record(rv, p.ty, &mut bindings, None);
                for f in &fields {
                    extend_key(&mut key, f);
                }
                callee_env.insert(i as u32, Val::Record(fields));
            } else {
                let v = self.named(a, p.ty, env);
                extend_key(&mut key, &v);
                if is_plain(&v) {
                    callee_env.insert(i as u32, Val::Scalar(v));
                } else {
                    let local = self.fresh();
                    bindings.push(Binding { local, repr: named_repr(p.ty), value: v, trace: None });
                    callee_env.insert(i as u32, Val::Scalar(Expr::Local(local)));
                }
            }
        }
        if let Some(k) = &key {
            match self.cached_call(k) {
                Some(CachedCall::Scalar(l)) if bindings.is_empty() => return Inlined::Scalar(Expr::Local(l)),
                Some(CachedCall::Record(ls)) if bindings.is_empty() => {
                    return Inlined::Record(RecVal::plain(ls.into_iter().map(Expr::Local).collect()));
                }
                _ => {}
            }
        }
        let body = self.rule_body(r, callee_env);
        bindings.extend(body.bindings);
        let (cached, result) = match body.result {
            BodyResult::Scalar(l) => {
                (CachedCall::Scalar(l), Inlined::Scalar(Expr::Block(Box::new(Block { bindings, result: Expr::Local(l) }))))
            }
            BodyResult::Record(ls) => (
                CachedCall::Record(ls.clone()),
                Inlined::Record(RecVal { prelude: bindings, fields: ls.into_iter().map(Expr::Local).collect() }),
            ),
        };
        if let (Some(k), Some(scope)) = (key, self.calls.last_mut()) {
            scope.insert(k, cached);
        }
        result
    }

    /// A rule's body with its parameters bound by `env`: its lets as traced bindings and its
    /// named result as final traced bindings (one per field for a record result).
    fn rule_body(&mut self, r: RuleId, mut env: HashMap<u32, Val>) -> Body {
        let info = self.m.rule(r);
        let saved =
            (self.file, std::mem::replace(&mut self.rule, info.name.clone()), std::mem::replace(&mut self.rule_cite, info.cite.clone()));
        self.file = info.loc.file;
        let mut bindings = Vec::new();
        for l in &info.lets {
            let ty = info.locals[l.local as usize].ty;
            let name = info.locals[l.local as usize].name.clone();
            let line = self.line(l.span);
            let cite = l.cite.clone().or_else(|| info.cite.clone());
            if matches!(ty, Ty::Record(_)) {
                let rv = self.record(&l.value, &env);
                let fields = self.bind_record(rv, ty, &mut bindings, Some((&name, line, cite)));
                env.insert(l.local, Val::Record(fields));
                continue;
            }
            let v = self.named(&l.value, ty, &env);
            let local = self.fresh();
            let trace = TraceInfo {
                name,
                rule: info.name.clone(),
                file: self.sources.get(self.file.0 as usize).map(|s| s.name.clone()).unwrap_or_default(),
                line,
                cite,
                ty: scalar_ty(self.m, ty),
            };
            bindings.push(Binding { local, repr: named_repr(ty), value: v, trace: Some(trace) });
            env.insert(l.local, Val::Scalar(Expr::Local(local)));
        }
        let line = self.line(info.loc.span);
        let result = if matches!(info.ret, Ty::Record(_)) {
            let rv = self.record(&info.result, &env);
            let fields = self.bind_record(rv, info.ret, &mut bindings, Some((&info.name, line, info.cite.clone())));
            let locals = fields.iter().filter_map(|f| if let Expr::Local(l) = f { Some(*l) } else { None }).collect();
            BodyResult::Record(locals)
        } else {
            let result = self.named(&info.result, info.ret, &env);
            let local = self.fresh();
            let trace = TraceInfo {
                name: info.name.clone(),
                rule: info.name.clone(),
                file: self.sources.get(self.file.0 as usize).map(|s| s.name.clone()).unwrap_or_default(),
                line,
                cite: info.cite.clone(),
                ty: scalar_ty(self.m, info.ret),
            };
            bindings.push(Binding { local, repr: named_repr(info.ret), value: result, trace: Some(trace) });
            BodyResult::Scalar(local)
        };
        (self.file, self.rule, self.rule_cite) = saved;
        Body { bindings, result }
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
                let xs: Vec<Expr> = args
                    .iter()
                    .map(|a| {
                        let x = self.scalar(a, env);
                        self.as_repr(x, a.ty, repr)
                    })
                    .collect();
                let Ok::<[Expr; 3], _>([x, lo, hi]) = xs.try_into() else {
                    return self.internal(e.span, "`clamp` without exactly three arguments");
                };
                let s1 = self.site(e.span);
                let s2 = self.site(e.span);
                Expr::MinMax {
                    max: false,
                    repr,
                    a: bx(Expr::MinMax { max: true, repr, a: bx(x), b: bx(lo), site: s1 }),
                    b: bx(hi),
                    site: s2,
                }
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
                    Some(c) => c.to_frac(),
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
                let x = self.scalar(a, env);
                let y = self.lazily(|s| s.scalar(b, env));
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

    /// Lowers a `match` as a chain of `if`s, each arm's body given by `body` (called with the
    /// arm's index); `repr` is the representation `body` returns.
    fn match_expr(
        &mut self,
        scrutinee: Option<&TExpr>,
        arms: &[check::TArm],
        span: Span,
        repr: Repr,
        env: &HashMap<u32, Val>,
        mut body: impl FnMut(&mut Self, usize, &TExpr) -> Expr,
    ) -> Expr {
        let mut bindings = Vec::new();
        let subject = scrutinee.map(|s| {
            let x = self.scalar(s, env);
            let local = self.fresh();
            bindings.push(Binding { local, repr: expr_repr(s.ty), value: x, trace: None });
            (Expr::Local(local), s.ty)
        });
        // Build the chain from the last arm backwards; the last arm is the default (the checker
        // proved the arms exhaustive over the declared domain). Every arm but the first is
        // reached only when the earlier ones fail, so each is lowered as a lazy branch.
        let mut acc: Option<Expr> = None;
        // Lowering runs backwards while evaluation runs forwards, so the body, the pattern
        // test and the guard of each arm are separate lazy branches: no call inlined in one is
        // reused in another.
        for (k, arm) in arms.iter().enumerate().rev() {
            let value = self.lazily(|s| body(s, k, &arm.body));
            let Some(rest) = acc else {
                acc = Some(value);
                continue;
            };
            let mut cond = self.lazily(|s| s.pattern_test(&arm.pattern, subject.as_ref(), env, arm.span));
            if let Some(g) = &arm.guard {
                let g = self.lazily(|s| s.scalar(g, env));
                cond = match cond {
                    Some(c) => Some(Expr::And(bx(c), bx(g))),
                    None => Some(g),
                };
            }
            acc = Some(match cond {
                None => value,
                Some(c) => Expr::If { repr, cond: bx(c), then: bx(value), els: bx(rest) },
            });
        }
        let result = match acc {
            Some(x) => x,
            None => self.internal(span, "a match with no arms"),
        };
        if bindings.is_empty() { result } else { Expr::Block(Box::new(Block { bindings, result })) }
    }

    /// The test of a pattern against the subject; `None` always matches.
    fn pattern_test(&mut self, p: &TPattern, subject: Option<&(Expr, Ty)>, env: &HashMap<u32, Val>, span: Span) -> Option<Expr> {
        let cmp = |s: &mut Self, op: CmpOp, v: &TExpr| -> Expr {
            let Some((x, sty)) = subject.cloned() else {
                return s.internal(span, "a comparison pattern in a match without a subject");
            };
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
    fn into_program(
        self,
        name: &str,
        inputs: Vec<ir::Input>,
        outputs: Vec<ir::Output>,
        aggregates: Vec<pol_kernel::AggregateSpec>,
    ) -> Result<ir::Program, Vec<LowerError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(ir::Program {
            name: name.to_string(),
            as_of: self.as_of.unwrap_or(0),
            inputs,
            tables: self.tables,
            outputs,
            sites: self.sites,
            aggregates,
        })
    }

    /// Lowers the statements of a test for evaluation: each expression is lowered in an
    /// environment of the test's earlier `let`s (which are evaluated eagerly by the caller).
    pub fn lower_closed(&mut self, e: &TExpr, env_values: &HashMap<u32, ClosedVal>) -> Block {
        let env: HashMap<u32, Val> = env_values.iter().map(|(k, v)| (*k, v.to_val())).collect();
        self.reset_frame();
        let result = self.scalar(e, &env);
        Block { bindings: vec![], result }
    }

    /// Like [`Lowerer::lower_closed`], giving the value its named representation (a `let`).
    pub fn lower_closed_named(&mut self, e: &TExpr, ty: Ty, env_values: &HashMap<u32, ClosedVal>) -> Block {
        let env: HashMap<u32, Val> = env_values.iter().map(|(k, v)| (*k, v.to_val())).collect();
        self.reset_frame();
        let result = self.named(e, ty, &env);
        Block { bindings: vec![], result }
    }

    /// Lowers the record value of an expression (a test's record literal), each field named.
    pub fn lower_record(&mut self, e: &TExpr, env_values: &HashMap<u32, ClosedVal>) -> Vec<Expr> {
        let env: HashMap<u32, Val> = env_values.iter().map(|(k, v)| (*k, v.to_val())).collect();
        self.reset_frame();
        let rv = self.record(e, &env);
        self.wrap_fields(&rv.prelude, rv.fields)
    }

    pub fn set_context(&mut self, file: FileIdx, rule: &str) {
        self.file = file;
        self.rule = rule.to_string();
        self.rule_cite = None;
    }

    /// A snapshot of the program built so far (tables and sites), to evaluate closed blocks.
    pub fn snapshot(&self) -> ir::Program {
        ir::Program {
            name: String::new(),
            as_of: self.as_of.unwrap_or(0),
            inputs: vec![],
            tables: self.tables.clone(),
            outputs: vec![],
            sites: self.sites.clone(),
            aggregates: vec![],
        }
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

/// How a rule call was inlined.
enum Inlined {
    Scalar(Expr),
    Record(RecVal),
}

/// Where a rule body leaves its named result.
enum BodyResult {
    Scalar(LocalId),
    Record(Vec<LocalId>),
}

/// A rule body: its bindings and where they leave the result.
struct Body {
    bindings: Vec<Binding>,
    result: BodyResult,
}

/// `x` evaluated after `prelude`.
fn wrap(prelude: &[Binding], x: Expr) -> Expr {
    if prelude.is_empty() { x } else { Expr::Block(Box::new(Block { bindings: prelude.to_vec(), result: x })) }
}

impl Lowerer<'_> {
    /// Field expressions each evaluated after its own copy of `prelude`. Every copy after the
    /// first binds fresh locals (a local is bound once per program).
    fn wrap_fields(&mut self, prelude: &[Binding], fields: Vec<Expr>) -> Vec<Expr> {
        let mut out = Vec::with_capacity(fields.len());
        for (i, x) in fields.into_iter().enumerate() {
            let mut e = wrap(prelude, x);
            if i > 0 && !prelude.is_empty() {
                let mut renamed = HashMap::new();
                self.rename_bound(&mut e, &mut renamed);
            }
            out.push(e);
        }
        out
    }

    /// Gives every local bound inside `e` a fresh number, and updates its uses.
    fn rename_bound(&mut self, e: &mut Expr, renamed: &mut HashMap<u32, LocalId>) {
        match e {
            Expr::Local(l) => {
                if let Some(n) = renamed.get(&l.0) {
                    *l = *n;
                }
            }
            Expr::Block(b) => {
                for binding in &mut b.bindings {
                    self.rename_bound(&mut binding.value, renamed);
                    let fresh = self.fresh();
                    renamed.insert(binding.local.0, fresh);
                    binding.local = fresh;
                    // The original copy is the one `pol trace` lists.
                    binding.trace = None;
                }
                self.rename_bound(&mut b.result, renamed);
            }
            _ => e.for_each_child_mut(&mut |c| self.rename_bound(c, renamed)),
        }
    }
}

/// A value that costs nothing to repeat: a constant, an input or a local, possibly converted.
fn is_plain(e: &Expr) -> bool {
    match e {
        Expr::ConstI(_) | Expr::ConstN(_) | Expr::Input(_) | Expr::Local(_) => true,
        Expr::ToNum { arg, .. } | Expr::RoundInt { arg, .. } => is_plain(arg),
        _ => false,
    }
}

/// Extends a call's cache key with one argument; an argument that is not plain makes the call
/// uncacheable (its value would have to be compared as a program).
fn extend_key(key: &mut Option<String>, e: &Expr) {
    use std::fmt::Write;
    let Some(k) = key else { return };
    fn atom(k: &mut String, e: &Expr) -> bool {
        match e {
            Expr::ConstI(i) => write!(k, " i{i}").is_ok(),
            Expr::ConstN(n) => write!(k, " n{}/{}", n.num, n.den).is_ok(),
            Expr::Input(i) => write!(k, " in{}", i.0).is_ok(),
            Expr::Local(l) => write!(k, " l{}", l.0).is_ok(),
            Expr::ToNum { arg, den } => write!(k, " num/{den}").is_ok() && atom(k, arg),
            Expr::RoundInt { arg, mode, .. } => write!(k, " round{mode:?}").is_ok() && atom(k, arg),
            _ => false,
        }
    }
    if !atom(k, e) {
        *key = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case the lowering believes impossible is an internal error (E9001), never a value.
    #[test]
    fn an_unexpected_expression_is_an_internal_error_not_a_value() {
        let m = Module::default();
        let mut lw = Lowerer::new(&m, &[], None);
        let _ = lw.scalar(&TExpr::error(Span::new(3, 7)), &HashMap::new());
        let errors = lw.take_errors();
        assert_eq!(errors.len(), 1);
        let d = &errors[0].diagnostic;
        assert_eq!(d.code, codes::INTERNAL.code);
        assert_eq!((d.primary.span.start, d.primary.span.end), (3, 7));
        assert!(d.notes.iter().any(|n| n.contains("bug in pol")), "{d:?}");
    }
}
