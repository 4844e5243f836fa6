//! Name resolution and type checking: AST → [`Module`], with every error of the file reported.
//!
//! Items are declared first; rule bodies and parameter values are checked on demand, so a rule
//! may use another defined later in the file, and a cycle between rules (or parameters) is found
//! when a rule is reached again while it is still being checked.

mod consts;
mod expr;
mod items;
mod matches;
pub mod module;
pub mod types;

pub use consts::{fold, literal};
pub use module::*;
pub use types::{EnumId, RecordId, Ty};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::exact::Frac;
use crate::ir::Const;
use crate::span::Span;
use crate::syntax::ast::{self, HeaderKind, Item, RangeKind};
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    InProgress,
    Done,
}

/// The result of checking: the module (usable even with errors, for tooling) and every
/// diagnostic of the main file, sorted by position.
pub struct Checked {
    pub module: Module,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks a plain rule file or a framework.
pub fn check_file(file_name: &str, file: &ast::File) -> Checked {
    let mut c = Checker::new(Module::default());
    c.add_file(file_name, file);
    c.finish()
}

/// Checks a scheme on top of its already checked framework (whose diagnostics are the
/// framework's own business). Scheme-specific compliance is [`crate::compliance`]'s job.
pub fn check_scheme(framework: &Module, file_name: &str, file: &ast::File) -> Checked {
    let mut c = Checker::new(framework.clone());
    c.add_file(file_name, file);
    c.link_slots();
    c.finish()
}

pub(crate) struct Checker<'a> {
    pub(crate) m: Module,
    pub(crate) diags: Vec<Diagnostic>,
    file: FileIdx,
    rule_defs: HashMap<u32, (&'a ast::RuleDef, State)>,
    param_defs: HashMap<u32, (&'a ast::ParamDef, State)>,
    /// Names a scheme redefined from its framework (compliance reports them).
    pub(crate) redefinitions: Vec<(String, Span)>,
    /// The locals of the rule or test being checked.
    pub(crate) locals: Vec<LocalInfo>,
    pub(crate) scope: Vec<(String, u32)>,
    /// Every declared name by its confusable skeleton (UTS #39), with where it is declared.
    skeletons: HashMap<String, (String, Loc)>,
}

impl<'a> Checker<'a> {
    fn new(m: Module) -> Checker<'a> {
        Checker {
            m,
            diags: Vec::new(),
            file: FileIdx(0),
            rule_defs: HashMap::new(),
            param_defs: HashMap::new(),
            redefinitions: Vec::new(),
            locals: Vec::new(),
            scope: Vec::new(),
            skeletons: HashMap::new(),
        }
    }

    fn finish(mut self) -> Checked {
        crate::diagnostic::sort(&mut self.diags);
        Checked { module: self.m, diagnostics: self.diags }
    }

    pub(crate) fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(crate) fn loc(&self, span: Span) -> Loc {
        Loc { file: self.file, span }
    }

    fn add_file(&mut self, file_name: &str, file: &'a ast::File) {
        self.file = FileIdx(self.m.files.len() as u32);
        let (kind, module_name, title, effective, header) = match &file.header {
            Some(h) => {
                let kind = match &h.kind {
                    HeaderKind::Framework { version } => FileKind::Framework { version: version.clone() },
                    HeaderKind::Scheme { implements, version } => {
                        FileKind::Scheme { implements: implements.name.clone(), version: version.clone() }
                    }
                };
                (kind, h.name.name.clone(), h.title.clone(), Some(h.effective.day), h.span)
            }
            None => (FileKind::Rules, file_name.to_string(), None, None, Span::default()),
        };
        self.m.files.push(FileInfo { name: file_name.to_string(), kind, module_name, title, effective, header });
        let is_scheme = matches!(self.m.files[self.file.0 as usize].kind, FileKind::Scheme { .. });

        // Declare types first: records and enums may be used by everything else.
        for item in &file.items {
            match item {
                Item::Enum(e) => self.declare_enum(e),
                Item::Record(_) => {}
                _ => {}
            }
        }
        let record_ids: Vec<(usize, Option<RecordId>)> = file
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Item::Record(r) if !r.local => Some((i, self.declare_record_name(r))),
                _ => None,
            })
            .collect();
        for (i, id) in record_ids {
            if let (Item::Record(r), Some(id)) = (&file.items[i], id) {
                self.define_record_fields(id, r);
            }
        }
        for item in &file.items {
            if let Item::Record(r) = item
                && r.local
            {
                self.extend_record(r, is_scheme);
            }
        }
        for item in &file.items {
            match item {
                Item::Param(p) => self.declare_param(p, is_scheme),
                Item::LocalParam(p) => self.declare_local_param(p, is_scheme),
                Item::Rule(r) => self.declare_rule(r),
                _ => {}
            }
        }
        // Slot signatures before any body: a framework's locked rules may call its slots.
        for item in &file.items {
            if let Item::Slot(s) = item {
                self.declare_slot(s, is_scheme);
            }
        }
        for item in &file.items {
            if let Item::Record(r) = item {
                self.check_local_for(r);
            }
        }
        for item in &file.items {
            if let Item::Table(t) = item {
                self.define_table(t);
            }
        }
        // Parameter values, then rule bodies, on demand in source order.
        let params: Vec<u32> = self.param_defs.keys().copied().collect();
        let mut params = params;
        params.sort_unstable();
        for p in params {
            self.ensure_param(ParamId(p));
        }
        let mut rules: Vec<u32> = self.rule_defs.keys().copied().collect();
        rules.sort_unstable();
        for r in rules {
            self.ensure_rule(RuleId(r));
        }
        for item in &file.items {
            match item {
                Item::Slot(s) => self.define_slot(s),
                Item::Rule(r) => self.define_rule_bounds(r),
                Item::LocalParam(p) => self.check_local_param_bounds(p),
                Item::Test(t) => self.define_test(t),
                _ => {}
            }
        }
    }

    /// Registers a global name; reports a duplicate (or, in a scheme, a redefinition of a
    /// framework name, which compliance turns into C0102).
    fn claim_name(&mut self, name: &ast::Ident, sym: Symbol) -> bool {
        if let Some(existing) = self.m.names.get(&name.name) {
            let existing_file = self.symbol_file(*existing);
            if existing_file != self.file {
                self.redefinitions.push((name.name.clone(), name.span));
                self.error(
                    Diagnostic::new(
                        &codes::REDEFINES_NATIONAL,
                        format!("`{}` is defined by the framework and may not be redefined", name.name),
                        name.span,
                        "redefinition of a national definition",
                    )
                    .with_note(self.framework_note(*existing)),
                );
            } else {
                let prev = self.symbol_span(*existing);
                self.error(
                    Diagnostic::new(&codes::DUPLICATE, format!("`{}` is defined twice", name.name), name.span, "second definition")
                        .with_label(prev, "first defined here"),
                );
            }
            return false;
        }
        self.refuse_confusable(name);
        self.m.names.insert(name.name.clone(), sym);
        true
    }

    /// Fills the skeleton table with the names declared before this checker ran (a framework
    /// checked on its own first); the first declared name of a skeleton is the one others are
    /// compared with.
    fn seed_skeletons(&mut self) {
        if !self.skeletons.is_empty() {
            return;
        }
        let mut known: Vec<(String, String, Loc)> =
            self.m.names.iter().map(|(n, sym)| (skeleton(n), n.clone(), self.symbol_loc(*sym))).collect();
        known.extend(self.m.slots.iter().map(|s| (skeleton(&s.name), s.name.clone(), s.loc)));
        known.sort_by_key(|(_, n, loc)| (loc.file.0, loc.span.start, n.clone()));
        for (k, n, loc) in known {
            self.skeletons.entry(k).or_insert((n, loc));
        }
    }

    /// In a scheme, a name of its own scope (a `let`, a field it adds to a framework record) may
    /// not be, or look like, a name of the framework (E0006): a reader would take it for the
    /// national one. `also` lists further framework names to compare with (a record's fields).
    pub(crate) fn refuse_framework_lookalike(&mut self, name: &ast::Ident, also: &[String]) {
        if !matches!(self.m.files[self.file.0 as usize].kind, FileKind::Scheme { .. }) {
            return;
        }
        self.seed_skeletons();
        let mine = skeleton(&name.name);
        let global = self.skeletons.get(&mine).filter(|(_, loc)| loc.file != self.file).map(|(o, _)| o.clone());
        let Some(other) = global.or_else(|| also.iter().find(|o| skeleton(o) == mine).cloned()) else { return };
        let how = if other == name.name { "shadows" } else { "looks like" };
        self.error(
            Diagnostic::new(
                &codes::CONFUSABLE_NAME,
                format!("`{}` {how} the framework's `{other}`", name.name),
                name.span,
                "a name a reader would take for the national one",
            )
            .with_help("choose a name that does not resemble the framework's names"),
        );
    }

    /// A new name may not look like a different name already declared, in this file or the
    /// framework (E0006): the two would have the same confusable skeleton (UTS #39).
    pub(crate) fn refuse_confusable(&mut self, name: &ast::Ident) {
        self.seed_skeletons();
        let skeleton = skeleton(&name.name);
        match self.skeletons.get(&skeleton) {
            Some((other, loc)) if *other != name.name => {
                let (other, loc) = (other.clone(), *loc);
                let file = self.m.files.get(loc.file.0 as usize).map(|f| f.name.clone()).unwrap_or_default();
                let mut d = Diagnostic::new(
                    &codes::CONFUSABLE_NAME,
                    format!("`{}` looks like `{other}` but is another name", name.name),
                    name.span,
                    "confusable with another name",
                )
                .with_note(format!("`{other}` is defined in {file}; the two names have the same confusable skeleton (UTS #39)"))
                .with_help(format!("write `{other}` exactly, or choose a name that does not resemble it"));
                if loc.file == self.file {
                    d = d.with_label(loc.span, "the other name");
                }
                self.error(d);
            }
            Some(_) => {}
            None => {
                let loc = self.loc(name.span);
                self.skeletons.insert(skeleton, (name.name.clone(), loc));
            }
        }
    }

    pub(crate) fn symbol_loc(&self, sym: Symbol) -> Loc {
        match sym {
            Symbol::Enum(e) => self.m.enums[e.0 as usize].loc,
            Symbol::Record(r) => self.m.records[r.0 as usize].loc,
            Symbol::Param(p) => self.m.params[p.0 as usize].loc,
            Symbol::Table(t) => self.m.tables[t.0 as usize].loc,
            Symbol::Rule(r) => self.m.rules[r.0 as usize].loc,
        }
    }

    fn symbol_file(&self, sym: Symbol) -> FileIdx {
        self.symbol_loc(sym).file
    }

    fn symbol_span(&self, sym: Symbol) -> Span {
        self.symbol_loc(sym).span
    }

    /// "defined in the framework at FILE (line N)" with its citation, for compliance notes.
    pub(crate) fn framework_note(&self, sym: Symbol) -> String {
        let loc = self.symbol_loc(sym);
        let file = &self.m.files[loc.file.0 as usize];
        let cite = match sym {
            Symbol::Param(p) => self.m.params[p.0 as usize].cite.clone(),
            Symbol::Table(t) => self.m.tables[t.0 as usize].cite.clone(),
            Symbol::Rule(r) => self.m.rules[r.0 as usize].cite.clone(),
            _ => None,
        };
        let mut s = format!("defined nationally in {} ({})", file.name, file.module_name);
        if let Some(c) = cite {
            s.push_str(&format!(", {c}"));
        }
        s
    }

    fn declare_enum(&mut self, e: &ast::EnumDef) {
        let id = EnumId(self.m.enums.len() as u32);
        if !self.claim_name(&e.name, Symbol::Enum(id)) {
            return;
        }
        let mut variants: Vec<String> = Vec::new();
        for v in &e.variants {
            if variants.contains(&v.name) {
                self.error(Diagnostic::new(
                    &codes::DUPLICATE,
                    format!("variant `{}` is listed twice", v.name),
                    v.span,
                    "duplicate variant",
                ));
            } else {
                variants.push(v.name.clone());
            }
        }
        self.m.enums.push(EnumInfo { name: e.name.name.clone(), variants, loc: self.loc(e.span) });
    }

    fn declare_record_name(&mut self, r: &ast::RecordDef) -> Option<RecordId> {
        let id = RecordId(self.m.records.len() as u32);
        if !self.claim_name(&r.name, Symbol::Record(id)) {
            return None;
        }
        let local_for = r.local_for.as_ref().map(|l| l.slots.iter().map(|s| s.name.clone()).collect());
        self.m.records.push(RecordInfo { name: r.name.name.clone(), fields: Vec::new(), local_for, loc: self.loc(r.span) });
        Some(id)
    }

    fn define_record_fields(&mut self, id: RecordId, r: &ast::RecordDef) {
        let mut fields: Vec<FieldInfo> = Vec::new();
        for f in &r.fields {
            if let Some(info) = self.field_info(f, &fields, false) {
                fields.push(info);
            }
        }
        self.m.records[id.0 as usize].fields = fields;
    }

    /// One declared field, checked against the fields declared before it.
    fn field_info(&mut self, f: &ast::FieldDef, before: &[FieldInfo], local: bool) -> Option<FieldInfo> {
        if let Some(prev) = before.iter().find(|p| p.name == f.name.name) {
            let prev_span = prev.span;
            let mut d =
                Diagnostic::new(&codes::DUPLICATE, format!("field `{}` is declared twice", f.name.name), f.name.span, "second declaration");
            // A framework field's span lies in the framework's file.
            if !local || prev.local {
                d = d.with_label(prev_span, "first declared here");
            }
            self.error(d);
            return None;
        }
        let ty = self.resolve_type(&f.ty);
        if matches!(ty, Ty::Record(_)) {
            self.error(Diagnostic::new(
                &codes::UNKNOWN_TYPE,
                "a record field cannot hold a record",
                f.ty.span,
                "use the fields of that record directly",
            ));
        }
        let domain = f.domain.as_ref().and_then(|d| self.domain_bounds(d, ty));
        Some(FieldInfo { name: f.name.name.clone(), ty, domain, is_key: f.is_key, local, title: f.title.clone(), span: f.span })
    }

    /// A scheme's `local record R { … }`: fields the province adds to the framework's record
    /// `R`, which the framework must have opened with `local fields for …` (C0114). Each field
    /// cites where the province decided it, and none is a key.
    fn extend_record(&mut self, r: &ast::RecordDef, is_scheme: bool) {
        if !is_scheme {
            self.error(
                Diagnostic::new(
                    &codes::FRAMEWORK_ONLY,
                    "`local record` adds a province's fields to a framework record and belongs in a scheme",
                    r.name.span,
                    "`local record` outside a scheme",
                )
                .with_help("in a framework, open the record to provinces with `local fields for slot, …`"),
            );
            return;
        }
        let id = match self.m.names.get(&r.name.name) {
            Some(Symbol::Record(id)) if self.m.records[id.0 as usize].loc.file != self.file => *id,
            _ => {
                self.error(Diagnostic::new(
                    &codes::UNKNOWN_TYPE,
                    format!("the framework has no record `{}`", r.name.name),
                    r.name.span,
                    "unknown record",
                ));
                return;
            }
        };
        if self.m.records[id.0 as usize].local_for.is_none() {
            self.error(
                Diagnostic::new(
                    &codes::LOCAL_FIELD,
                    format!("framework record `{}` takes no local fields", r.name.name),
                    r.name.span,
                    "the framework does not delegate fields of this record",
                )
                .with_note("不得违规出台地方\"小政策\": a province adds inputs only where the framework says so"),
            );
            return;
        }
        let mut fields = std::mem::take(&mut self.m.records[id.0 as usize].fields);
        let national: Vec<String> = fields.iter().filter(|b| !b.local).map(|b| b.name.clone()).collect();
        for f in &r.fields {
            if f.cite.is_none() {
                self.error(
                    Diagnostic::new(&codes::LOCAL_FIELD, format!("local field `{}` has no citation", f.name.name), f.name.span, "uncited")
                        .with_help("add `cite \"…\"` naming the provincial document that defines the field"),
                );
            }
            if f.is_key {
                self.error(Diagnostic::new(
                    &codes::LOCAL_FIELD,
                    format!("local field `{}` cannot be a key", f.name.name),
                    f.name.span,
                    "the framework's record has its key",
                ));
            }
            self.refuse_framework_lookalike(&f.name, &national);
            if let Some(info) = self.field_info(f, &fields, true) {
                fields.push(info);
            }
        }
        self.m.records[id.0 as usize].fields = fields;
    }

    /// The slots a framework record's `local fields for` names must be slots of the file.
    fn check_local_for(&mut self, r: &ast::RecordDef) {
        let Some(l) = &r.local_for else { return };
        for s in &l.slots {
            if !self.m.slots.iter().any(|x| x.name == s.name && x.loc.file == self.file) {
                self.error(Diagnostic::new(
                    &codes::UNKNOWN_NAME,
                    format!("`{}` is not a slot of this framework", s.name),
                    s.span,
                    "local fields are read by slots",
                ));
            }
        }
    }

    /// Checks a declared domain and returns its inclusive bounds in the named representation.
    fn domain_bounds(&mut self, d: &ast::RangeExpr, ty: Ty) -> Option<(Const, Const)> {
        if ty == Ty::Error {
            return None;
        }
        if !ty.is_ordered() {
            self.error(Diagnostic::new(
                &codes::BAD_DOMAIN,
                format!("a {} field cannot have a range", self.m.ty_name(ty)),
                d.span,
                "only numbers, money, months and dates have ranges",
            ));
            return None;
        }
        let lo = self.const_of(&d.lo, ty)?;
        let hi = self.const_of(&d.hi, ty)?;
        let (lo, hi) = (self.named_const(lo, ty, d.lo.span)?, self.named_const(hi, ty, d.hi.span)?);
        let hi = match (d.kind, hi) {
            (RangeKind::Inclusive, h) => h,
            (RangeKind::Exclusive, Const::I(h)) => Const::I(h.checked_sub(1)?),
            (RangeKind::Exclusive, Const::N(h)) => {
                let step = Frac::new(1, 10i128.pow(crate::ir::DECIMAL_COLUMN_SCALE));
                Const::N(h.sub(step).ok()?)
            }
        };
        if lo.to_frac().cmp(hi.to_frac()).ok()? == std::cmp::Ordering::Greater {
            self.error(Diagnostic::new(&codes::BAD_DOMAIN, "the range is empty", d.span, "the lower bound is above the upper bound"));
            return None;
        }
        Some((lo, hi))
    }

    /// Checks an expression that must be a constant of type `want`, and folds it.
    pub(crate) fn const_of(&mut self, e: &ast::Expr, want: Ty) -> Option<Const> {
        let saved = (std::mem::take(&mut self.locals), std::mem::take(&mut self.scope));
        let t = self.expr(e);
        (self.locals, self.scope) = saved;
        if t.ty.is_error() {
            return None;
        }
        if !t.ty.fits(want) {
            let (found, wanted) = (self.m.ty_name(t.ty), self.m.ty_name(want));
            self.error(Diagnostic::new(
                &codes::TYPE_MISMATCH,
                format!("expected {wanted}, found {found}"),
                e.span,
                format!("this is {found}"),
            ));
            return None;
        }
        match fold(&self.m, &t) {
            Some(c) => Some(c),
            None => {
                self.error(Diagnostic::new(&codes::NOT_CONSTANT, "expected a constant", e.span, "not a constant"));
                None
            }
        }
    }

    /// Converts a folded constant to the representation a *named* value of `ty` has: Money is a
    /// whole number of fen; Int-like values are integers.
    fn named_const(&mut self, c: Const, ty: Ty, span: Span) -> Option<Const> {
        match ty {
            Ty::Money(_) => {
                let f = c.to_frac();
                if !f.is_integral() {
                    self.error(Diagnostic::new(
                        &codes::BAD_LITERAL,
                        "a money bound must be a whole number of fen",
                        span,
                        "more than two decimal places",
                    ));
                    return None;
                }
                f.to_i64_exact().ok().map(Const::I)
            }
            Ty::Decimal | Ty::Rate => Some(Const::N(c.to_frac())),
            _ => match c {
                Const::I(i) => Some(Const::I(i)),
                Const::N(n) if n.is_integral() => n.to_i64_exact().ok().map(Const::I),
                Const::N(_) => None,
            },
        }
    }

    pub(crate) fn resolve_type(&mut self, t: &ast::TypeRef) -> Ty {
        let ty = match t.name.name.as_str() {
            "Money" | "金额" => Ty::Money(t.period),
            "Rate" | "比例" => Ty::Rate,
            "Decimal" | "小数" => Ty::Decimal,
            "Int" | "整数" => Ty::Int,
            "Bool" | "布尔" => Ty::Bool,
            "Date" | "日期" => Ty::Date,
            "Months" | "月数" => Ty::Months,
            other => match self.m.names.get(other) {
                Some(Symbol::Enum(e)) => Ty::Enum(*e),
                Some(Symbol::Record(r)) => Ty::Record(*r),
                _ => {
                    self.error(
                        Diagnostic::new(&codes::UNKNOWN_TYPE, format!("unknown type `{other}`"), t.name.span, "not a type")
                            .with_help("types are Money, Rate, Decimal, Int, Bool, Date, Months, or a declared enum or record"),
                    );
                    return Ty::Error;
                }
            },
        };
        if t.period.is_some() && !matches!(ty, Ty::Money(_)) {
            self.error(Diagnostic::new(&codes::UNKNOWN_TYPE, "only Money has a period", t.span, "remove `/month` or `/year`"));
        }
        ty
    }

    /// Links every framework call of a slot to the scheme's rule implementing it (with the
    /// slot's signature), in rule bodies, requirements, parameter values and tests. A link that
    /// would make a rule call itself (the scheme's rule calling a locked rule that calls the
    /// slot) is reported and left unlinked, so nothing downstream follows a cycle.
    fn link_slots(&mut self) {
        let m = &self.m;
        let mut links: Vec<Option<RuleId>> =
            m.slots.iter().map(|s| m.lookup_rule(&s.name).filter(|r| crate::compliance::has_slot_signature(m, s, *r))).collect();
        // Call edges of each rule: rules called directly and slots called.
        let edges: Vec<(Vec<RuleId>, Vec<u32>)> = m
            .rules
            .iter()
            .map(|r| {
                let (mut rules, mut slots) = (Vec::new(), Vec::new());
                r.walk_body(&mut |e: &TExpr| match &e.kind {
                    TKind::Call(c, _) => rules.push(*c),
                    TKind::SlotCall(s, _) => slots.push(*s),
                    _ => {}
                });
                (rules, slots)
            })
            .collect();
        for s in 0..links.len() {
            let Some(start) = links[s] else { continue };
            // Does the implementing rule reach a call of slot `s` (following linked slots)?
            let mut seen = vec![false; edges.len()];
            let mut stack = vec![start];
            let mut cycle = None;
            while let Some(r) = stack.pop() {
                let i = r.0 as usize;
                if i >= edges.len() || std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                let (rules, slots) = &edges[i];
                if slots.contains(&(s as u32)) {
                    cycle = Some(r);
                    break;
                }
                stack.extend(rules.iter().copied());
                stack.extend(slots.iter().filter_map(|t| links.get(*t as usize).copied().flatten()));
            }
            if let Some(via) = cycle {
                let (name, head) = (self.m.rules[start.0 as usize].name.clone(), self.m.rules[start.0 as usize].head);
                let via = self.m.rules[via.0 as usize].name.clone();
                self.error(
                    Diagnostic::new(&codes::RECURSION, format!("rule `{name}` calls itself through `{via}`"), head, "recursive call")
                        .with_help(format!("the framework's `{via}` calls the slot `{name}`; the slot's rule may not call it back")),
                );
                links[s] = None;
            }
        }
        // A filed slot a scheme leaves out takes the framework's `else` amount.
        let in_scheme = matches!(self.m.files.last().map(|f| &f.kind), Some(FileKind::Scheme { .. }));
        let defaults: Vec<Option<TExpr>> =
            self.m.slots.iter().map(|s| s.filed.clone().filter(|_| in_scheme && self.m.lookup_rule(&s.name).is_none())).collect();
        let mut relink = |e: &mut TExpr| {
            let TKind::SlotCall(s, args) = &mut e.kind else { return };
            if let Some(Some(r)) = links.get(*s as usize) {
                e.kind = TKind::Call(*r, std::mem::take(args));
            } else if let Some(Some(d)) = defaults.get(*s as usize) {
                *e = d.clone();
            }
        };
        for rule in &mut self.m.rules {
            rule.lets.iter_mut().for_each(|l| l.value.walk_mut(&mut relink));
            rule.result.walk_mut(&mut relink);
        }
        for slot in self.m.slots.iter_mut().chain(&mut self.m.locked_bounds) {
            slot.requires.iter_mut().for_each(|r| r.cond.walk_mut(&mut relink));
        }
        for p in &mut self.m.params {
            p.values.iter_mut().for_each(|v| v.value.walk_mut(&mut relink));
            p.requires.iter_mut().for_each(|r| r.walk_mut(&mut relink));
        }
        for t in &mut self.m.tests {
            for stmt in &mut t.stmts {
                match stmt {
                    TestStmtInfo::Let(l) => l.value.walk_mut(&mut relink),
                    TestStmtInfo::Assert(e) => e.walk_mut(&mut relink),
                    TestStmtInfo::Population { rows, .. } => rows.iter_mut().for_each(|r| r.walk_mut(&mut relink)),
                }
            }
        }
    }

    fn declare_rule(&mut self, r: &'a ast::RuleDef) {
        let id = RuleId(self.m.rules.len() as u32);
        if !self.claim_name(&r.name, Symbol::Rule(id)) {
            return;
        }
        if r.locked && !matches!(self.m.files[self.file.0 as usize].kind, FileKind::Framework { .. }) {
            self.error(Diagnostic::new(
                &codes::FRAMEWORK_ONLY,
                "only a framework can lock a rule",
                r.name.span,
                "`locked` outside a framework",
            ));
        }
        let head_end = r.ret.as_ref().map(|t| t.span.end).unwrap_or(r.name.span.end);
        self.m.rules.push(RuleInfo {
            name: r.name.name.clone(),
            locked: r.locked,
            params: r.params.len(),
            locals: Vec::new(),
            ret: Ty::Error,
            lets: Vec::new(),
            result: TExpr::error(r.span),
            cite: r.cite.as_ref().map(|c| c.text.clone()),
            filed: r.filed.as_ref().map(|(d, _)| d.clone()),
            loc: self.loc(r.span),
            head: Span { start: r.span.start, end: head_end },
        });
        // Parameter types are needed by callers before the body is checked.
        let mut locals = Vec::new();
        for p in &r.params {
            let ty = self.resolve_type(&p.ty);
            if locals.iter().any(|l: &LocalInfo| l.name == p.name.name) {
                self.error(Diagnostic::new(
                    &codes::DUPLICATE,
                    format!("parameter `{}` is declared twice", p.name.name),
                    p.name.span,
                    "duplicate parameter",
                ));
            }
            locals.push(LocalInfo { name: p.name.name.clone(), ty, span: p.span });
        }
        let ret = r.ret.as_ref().map(|t| self.resolve_type(t));
        let info = &mut self.m.rules[id.0 as usize];
        info.locals = locals;
        if let Some(ret) = ret {
            info.ret = ret;
        }
        self.rule_defs.insert(id.0, (r, State::Pending));
    }

    /// Checks a rule's body if it has not been checked yet; reports recursion.
    pub(crate) fn ensure_rule(&mut self, id: RuleId) -> bool {
        let Some((def, state)) = self.rule_defs.get(&id.0).copied() else { return true };
        match state {
            State::Done => return true,
            State::InProgress => return false,
            State::Pending => {}
        }
        self.rule_defs.insert(id.0, (def, State::InProgress));
        let saved_locals = std::mem::take(&mut self.locals);
        let saved_scope = std::mem::take(&mut self.scope);
        self.locals = self.m.rules[id.0 as usize].locals.clone();
        self.scope = self.locals.iter().enumerate().map(|(i, l)| (l.name.clone(), i as u32)).collect();
        let lets: Vec<LetInfo> = def.body.lets.iter().map(|l| self.let_stmt(l)).collect();
        let declared = def.ret.is_some().then(|| self.m.rules[id.0 as usize].ret);
        let result = match declared {
            Some(ret) => self.expr_expect(&def.body.result, ret),
            None => self.expr(&def.body.result),
        };
        let info = &mut self.m.rules[id.0 as usize];
        if declared.is_none() {
            info.ret = result.ty;
        }
        info.locals = std::mem::replace(&mut self.locals, saved_locals);
        info.lets = lets;
        info.result = result;
        self.scope = saved_scope;
        self.rule_defs.insert(id.0, (def, State::Done));
        true
    }

    pub(crate) fn let_stmt(&mut self, l: &ast::Let) -> LetInfo {
        let declared = l.ty.as_ref().map(|t| self.resolve_type(t));
        let value = match declared {
            Some(t) => self.expr_expect(&l.value, t),
            None => self.expr(&l.value),
        };
        let ty = declared.unwrap_or(value.ty);
        self.refuse_framework_lookalike(&l.name, &[]);
        if let Some((_, prev)) = self.scope.iter().rev().find(|(n, _)| *n == l.name.name) {
            let prev_span = self.locals[*prev as usize].span;
            self.error(
                Diagnostic::new(&codes::DUPLICATE, format!("`{}` is already defined here", l.name.name), l.name.span, "second definition")
                    .with_label(prev_span, "first defined here")
                    .with_help("choose another name; names in a rule are defined once"),
            );
        }
        let local = self.locals.len() as u32;
        self.locals.push(LocalInfo { name: l.name.name.clone(), ty, span: l.span });
        self.scope.push((l.name.name.clone(), local));
        LetInfo { local, value, cite: l.cite.as_ref().map(|c| c.text.clone()), span: l.span }
    }
}

/// A name's confusable skeleton (Unicode Technical Standard #39).
fn skeleton(s: &str) -> String {
    unicode_security::confusable_detection::skeleton(s).collect()
}
