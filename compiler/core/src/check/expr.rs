//! Type checking of expressions: names, fields, calls, operators with units, `if`, `match`
//! and `brackets`.

use super::Checker;
use super::consts::{fold, literal};
use super::module::*;
use super::types::{OpError, Ty, binary_result, join};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::exact::RoundMode;
use crate::ir::Const;
use crate::span::Span;
use crate::syntax::ast::{self, BinOp, ExprKind, Period};

fn texpr(kind: TKind, ty: Ty, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("min", BuiltinFn::Min),
    ("max", BuiltinFn::Max),
    ("clamp", BuiltinFn::Clamp),
    ("abs", BuiltinFn::Abs),
    ("round", BuiltinFn::Round(RoundMode::HalfAwayFromZero)),
    ("round_half_even", BuiltinFn::Round(RoundMode::HalfEven)),
    ("round_down", BuiltinFn::Round(RoundMode::Down)),
    ("round_up", BuiltinFn::Round(RoundMode::Up)),
    ("truncate", BuiltinFn::Round(RoundMode::TowardZero)),
    ("age", BuiltinFn::Age),
    ("months_between", BuiltinFn::MonthsBetween),
    ("years_between", BuiltinFn::YearsBetween),
    ("add_months", BuiltinFn::AddMonths),
    ("year", BuiltinFn::Year),
    ("month", BuiltinFn::Month),
    ("day", BuiltinFn::Day),
    ("date", BuiltinFn::MakeDate),
    ("whole_years", BuiltinFn::WholeYears),
    ("remaining_months", BuiltinFn::RemainingMonths),
    ("years", BuiltinFn::Years),
    ("months", BuiltinFn::MonthsOf),
    ("to_monthly", BuiltinFn::ToMonthly),
    ("to_yearly", BuiltinFn::ToYearly),
    ("floor", BuiltinFn::Floor),
    ("ceil", BuiltinFn::Ceil),
    ("div", BuiltinFn::Div),
    ("rem", BuiltinFn::Rem),
];

pub fn builtin_by_name(name: &str) -> Option<BuiltinFn> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

impl Checker<'_> {
    /// Checks `e` and reports a mismatch with `want`.
    pub(crate) fn expr_expect(&mut self, e: &ast::Expr, want: Ty) -> TExpr {
        let mut t = self.expr(e);
        if !t.ty.fits(want) {
            self.mismatch(want, t.ty, e.span);
            t.ty = Ty::Error;
        } else if !t.ty.is_error() {
            // An unperioded amount takes the period its place expects; an Int used as a
            // Decimal keeps its own (exact) value.
            if let (Ty::Money(None), Ty::Money(Some(_))) = (t.ty, want) {
                t.ty = want;
            }
        }
        t
    }

    pub(crate) fn mismatch(&mut self, want: Ty, found: Ty, span: Span) {
        if want.is_error() || found.is_error() {
            return;
        }
        let (w, f) = (self.m.ty_name(want), self.m.ty_name(found));
        let d = match (want, found) {
            (Ty::Money(Some(a)), Ty::Money(Some(b))) if a != b => {
                Diagnostic::new(&codes::PERIOD_MISMATCH, format!("expected {w}, found {f}"), span, format!("this is {f}"))
                    .with_help(convert_help(b))
            }
            _ => Diagnostic::new(&codes::TYPE_MISMATCH, format!("expected {w}, found {f}"), span, format!("this is {f}")),
        };
        self.error(d);
    }

    pub(crate) fn expr(&mut self, e: &ast::Expr) -> TExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Number { digits, scale, unit, period } => match literal(*digits, *scale, *unit, *period) {
                Ok((c, ty)) => texpr(TKind::Const(c), ty, span),
                Err(msg) => {
                    self.error(Diagnostic::new(&codes::BAD_LITERAL, msg, span, "invalid literal"));
                    TExpr::error(span)
                }
            },
            ExprKind::Date(d) => texpr(TKind::Const(Const::I(*d)), Ty::Date, span),
            ExprKind::Bool(b) => texpr(TKind::Const(Const::I(*b as i64)), Ty::Bool, span),
            ExprKind::Name(id) => self.name(id),
            ExprKind::Field(base, field) => self.field(base, field, span),
            ExprKind::Index(base, key) => self.index(base, key, span),
            ExprKind::Call { func, args } => self.call(func, args, span),
            ExprKind::Record { name, fields } => self.record_lit(name, fields, span),
            ExprKind::Neg(a) => {
                let a = self.expr(a);
                if !a.ty.is_numeric() && !a.ty.is_error() {
                    let t = self.m.ty_name(a.ty);
                    self.error(Diagnostic::new(&codes::BAD_OPERANDS, format!("cannot negate {t}"), span, format!("this is {t}")));
                    return TExpr::error(span);
                }
                let ty = a.ty;
                texpr(TKind::Neg(Box::new(a)), ty, span)
            }
            ExprKind::Not(a) => {
                let a = self.expr_expect(a, Ty::Bool);
                texpr(TKind::Not(Box::new(a)), Ty::Bool, span)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span),
            ExprKind::If { cond, then, els } => {
                let c = self.expr_expect(cond, Ty::Bool);
                let t = self.expr(then);
                let f = self.expr(els);
                let ty = match join(t.ty, f.ty) {
                    Some(ty) => ty,
                    None => {
                        let (a, b) = (self.m.ty_name(t.ty), self.m.ty_name(f.ty));
                        self.error(
                            Diagnostic::new(
                                &codes::TYPE_MISMATCH,
                                format!("`if` branches have different types: {a} and {b}"),
                                f.span,
                                format!("this is {b}"),
                            )
                            .with_label(t.span, format!("this is {a}")),
                        );
                        Ty::Error
                    }
                };
                texpr(TKind::If(Box::new(c), Box::new(t), Box::new(f)), ty, span)
            }
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee.as_deref(), arms, span),
            ExprKind::Brackets { value, bands } => self.brackets(value, bands, span),
        }
    }

    fn name(&mut self, id: &ast::Ident) -> TExpr {
        if let Some((_, local)) = self.scope.iter().rev().find(|(n, _)| *n == id.name) {
            let ty = self.locals[*local as usize].ty;
            return texpr(TKind::Local(*local), ty, id.span);
        }
        match self.m.names.get(&id.name).copied() {
            Some(Symbol::Param(p)) => {
                self.ensure_param(p);
                let info = &self.m.params[p.0 as usize];
                texpr(TKind::Param(p), info.ty, id.span)
            }
            Some(Symbol::Rule(_)) => {
                self.error(
                    Diagnostic::new(
                        &codes::BAD_CALL,
                        format!("`{}` is a rule; call it with arguments", id.name),
                        id.span,
                        "rule used as a value",
                    )
                    .with_help(format!("write `{}(…)`", id.name)),
                );
                TExpr::error(id.span)
            }
            Some(Symbol::Table(_)) => {
                self.error(Diagnostic::new(
                    &codes::BAD_CALL,
                    format!("`{}` is a table; look a key up with `{}[key]`", id.name, id.name),
                    id.span,
                    "table used as a value",
                ));
                TExpr::error(id.span)
            }
            Some(Symbol::Enum(_)) | Some(Symbol::Record(_)) => {
                self.error(Diagnostic::new(
                    &codes::TYPE_MISMATCH,
                    format!("`{}` is a type, not a value", id.name),
                    id.span,
                    "type used as a value",
                ));
                TExpr::error(id.span)
            }
            None => {
                let mut d = Diagnostic::new(&codes::UNKNOWN_NAME, format!("unknown name `{}`", id.name), id.span, "not defined");
                if let Some(s) = self.similar_name(&id.name) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.error(d);
                TExpr::error(id.span)
            }
        }
    }

    fn similar_name(&self, name: &str) -> Option<String> {
        let candidates = self.scope.iter().map(|(n, _)| n.clone()).chain(self.m.names.keys().cloned());
        candidates
            .map(|c| (edit_distance(name, &c), c))
            .filter(|(d, c)| *d <= 2.max(name.chars().count() / 3) && *d < c.chars().count())
            .min()
            .map(|(_, c)| c)
    }

    fn field(&mut self, base: &ast::Expr, field: &ast::Ident, span: Span) -> TExpr {
        // `Enum.Variant`
        if let ExprKind::Name(n) = &base.kind {
            let is_local = self.scope.iter().any(|(s, _)| *s == n.name);
            if !is_local && let Some(Symbol::Enum(e)) = self.m.names.get(&n.name).copied() {
                let info = &self.m.enums[e.0 as usize];
                return match info.variants.iter().position(|v| *v == field.name) {
                    Some(i) => texpr(TKind::Const(Const::I(i as i64)), Ty::Enum(e), span),
                    None => {
                        let list = info.variants.join(", ");
                        self.error(
                            Diagnostic::new(
                                &codes::UNKNOWN_FIELD,
                                format!("enum `{}` has no variant `{}`", n.name, field.name),
                                field.span,
                                "unknown variant",
                            )
                            .with_help(format!("the variants are {list}")),
                        );
                        TExpr::error(span)
                    }
                };
            }
        }
        let b = self.expr(base);
        match b.ty {
            Ty::Record(r) => {
                let info = &self.m.records[r.0 as usize];
                match info.field(&field.name) {
                    Some(i) => {
                        let ty = info.fields[i].ty;
                        texpr(TKind::Field(Box::new(b), i), ty, span)
                    }
                    None => {
                        let rname = info.name.clone();
                        let names: Vec<String> = info.fields.iter().map(|f| f.name.clone()).collect();
                        let mut d = Diagnostic::new(
                            &codes::UNKNOWN_FIELD,
                            format!("record `{rname}` has no field `{}`", field.name),
                            field.span,
                            "unknown field",
                        );
                        if let Some(best) = names.iter().map(|n| (edit_distance(&field.name, n), n)).filter(|(d, _)| *d <= 3).min() {
                            d = d.with_help(format!("did you mean `{}`?", best.1));
                        }
                        self.error(d);
                        TExpr::error(span)
                    }
                }
            }
            Ty::Error => TExpr::error(span),
            other => {
                let t = self.m.ty_name(other);
                self.error(Diagnostic::new(
                    &codes::UNKNOWN_FIELD,
                    format!("{t} has no fields"),
                    field.span,
                    format!("`{}` is not a record", field.name),
                ));
                TExpr::error(span)
            }
        }
    }

    fn index(&mut self, base: &ast::Expr, key: &ast::Expr, span: Span) -> TExpr {
        let table = match &base.kind {
            ExprKind::Name(n) => match self.m.names.get(&n.name) {
                Some(Symbol::Table(t)) => Some(*t),
                _ => None,
            },
            _ => None,
        };
        let Some(t) = table else {
            self.error(Diagnostic::new(&codes::TYPE_MISMATCH, "only tables can be indexed", base.span, "not a table"));
            return TExpr::error(span);
        };
        let info = &self.m.tables[t.0 as usize];
        let (key_ty, value_ty) = (info.key_ty, info.value_ty);
        let k = self.expr_expect(key, key_ty);
        texpr(TKind::TableGet(t, Box::new(k)), value_ty, span)
    }

    fn record_lit(&mut self, name: &ast::Ident, fields: &[(ast::Ident, ast::Expr)], span: Span) -> TExpr {
        let Some(Symbol::Record(r)) = self.m.names.get(&name.name).copied() else {
            self.error(Diagnostic::new(&codes::UNKNOWN_TYPE, format!("unknown record `{}`", name.name), name.span, "not a record"));
            return TExpr::error(span);
        };
        let decl: Vec<(String, Ty)> = self.m.records[r.0 as usize].fields.iter().map(|f| (f.name.clone(), f.ty)).collect();
        let mut values: Vec<Option<TExpr>> = vec![None; decl.len()];
        for (fname, fexpr) in fields {
            match decl.iter().position(|(n, _)| *n == fname.name) {
                Some(i) => {
                    let v = self.expr_expect(fexpr, decl[i].1);
                    self.check_field_domain(r, i, &v, fexpr.span);
                    if values[i].is_some() {
                        self.error(Diagnostic::new(
                            &codes::MISSING_FIELD,
                            format!("field `{}` is set twice", fname.name),
                            fname.span,
                            "set again here",
                        ));
                    }
                    values[i] = Some(v);
                }
                None => {
                    self.error(Diagnostic::new(
                        &codes::UNKNOWN_FIELD,
                        format!("record `{}` has no field `{}`", name.name, fname.name),
                        fname.span,
                        "unknown field",
                    ));
                }
            }
        }
        let missing: Vec<&str> = decl.iter().zip(&values).filter(|(_, v)| v.is_none()).map(|((n, _), _)| n.as_str()).collect();
        if !missing.is_empty() {
            self.error(
                Diagnostic::new(
                    &codes::MISSING_FIELD,
                    format!(
                        "missing field{} {}",
                        if missing.len() > 1 { "s" } else { "" },
                        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                    ),
                    name.span,
                    "incomplete record",
                )
                .with_help("Pol has no default values: set every field"),
            );
            return TExpr::error(span);
        }
        let values = values.into_iter().flatten().collect();
        texpr(TKind::Record(r, values), Ty::Record(r), span)
    }

    /// A record literal's constant field value must lie in the field's declared domain, as
    /// every row of a run must: a test or a rule may not use a record the framework rules out.
    fn check_field_domain(&mut self, r: super::RecordId, field: usize, v: &TExpr, span: Span) {
        let f = &self.m.records[r.0 as usize].fields[field];
        let (Some((lo, hi)), Some(c)) = (f.domain, super::fold(&self.m, v)) else { return };
        let x = c.to_frac();
        let outside = x.cmp(lo.to_frac()).is_ok_and(|o| o.is_lt()) || x.cmp(hi.to_frac()).is_ok_and(|o| o.is_gt());
        if outside {
            let show = |c| crate::values::format_value(&self.m, c, f.ty);
            let msg = format!("`{}` = {} is outside the declared domain of `{}`", f.name, show(c), self.m.records[r.0 as usize].name);
            let label = format!("the domain is {} ..= {}", show(lo), show(hi));
            self.error(
                Diagnostic::new(&codes::LITERAL_OUTSIDE_DOMAIN, msg, span, label)
                    .with_help("a run sends such a row to the ledger (V0002); use a value the record's domain admits"),
            );
        }
    }

    fn binary(&mut self, op: BinOp, a: &ast::Expr, b: &ast::Expr, span: Span) -> TExpr {
        let x = self.expr(a);
        let y = self.expr(b);
        match binary_result(op, x.ty, y.ty) {
            Ok(ty) => {
                let ty = if ty == Ty::Date && matches!(op, BinOp::Add | BinOp::Sub) { Ty::Date } else { ty };
                texpr(TKind::Binary(op, Box::new(x), Box::new(y)), ty, span)
            }
            Err(OpError::Operands) => {
                let (l, r) = (self.m.ty_name(x.ty), self.m.ty_name(y.ty));
                let mut d = Diagnostic::new(
                    &codes::BAD_OPERANDS,
                    format!("cannot apply `{}` to {l} and {r}", op.symbol()),
                    span,
                    format!("{l} {} {r}", op.symbol()),
                )
                .with_label(x.span, l.clone())
                .with_label(y.span, r.clone());
                if let Some(h) = operand_help(op, x.ty, y.ty) {
                    d = d.with_help(h);
                }
                self.error(d);
                TExpr::error(span)
            }
            Err(OpError::Period(p, q)) => {
                let (l, r) = (self.m.ty_name(x.ty), self.m.ty_name(y.ty));
                self.error(
                    Diagnostic::new(
                        &codes::PERIOD_MISMATCH,
                        format!("cannot combine {l} with {r}"),
                        span,
                        "monthly and yearly amounts mixed",
                    )
                    .with_label(x.span, l)
                    .with_label(y.span, r)
                    .with_help(convert_help(if p == Period::Year { p } else { q }).to_string()),
                );
                TExpr::error(span)
            }
        }
    }

    fn call(&mut self, func: &ast::Ident, args: &[ast::Arg], span: Span) -> TExpr {
        if let Some(Symbol::Rule(r)) = self.m.names.get(&func.name).copied() {
            return self.rule_call(r, func, args, span);
        }
        if let Some(slot) = self.m.slots.iter().position(|s| s.name == func.name) {
            return self.slot_call(slot, func, args, span);
        }
        match builtin_by_name(&func.name) {
            Some(b) => self.builtin_call(b, func, args, span),
            None => {
                let mut d =
                    Diagnostic::new(&codes::BAD_CALL, format!("unknown rule or function `{}`", func.name), func.span, "not defined");
                if let Some(s) = self.similar_name(&func.name) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.error(d);
                for a in args {
                    self.expr(&a.value);
                }
                TExpr::error(span)
            }
        }
    }

    fn rule_call(&mut self, r: RuleId, func: &ast::Ident, args: &[ast::Arg], span: Span) -> TExpr {
        if !self.ensure_rule(r) {
            self.error(
                Diagnostic::new(&codes::RECURSION, format!("rule `{}` calls itself", func.name), func.span, "recursive call")
                    .with_help("Pol rules may not call themselves, directly or through other rules"),
            );
            return TExpr::error(span);
        }
        let info = self.m.rule(r);
        let (params, ret) = (info.param_types(), info.ret);
        match self.call_args(&format!("`{}`", func.name), args, params, span) {
            Some(targs) => texpr(TKind::Call(r, targs), ret, span),
            None => TExpr::error(span),
        }
    }

    /// The arguments of a call, each checked against its parameter's type; `None` (reported)
    /// when their number is wrong.
    fn call_args(&mut self, callee: &str, args: &[ast::Arg], params: Vec<Ty>, span: Span) -> Option<Vec<TExpr>> {
        if args.len() != params.len() {
            let s = if params.len() == 1 { "" } else { "s" };
            self.error(Diagnostic::new(
                &codes::BAD_CALL,
                format!("{callee} takes {} argument{s}, {} given", params.len(), args.len()),
                span,
                "wrong number of arguments",
            ));
            return None;
        }
        Some(args.iter().zip(params).map(|(a, want)| self.expr_expect(&a.value, want)).collect())
    }

    /// A framework's call of one of its slots: typed by the slot's signature, linked to the
    /// scheme's rule when a scheme implements it.
    fn slot_call(&mut self, slot: usize, func: &ast::Ident, args: &[ast::Arg], span: Span) -> TExpr {
        let params: Vec<Ty> = self.m.slots[slot].params.iter().map(|p| p.ty).collect();
        let ret = self.m.slots[slot].ret;
        match self.call_args(&format!("slot `{}`", func.name), args, params, span) {
            Some(targs) => texpr(TKind::SlotCall(slot as u32, targs), ret, span),
            None => TExpr::error(span),
        }
    }

    fn builtin_call(&mut self, b: BuiltinFn, func: &ast::Ident, args: &[ast::Arg], span: Span) -> TExpr {
        use BuiltinFn::*;
        let arity_err = |c: &mut Self, want: &str| {
            c.error(Diagnostic::new(&codes::BAD_CALL, format!("`{}` takes {want}", func.name), span, "wrong arguments"));
            TExpr::error(span)
        };
        fn label(a: &ast::Arg) -> Option<&str> {
            a.label.as_ref().map(|l| l.name.as_str())
        }
        match b {
            Min | Max => {
                if args.len() < 2 || args.iter().any(|a| a.label.is_some()) {
                    return arity_err(self, "two or more values");
                }
                let targs: Vec<TExpr> = args.iter().map(|a| self.expr(&a.value)).collect();
                let mut ty = targs[0].ty;
                for t in &targs[1..] {
                    ty = match join(ty, t.ty) {
                        Some(j) => j,
                        None => {
                            let (a, c) = (self.m.ty_name(ty), self.m.ty_name(t.ty));
                            self.error(Diagnostic::new(
                                &codes::TYPE_MISMATCH,
                                format!("`{}` needs values of one type, found {a} and {c}", func.name),
                                t.span,
                                format!("this is {c}"),
                            ));
                            Ty::Error
                        }
                    };
                }
                if !ty.is_ordered() && !ty.is_error() {
                    let t = self.m.ty_name(ty);
                    self.error(Diagnostic::new(
                        &codes::BAD_OPERANDS,
                        format!("`{}` compares numbers, money or dates, not {t}", func.name),
                        span,
                        "not ordered",
                    ));
                    ty = Ty::Error;
                }
                texpr(TKind::Builtin(b, targs), ty, span)
            }
            Clamp => {
                if args.len() != 3 {
                    return arity_err(self, "a value, a lower and an upper bound");
                }
                let targs: Vec<TExpr> = args.iter().map(|a| self.expr(&a.value)).collect();
                let ty = join(targs[0].ty, targs[1].ty).and_then(|t| join(t, targs[2].ty));
                let ty = match ty {
                    Some(t) if t.is_ordered() || t.is_error() => t,
                    _ => {
                        self.error(Diagnostic::new(
                            &codes::TYPE_MISMATCH,
                            "`clamp` needs a value and bounds of one ordered type",
                            span,
                            "mismatched types",
                        ));
                        Ty::Error
                    }
                };
                texpr(TKind::Builtin(b, targs), ty, span)
            }
            Abs => {
                if args.len() != 1 {
                    return arity_err(self, "one value");
                }
                let a = self.expr(&args[0].value);
                let ty = a.ty;
                if !ty.is_numeric() && !ty.is_error() {
                    return arity_err(self, "a number");
                }
                texpr(TKind::Builtin(b, vec![a]), ty, span)
            }
            Round(_) => {
                if args.is_empty() || args.len() > 2 || label(&args[0]).is_some() || (args.len() == 2 && label(&args[1]) != Some("to")) {
                    return arity_err(self, "a value and optionally `to: quantum`");
                }
                let x = self.expr(&args[0].value);
                if !matches!(x.ty, Ty::Money(_) | Ty::Decimal | Ty::Rate | Ty::Error) {
                    let t = self.m.ty_name(x.ty);
                    self.error(Diagnostic::new(
                        &codes::TYPE_MISMATCH,
                        format!("`{}` rounds Money, Decimal or Rate, not {t}", func.name),
                        x.span,
                        format!("this is {t}"),
                    ));
                    return TExpr::error(span);
                }
                let mut targs = vec![x];
                if let Some(q) = args.get(1) {
                    let want = match targs[0].ty {
                        Ty::Money(_) => Ty::Money(None),
                        t => t,
                    };
                    let qt = self.expr_expect(&q.value, want);
                    match fold(&self.m, &qt) {
                        Some(c) if c.to_frac().num > 0 => {}
                        Some(_) => {
                            self.error(Diagnostic::new(
                                &codes::BAD_CALL,
                                "the rounding quantum must be positive",
                                q.value.span,
                                "not positive",
                            ));
                        }
                        None if !qt.ty.is_error() => {
                            self.error(Diagnostic::new(
                                &codes::NOT_CONSTANT,
                                "the rounding quantum must be a constant",
                                q.value.span,
                                "not a constant",
                            ));
                        }
                        None => {}
                    }
                    targs.push(qt);
                }
                let ty = targs[0].ty;
                texpr(TKind::Builtin(b, targs), ty, span)
            }
            Age => {
                if args.len() != 2 || label(&args[0]).is_some() || label(&args[1]) != Some("at") {
                    return arity_err(self, "a birth date and `at: date`");
                }
                let d = self.expr_expect(&args[0].value, Ty::Date);
                let at = self.expr_expect(&args[1].value, Ty::Date);
                texpr(TKind::Builtin(b, vec![d, at]), Ty::Int, span)
            }
            MonthsBetween | YearsBetween => {
                if args.len() != 2 {
                    return arity_err(self, "two dates");
                }
                let a = self.expr_expect(&args[0].value, Ty::Date);
                let c = self.expr_expect(&args[1].value, Ty::Date);
                let ty = if b == MonthsBetween { Ty::Months } else { Ty::Int };
                texpr(TKind::Builtin(b, vec![a, c]), ty, span)
            }
            AddMonths => {
                if args.len() != 2 {
                    return arity_err(self, "a date and a number of months");
                }
                let a = self.expr_expect(&args[0].value, Ty::Date);
                let c = self.expr_expect(&args[1].value, Ty::Months);
                texpr(TKind::Builtin(b, vec![a, c]), Ty::Date, span)
            }
            Year | Month | Day => {
                if args.len() != 1 {
                    return arity_err(self, "one date");
                }
                let a = self.expr_expect(&args[0].value, Ty::Date);
                texpr(TKind::Builtin(b, vec![a]), Ty::Int, span)
            }
            MakeDate => {
                if args.len() != 3 {
                    return arity_err(self, "a year, a month and a day");
                }
                let targs = args.iter().map(|a| self.expr_expect(&a.value, Ty::Int)).collect();
                texpr(TKind::Builtin(b, targs), Ty::Date, span)
            }
            WholeYears | RemainingMonths | Years => {
                if args.len() != 1 {
                    return arity_err(self, "one duration in months");
                }
                let a = self.expr_expect(&args[0].value, Ty::Months);
                let ty = if b == Years { Ty::Decimal } else { Ty::Int };
                texpr(TKind::Builtin(b, vec![a]), ty, span)
            }
            MonthsOf => {
                if args.len() != 1 {
                    return arity_err(self, "one whole number");
                }
                let a = self.expr_expect(&args[0].value, Ty::Int);
                texpr(TKind::Builtin(b, vec![a]), Ty::Months, span)
            }
            Floor | Ceil => {
                if args.len() != 1 {
                    return arity_err(self, "one number");
                }
                let a = self.expr(&args[0].value);
                if !matches!(a.ty, Ty::Int | Ty::Decimal | Ty::Rate | Ty::Error) {
                    let t = self.m.ty_name(a.ty);
                    self.error(
                        Diagnostic::new(
                            &codes::TYPE_MISMATCH,
                            format!("`{}` takes a number, not {t}", func.name),
                            a.span,
                            format!("this is {t}"),
                        )
                        .with_help("for money use `round_down(x, to: 1 yuan)`"),
                    );
                    return TExpr::error(span);
                }
                texpr(TKind::Builtin(b, vec![a]), Ty::Int, span)
            }
            Div | Rem => {
                if args.len() != 2 {
                    return arity_err(self, "two whole numbers");
                }
                let targs = args.iter().map(|a| self.expr_expect(&a.value, Ty::Int)).collect();
                texpr(TKind::Builtin(b, targs), Ty::Int, span)
            }
            ToMonthly | ToYearly => {
                if args.len() != 1 {
                    return arity_err(self, "one amount");
                }
                let (from, to) = if b == ToMonthly { (Period::Year, Period::Month) } else { (Period::Month, Period::Year) };
                let a = self.expr_expect(&args[0].value, Ty::Money(Some(from)));
                texpr(TKind::Builtin(b, vec![a]), Ty::Money(Some(to)), span)
            }
        }
    }

    fn match_expr(&mut self, scrutinee: Option<&ast::Expr>, arms: &[ast::Arm], span: Span) -> TExpr {
        let s = scrutinee.map(|s| self.expr(s));
        let sty = s.as_ref().map(|s| s.ty);
        let mut tarms = Vec::new();
        let mut ty: Option<Ty> = None;
        for (i, arm) in arms.iter().enumerate() {
            let pattern = match (&arm.pattern, sty) {
                (ast::Pattern::Else(sp), _) => {
                    if i + 1 != arms.len() {
                        self.error(Diagnostic::new(
                            &codes::UNREACHABLE_ARM,
                            "`else` must be the last arm",
                            *sp,
                            "arms after this are never chosen",
                        ));
                    }
                    TPattern::Else
                }
                (ast::Pattern::Range(r), Some(st)) => {
                    if !st.is_ordered() && !st.is_error() {
                        let t = self.m.ty_name(st);
                        self.error(Diagnostic::new(
                            &codes::TYPE_MISMATCH,
                            format!("a range cannot match {t}"),
                            r.span,
                            "range on an unordered value",
                        ));
                    }
                    let lo = self.expr_expect(&r.lo, st);
                    let hi = self.expr_expect(&r.hi, st);
                    TPattern::Range(lo, r.kind, hi)
                }
                (ast::Pattern::Compare(op, v, psp), Some(st)) => {
                    let v = self.expr_expect(v, st);
                    if !matches!(op, BinOp::Eq | BinOp::Ne) && !st.is_ordered() && !st.is_error() {
                        let t = self.m.ty_name(st);
                        self.error(Diagnostic::new(
                            &codes::TYPE_MISMATCH,
                            format!("`{}` cannot compare {t}", op.symbol()),
                            *psp,
                            "unordered value",
                        ));
                    }
                    TPattern::Compare(*op, v)
                }
                (ast::Pattern::Value(v), Some(st)) => TPattern::Value(self.expr_expect(v, st)),
                (ast::Pattern::Value(v), None) => TPattern::Value(self.expr_expect(v, Ty::Bool)),
                (p, None) => {
                    self.error(
                        Diagnostic::new(&codes::TYPE_MISMATCH, "this pattern needs a value to match", p.span(), "no scrutinee")
                            .with_help("write `match value { … }`, or write a full condition such as `x >= 80`"),
                    );
                    TPattern::Else
                }
            };
            let guard = arm.guard.as_ref().map(|g| self.expr_expect(g, Ty::Bool));
            let body = self.expr(&arm.body);
            ty = Some(match ty {
                None => body.ty,
                Some(prev) => match join(prev, body.ty) {
                    Some(j) => j,
                    None => {
                        let (a, b) = (self.m.ty_name(prev), self.m.ty_name(body.ty));
                        self.error(Diagnostic::new(
                            &codes::TYPE_MISMATCH,
                            format!("match arms have different types: {a} and {b}"),
                            body.span,
                            format!("this is {b}"),
                        ));
                        Ty::Error
                    }
                },
            });
            tarms.push(TArm { pattern, guard, body, span: arm.span });
        }
        let result = texpr(TKind::Match { scrutinee: s.map(Box::new), arms: tarms }, ty.unwrap_or(Ty::Error), span);
        self.check_match_coverage(&result);
        result
    }

    fn brackets(&mut self, value: &ast::Expr, bands: &[ast::Band], span: Span) -> TExpr {
        let mut v = self.expr(value);
        if !matches!(v.ty, Ty::Int | Ty::Decimal | Ty::Money(_) | Ty::Months | Ty::Rate | Ty::Error) {
            let t = self.m.ty_name(v.ty);
            self.error(Diagnostic::new(
                &codes::BAD_BRACKETS,
                format!("brackets divide a number or an amount, not {t}"),
                v.span,
                format!("this is {t}"),
            ));
            // Reported once: the bounds and the band amounts are not checked against it.
            v.ty = Ty::Error;
        }
        let mut tbands = Vec::new();
        let mut rate_ty: Option<Ty> = None;
        let mut prev: Option<(crate::exact::Frac, Span)> = None;
        for (i, band) in bands.iter().enumerate() {
            let upto = match &band.upto {
                Some(u) => {
                    let t = self.expr_expect(u, v.ty);
                    if let Some(c) = fold(&self.m, &t) {
                        let f = c.to_frac();
                        let bad = match prev {
                            Some((p, _)) => f.cmp(p).map(|o| o != std::cmp::Ordering::Greater).unwrap_or(true),
                            None => f.num <= 0,
                        };
                        if bad {
                            let mut d = Diagnostic::new(
                                &codes::BAD_BRACKETS,
                                "bracket bounds must be positive and strictly ascending",
                                u.span,
                                "not above the previous bound",
                            );
                            if let Some((_, ps)) = prev {
                                d = d.with_label(ps, "previous bound");
                            }
                            self.error(d);
                        }
                        prev = Some((f, u.span));
                    } else if !t.ty.is_error() {
                        self.error(Diagnostic::new(&codes::NOT_CONSTANT, "bracket bounds must be constants", u.span, "not a constant"));
                    }
                    Some(t)
                }
                None => {
                    if i + 1 != bands.len() {
                        self.error(Diagnostic::new(
                            &codes::BAD_BRACKETS,
                            "`above` must be the last band",
                            band.span,
                            "bands after this are never used",
                        ));
                    }
                    None
                }
            };
            let rate = self.expr(&band.rate);
            rate_ty = Some(match rate_ty {
                None => rate.ty,
                Some(p) => join(p, rate.ty).unwrap_or_else(|| {
                    let (a, b) = (self.m.ty_name(p), self.m.ty_name(rate.ty));
                    self.error(Diagnostic::new(
                        &codes::BAD_BRACKETS,
                        format!("bands pay different types: {a} and {b}"),
                        rate.span,
                        format!("this is {b}"),
                    ));
                    Ty::Error
                }),
            });
            tbands.push((upto, rate));
        }
        let rty = rate_ty.unwrap_or(Ty::Error);
        // Each band pays `units in band × rate`; units have the bracketed value's type.
        let ty = match binary_result(BinOp::Mul, v.ty, rty) {
            Ok(t) => t,
            Err(_) => {
                let (a, b) = (self.m.ty_name(v.ty), self.m.ty_name(rty));
                self.error(
                    Diagnostic::new(
                        &codes::BAD_OPERANDS,
                        format!("cannot pay {b} per unit of {a}"),
                        span,
                        "brackets multiply each band's units by its amount",
                    )
                    .with_help("bracket whole years (`whole_years(m)`) or a number, and pay an amount per unit"),
                );
                Ty::Error
            }
        };
        texpr(TKind::Brackets { value: Box::new(v), bands: tbands }, ty, span)
    }
}

fn convert_help(from: Period) -> &'static str {
    match from {
        Period::Year => "convert the yearly amount with `to_monthly(…)`",
        Period::Month => "convert the monthly amount with `to_yearly(…)`",
    }
}

fn operand_help(op: BinOp, a: Ty, b: Ty) -> Option<String> {
    match (op, a, b) {
        (BinOp::Add | BinOp::Sub, Ty::Money(_), Ty::Int | Ty::Decimal) | (BinOp::Add | BinOp::Sub, Ty::Int | Ty::Decimal, Ty::Money(_)) => {
            Some("give the number a unit, e.g. `n * 1 yuan`".into())
        }
        (BinOp::Mul, Ty::Money(_), Ty::Money(_)) => Some("multiply money by a rate, a decimal or a count".into()),
        (BinOp::Mul, Ty::Months, Ty::Money(_)) | (BinOp::Mul, Ty::Money(_), Ty::Months) => {
            Some("convert the duration with `whole_years(…)` or `years(…)` first".into())
        }
        (_, Ty::Date, _) | (_, _, Ty::Date) => Some("use `add_months`, `months_between` or `age` for dates".into()),
        _ => None,
    }
}

/// Levenshtein distance over characters, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
