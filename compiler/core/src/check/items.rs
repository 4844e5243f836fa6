//! Parameters, tables, slots and tests: the items checked after names and types are known.

use super::module::*;
use super::types::Ty;
use super::{Checker, State};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::Const;
use crate::span::Span;
use crate::syntax::ast;
use std::collections::HashMap;

impl<'a> Checker<'a> {
    pub(super) fn declare_param(&mut self, p: &'a ast::ParamDef, is_scheme: bool) {
        // A scheme setting a framework's local parameter.
        if is_scheme && let Some(Symbol::Param(id)) = self.m.names.get(&p.name.name).copied() {
            let info = &self.m.params[id.0 as usize];
            if info.kind == ParamKind::Local && info.loc.file != self.file {
                if info.values_file == self.file && !info.values.is_empty() {
                    self.error(Diagnostic::new(
                        &codes::DUPLICATE,
                        format!("`{}` is set twice", p.name.name),
                        p.name.span,
                        "second setting",
                    ));
                    return;
                }
                self.m.params[id.0 as usize].values_file = self.file;
                self.param_defs.insert(id.0, (p, State::Pending));
                return;
            }
        }
        let id = ParamId(self.m.params.len() as u32);
        if !self.claim_name(&p.name, Symbol::Param(id)) {
            return;
        }
        let ty = p.ty.as_ref().map(|t| self.resolve_type(t)).unwrap_or(Ty::Error);
        self.m.params.push(ParamInfo {
            name: p.name.name.clone(),
            ty,
            kind: ParamKind::Defined,
            values: Vec::new(),
            values_file: self.file,
            until: p.until.map(|d| d.day),
            range: None,
            requires: Vec::new(),
            cite: p.cite.as_ref().map(|c| c.text.clone()),
            loc: self.loc(p.span),
        });
        self.param_defs.insert(id.0, (p, State::Pending));
    }

    pub(super) fn declare_local_param(&mut self, p: &ast::LocalParamDef, is_scheme: bool) {
        if is_scheme || !matches!(self.m.files[self.file.0 as usize].kind, FileKind::Framework { .. }) {
            self.error(
                Diagnostic::new(
                    &codes::FRAMEWORK_ONLY,
                    "`local param` declares a delegated parameter and belongs in a framework",
                    p.span,
                    "only frameworks delegate parameters",
                )
                .with_help("in a scheme, set the framework's parameter with `param name = value`"),
            );
            return;
        }
        let id = ParamId(self.m.params.len() as u32);
        if !self.claim_name(&p.name, Symbol::Param(id)) {
            return;
        }
        let ty = self.resolve_type(&p.ty);
        self.m.params.push(ParamInfo {
            name: p.name.name.clone(),
            ty,
            kind: ParamKind::Local,
            values: Vec::new(),
            values_file: self.file,
            until: None,
            range: None,
            requires: Vec::new(),
            cite: p.cite.as_ref().map(|c| c.text.clone()),
            loc: self.loc(p.span),
        });
    }

    pub(super) fn check_local_param_bounds(&mut self, p: &ast::LocalParamDef) {
        let Some(Symbol::Param(id)) = self.m.names.get(&p.name.name).copied() else { return };
        if self.m.params[id.0 as usize].kind != ParamKind::Local {
            return;
        }
        let ty = self.m.params[id.0 as usize].ty;
        let range = p.domain.as_ref().map(|d| {
            let lo = self.expr_expect(&d.lo, ty);
            let hi = self.expr_expect(&d.hi, ty);
            (lo, d.kind, hi)
        });
        let requires: Vec<TExpr> = p.requires.iter().map(|r| self.expr_expect(r, Ty::Bool)).collect();
        let info = &mut self.m.params[id.0 as usize];
        info.range = range;
        info.requires = requires;
    }

    pub(crate) fn ensure_param(&mut self, id: ParamId) {
        let Some((def, state)) = self.param_defs.get(&id.0).copied() else { return };
        match state {
            State::Done => return,
            State::InProgress => {
                self.error(Diagnostic::new(
                    &codes::RECURSION,
                    format!("parameter `{}` depends on itself", def.name.name),
                    def.name.span,
                    "cycle through this parameter",
                ));
                return;
            }
            State::Pending => {}
        }
        self.param_defs.insert(id.0, (def, State::InProgress));
        let saved = (std::mem::take(&mut self.locals), std::mem::take(&mut self.scope));
        let mut ty = self.m.params[id.0 as usize].ty;
        let mut values = Vec::new();
        let mut last: Option<i64> = None;
        for (i, v) in def.values.iter().enumerate() {
            let t = self.expr(&v.value);
            if ty.is_error() && i == 0 && def.ty.is_none() {
                ty = t.ty;
            } else if !t.ty.fits(ty) {
                let (found, wanted) = (self.m.ty_name(t.ty), self.m.ty_name(ty));
                self.error(Diagnostic::new(
                    &codes::TYPE_MISMATCH,
                    format!("expected {wanted}, found {found}"),
                    v.value.span,
                    format!("this is {found}"),
                ));
            }
            match (v.from, last) {
                (None, _) if def.values.len() > 1 => self.error(Diagnostic::new(
                    &codes::DATED_ORDER,
                    "every value of a dated parameter needs a `from` date",
                    v.span,
                    "no `from` date",
                )),
                (Some(d), Some(prev)) if d.day <= prev => self.error(Diagnostic::new(
                    &codes::DATED_ORDER,
                    "dates of a parameter's values must be strictly increasing",
                    d.span,
                    "not after the previous date",
                )),
                _ => {}
            }
            if let Some(d) = v.from {
                last = Some(d.day);
            }
            values.push(DatedTExpr { from: v.from.map(|d| d.day), value: t, span: v.span });
        }
        if let (Some(until), Some(last)) = (def.until, last)
            && until.day < last
        {
            self.error(Diagnostic::new(
                &codes::DATED_ORDER,
                "the horizon is before the last value's date",
                until.span,
                "`until` must not precede the last `from`",
            ));
        }
        (self.locals, self.scope) = saved;
        let info = &mut self.m.params[id.0 as usize];
        if info.kind == ParamKind::Defined || info.ty.is_error() {
            info.ty = ty;
        }
        info.values = values;
        if info.kind == ParamKind::Local {
            info.until = def.until.map(|d| d.day);
        }
        self.param_defs.insert(id.0, (def, State::Done));
    }

    pub(super) fn define_table(&mut self, t: &ast::TableDef) {
        let id = TableId(self.m.tables.len() as u32);
        if !self.claim_name(&t.name, Symbol::Table(id)) {
            return;
        }
        let key_ty = self.resolve_type(&t.key_ty);
        let value_ty = self.resolve_type(&t.value_ty);
        if !matches!(key_ty, Ty::Int | Ty::Months | Ty::Date | Ty::Enum(_) | Ty::Bool | Ty::Error) {
            self.error(Diagnostic::new(
                &codes::BAD_TABLE,
                "table keys must be Int, Months, Date, Bool or an enum",
                t.key_ty.span,
                "unsupported key type",
            ));
        }
        let mut rows: Vec<(i64, TExpr)> = Vec::new();
        let mut seen: HashMap<i64, Span> = HashMap::new();
        for row in &t.rows {
            let key = self.const_of(&row.key, key_ty).and_then(|c| match c {
                Const::I(i) => Some(i),
                Const::N(n) if n.is_integral() => n.to_i64_exact().ok(),
                Const::N(_) => None,
            });
            let value = self.expr_expect(&row.value, value_ty);
            if let Some(k) = key {
                if let Some(prev) = seen.get(&k) {
                    self.error(
                        Diagnostic::new(&codes::BAD_TABLE, "duplicate table key", row.key.span, "this key appears twice")
                            .with_label(*prev, "first here"),
                    );
                } else {
                    seen.insert(k, row.key.span);
                    rows.push((k, value));
                }
            }
        }
        rows.sort_by_key(|(k, _)| *k);
        self.m.tables.push(TableInfo {
            name: t.name.name.clone(),
            key_ty,
            value_ty,
            rows,
            cite: t.cite.as_ref().map(|c| c.text.clone()),
            loc: self.loc(t.span),
        });
    }

    /// Declares a slot's signature (before any rule body is checked: the framework's locked
    /// rules may call it); its clauses come with [`Checker::define_slot`].
    pub(super) fn declare_slot(&mut self, s: &ast::SlotDef, is_scheme: bool) {
        if is_scheme || !matches!(self.m.files[self.file.0 as usize].kind, FileKind::Framework { .. }) {
            self.error(
                Diagnostic::new(
                    &codes::FRAMEWORK_ONLY,
                    "`slot` declares a benefit every scheme must define and belongs in a framework",
                    s.name.span,
                    "slot outside a framework",
                )
                .with_help("in a scheme, implement the framework's slot with `rule`"),
            );
            return;
        }
        if self.m.slots.iter().any(|x| x.name == s.name.name) || self.m.names.contains_key(&s.name.name) {
            self.error(Diagnostic::new(&codes::DUPLICATE, format!("`{}` is defined twice", s.name.name), s.name.span, "second definition"));
            return;
        }
        self.refuse_confusable(&s.name);
        let params: Vec<LocalInfo> =
            s.params.iter().map(|p| LocalInfo { name: p.name.name.clone(), ty: self.resolve_type(&p.ty), span: p.span }).collect();
        let ret = self.resolve_type(&s.ret);
        self.m.slots.push(SlotInfo {
            name: s.name.name.clone(),
            params,
            ret,
            may_use: None,
            requires: Vec::new(),
            aggregates: Vec::new(),
            cite: s.cite.as_ref().map(|c| c.text.clone()),
            filed: None,
            loc: self.loc(s.span),
        });
    }

    /// A declared slot's clauses: `may use`, requirements, aggregates.
    pub(super) fn define_slot(&mut self, s: &ast::SlotDef) {
        let file = self.file;
        let Some(idx) = self.m.slots.iter().position(|x| x.name == s.name.name && x.loc.file == file && x.loc.span == s.span) else {
            return;
        };
        let params = self.m.slots[idx].params.clone();
        let ret = self.m.slots[idx].ret;
        self.locals = params.clone();
        self.scope = params.iter().enumerate().map(|(i, l)| (l.name.clone(), i as u32)).collect();
        let may_use = if s.may_use.is_empty() {
            None
        } else {
            let mut allowed = Vec::new();
            for e in &s.may_use {
                let t = self.expr(e);
                match &t.kind {
                    TKind::Local(p) => allowed.push((*p as usize, None)),
                    TKind::Field(inner, f) => match inner.kind {
                        TKind::Local(p) => allowed.push((p as usize, Some(*f))),
                        _ => self.may_use_error(e.span),
                    },
                    TKind::Error => {}
                    _ => self.may_use_error(e.span),
                }
            }
            Some(allowed)
        };
        let (requires, aggregates) = self.bound_clauses(ret, s.name.span, &s.requires, &s.aggregates);
        // A filed slot's `else` amount, checked with no parameter in scope: the same for every
        // record.
        let filed = s.filed.as_ref().map(|d| self.expr_expect(d, ret));
        let slot = &mut self.m.slots[idx];
        slot.filed = filed;
        slot.may_use = may_use;
        slot.requires = requires;
        slot.aggregates = aggregates;
    }

    /// Requirements and aggregates over the parameters in scope and `result` (the bounded
    /// value, of type `ret`); leaves no local in scope.
    fn bound_clauses(
        &mut self,
        ret: Ty,
        span: Span,
        requires: &[ast::Requirement],
        aggregates: &[ast::Aggregate],
    ) -> (Vec<RequirementInfo>, Vec<AggregateInfo>) {
        let result_local = self.locals.len() as u32;
        self.locals.push(LocalInfo { name: "result".into(), ty: ret, span });
        self.scope.push(("result".into(), result_local));
        let requires = requires.iter().map(|r| self.requirement(r)).collect();
        let aggregates = aggregates.iter().map(|a| self.aggregate(a)).collect();
        self.locals.clear();
        self.scope.clear();
        (requires, aggregates)
    }

    /// A locked rule's `require` and `aggregate` clauses, checked like a slot's with `result`
    /// bound to the rule's value. Only locked rules carry them (the grammar), and only a
    /// framework locks a rule (C0112).
    pub(super) fn define_rule_bounds(&mut self, r: &ast::RuleDef) {
        if r.requires.is_empty() && r.aggregates.is_empty() {
            return;
        }
        let Some(id) = self.m.lookup_rule(&r.name.name).filter(|id| self.m.rule(*id).loc.file == self.file) else { return };
        let info = self.m.rule(id);
        let params: Vec<LocalInfo> = info.locals[..info.params].to_vec();
        let (ret, cite, loc) = (info.ret, info.cite.clone(), info.loc);
        self.locals = params.clone();
        self.scope = params.iter().enumerate().map(|(i, l)| (l.name.clone(), i as u32)).collect();
        let (requires, aggregates) = self.bound_clauses(ret, r.name.span, &r.requires, &r.aggregates);
        self.m.locked_bounds.push(SlotInfo {
            name: r.name.name.clone(),
            params,
            ret,
            may_use: None,
            requires,
            aggregates,
            cite,
            filed: None,
            loc,
        });
    }

    pub(super) fn may_use_error(&mut self, span: Span) {
        self.error(Diagnostic::new(&codes::TYPE_MISMATCH, "`may use` lists parameters or their fields", span, "expected `r` or `r.field`"));
    }

    /// A slot's `require` clause: a condition, or a value monotone in one input.
    fn requirement(&mut self, r: &ast::Requirement) -> RequirementInfo {
        let cite = r.cite.as_ref().map(|c| c.text.clone());
        let Some(mono) = &r.monotone else {
            return RequirementInfo { cond: self.expr_expect(&r.cond, Ty::Bool), monotone: None, text: String::new(), cite, span: r.span };
        };
        let cond = self.expr(&r.cond);
        let ordered = |t: Ty| matches!(t, Ty::Money(_) | Ty::Int | Ty::Months | Ty::Decimal | Ty::Rate | Ty::Date | Ty::Error);
        if !ordered(cond.ty) {
            self.error(
                Diagnostic::new(
                    &codes::TYPE_MISMATCH,
                    format!("`nondecreasing`/`nonincreasing` compare amounts, not {}", self.m.ty_name(cond.ty)),
                    r.cond.span,
                    "not an ordered value",
                )
                .with_help("write the amount that must move with the input, e.g. `require result nondecreasing in r.contribution`"),
            );
        }
        let input = self.expr(&mono.input);
        let target = match &input.kind {
            TKind::Local(p) if (*p as usize) < self.locals.len().saturating_sub(1) => Some((*p as usize, None)),
            TKind::Field(inner, f) => match inner.kind {
                TKind::Local(p) => Some((p as usize, Some(*f))),
                _ => None,
            },
            _ => None,
        };
        let ordered = ordered(input.ty);
        let monotone = match target {
            Some((param, field)) if ordered => Some(MonotoneInfo { nondecreasing: mono.nondecreasing, param, field, span: mono.span }),
            _ => {
                if !input.ty.is_error() {
                    self.error(
                        Diagnostic::new(
                            &codes::TYPE_MISMATCH,
                            "a two-record requirement is monotone in a parameter or a field of the slot's record",
                            mono.input.span,
                            if ordered { "not an input of the slot" } else { "not an ordered input" },
                        )
                        .with_help("e.g. `nondecreasing in r.contribution`; for age, `nonincreasing in r.birth_date` (older is earlier)"),
                    );
                }
                None
            }
        };
        RequirementInfo { cond, monotone, text: String::new(), cite, span: r.span }
    }

    pub(super) fn aggregate(&mut self, a: &ast::Aggregate) -> AggregateInfo {
        let term = |c: &mut Self, t: &ast::AggTerm| {
            let sum_of = c.expr(&t.sum_of);
            if !matches!(sum_of.ty, Ty::Money(_) | Ty::Int | Ty::Months | Ty::Error) {
                c.error(Diagnostic::new(
                    &codes::TYPE_MISMATCH,
                    "`sum` adds Money, Int or Months values",
                    t.sum_of.span,
                    "cannot be summed",
                ));
            }
            // A column of the run: `result` (the last local in scope) or a field of the first
            // parameter, the record a run reads.
            let result_local = c.locals.len().saturating_sub(1) as u32;
            let is_column = matches!(&sum_of.kind, TKind::Local(l) if *l == result_local)
                || matches!(&sum_of.kind, TKind::Field(inner, _) if matches!(inner.kind, TKind::Local(0)) && result_local > 0);
            if !is_column && !sum_of.ty.is_error() {
                c.error(Diagnostic::new(
                    &codes::TYPE_MISMATCH,
                    "`sum` takes `result` or a field of the slot's record",
                    t.sum_of.span,
                    "not a column",
                ));
            }
            let factor = t.factor.as_ref().map(|f| c.expr_expect(f, Ty::Decimal));
            AggTermInfo { factor, sum_of }
        };
        let lhs = term(self, &a.lhs);
        let rhs = term(self, &a.rhs);
        AggregateInfo { lhs, op: a.op, rhs, text: String::new(), cite: a.cite.as_ref().map(|c| c.text.clone()), span: a.span }
    }

    pub(super) fn define_test(&mut self, t: &ast::TestDef) {
        self.locals.clear();
        self.scope.clear();
        let mut stmts = Vec::new();
        for s in &t.stmts {
            match s {
                ast::TestStmt::Let(l) => stmts.push(TestStmtInfo::Let(self.let_stmt(l))),
                ast::TestStmt::Assert(e) => stmts.push(TestStmtInfo::Assert(self.expr_expect(e, Ty::Bool))),
                ast::TestStmt::Population { name, rows, span } => {
                    let rows: Vec<TExpr> = rows
                        .iter()
                        .map(|r| {
                            let t = self.expr(r);
                            if !matches!(t.ty, Ty::Record(_) | Ty::Error) {
                                self.error(Diagnostic::new(&codes::TYPE_MISMATCH, "a population lists records", r.span, "not a record"));
                            }
                            t
                        })
                        .collect();
                    stmts.push(TestStmtInfo::Population { name: name.name.clone(), rows, span: *span });
                }
            }
        }
        self.m.tests.push(TestInfo {
            name: t.name.clone(),
            as_of: t.as_of.map(|d| d.day),
            locals: std::mem::take(&mut self.locals),
            stmts,
            loc: self.loc(t.span),
        });
        self.scope.clear();
    }
}
