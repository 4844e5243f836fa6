//! The checked program: every name resolved, every expression typed. This is what the
//! lowering, the compliance checker and the test runner consume.

use super::types::{EnumId, RecordId, Ty};
use crate::exact::RoundMode;
use crate::ir::Const;
use crate::span::Span;
use crate::syntax::ast::{AggOp, BinOp, RangeKind};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId(pub u32);
/// Index of a source file in [`Module::files`]: a framework is file 0 when a scheme is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileIdx(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    Enum(EnumId),
    Record(RecordId),
    Param(ParamId),
    Table(TableId),
    Rule(RuleId),
}

/// A position in one of the module's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub file: FileIdx,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    Framework { version: String },
    Scheme { implements: String, version: Option<String> },
    Rules,
}

#[derive(Clone, Debug)]
pub struct FileInfo {
    pub name: String,
    pub kind: FileKind,
    /// The header's name (`national_2026`), or the file name for plain rule files.
    pub module_name: String,
    pub title: Option<String>,
    pub effective: Option<i64>,
    /// The span of the header (`scheme … effective …`), where file-level findings point.
    pub header: Span,
}

#[derive(Clone, Debug)]
pub struct EnumInfo {
    pub name: String,
    pub variants: Vec<String>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    pub ty: Ty,
    /// Inclusive bounds in the IR representation (Money in fen; Decimal and Rate as fractions).
    pub domain: Option<(Const, Const)>,
    pub is_key: bool,
    /// Added by the scheme (`local record`), not by the framework.
    pub local: bool,
    /// The field's title as written (`"出生日期"`): what a province's export calls the column.
    pub title: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct RecordInfo {
    pub name: String,
    pub fields: Vec<FieldInfo>,
    /// The framework's `local fields for …`: the slots that may read fields a scheme adds
    /// (`None`: the record takes no local fields).
    pub local_for: Option<Vec<String>>,
    pub loc: Loc,
}

impl RecordInfo {
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Defined with values (nationally in a framework, or privately in a scheme or rule file).
    Defined,
    /// Declared by a framework for every scheme to set, with its allowed range.
    Local,
}

#[derive(Clone, Debug)]
pub struct DatedTExpr {
    pub from: Option<i64>,
    pub value: TExpr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ParamInfo {
    pub name: String,
    pub ty: Ty,
    pub kind: ParamKind,
    /// Values in increasing date order; empty for a local parameter a scheme has not set.
    pub values: Vec<DatedTExpr>,
    /// The file the values come from (a scheme sets a framework's local parameter).
    pub values_file: FileIdx,
    pub until: Option<i64>,
    /// For local parameters: the allowed range and further requirements.
    pub range: Option<(TExpr, RangeKind, TExpr)>,
    pub requires: Vec<TExpr>,
    pub cite: Option<String>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct TableInfo {
    pub name: String,
    pub key_ty: Ty,
    pub value_ty: Ty,
    /// Keys in increasing order, as `I64` values.
    pub rows: Vec<(i64, TExpr)>,
    pub cite: Option<String>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct LocalInfo {
    pub name: String,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LetInfo {
    pub local: u32,
    pub value: TExpr,
    pub cite: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub name: String,
    pub locked: bool,
    /// The first `params` locals are the parameters.
    pub params: usize,
    pub locals: Vec<LocalInfo>,
    pub ret: Ty,
    pub lets: Vec<LetInfo>,
    pub result: TExpr,
    pub cite: Option<String>,
    /// The approval document a provincial add-on (a filed slot's rule) was filed under.
    pub filed: Option<String>,
    pub loc: Loc,
    /// The span of the rule's signature line (name to return type), for diagnostics.
    pub head: Span,
}

impl RuleInfo {
    pub fn param_types(&self) -> Vec<Ty> {
        self.locals[..self.params].iter().map(|l| l.ty).collect()
    }

    /// Visits every expression of the body: the `let` values in order, then the result.
    pub fn walk_body(&self, f: &mut dyn FnMut(&TExpr)) {
        self.lets.iter().for_each(|l| l.value.walk(f));
        self.result.walk(f);
    }
}

#[derive(Clone, Debug)]
pub struct AggTermInfo {
    pub factor: Option<TExpr>,
    pub sum_of: TExpr,
}

#[derive(Clone, Debug)]
pub struct AggregateInfo {
    pub lhs: AggTermInfo,
    pub op: AggOp,
    pub rhs: AggTermInfo,
    pub text: String,
    pub cite: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct RequirementInfo {
    /// A Bool expression over the slot's parameters (locals `0..params`) and `result` (local
    /// `params`); for a two-record requirement, the numeric value that must move with the input.
    pub cond: TExpr,
    pub monotone: Option<MonotoneInfo>,
    pub text: String,
    pub cite: Option<String>,
    pub span: Span,
}

/// A two-record requirement: the value is monotone in one input of the slot, all other inputs
/// equal.
#[derive(Clone, Debug)]
pub struct MonotoneInfo {
    pub nondecreasing: bool,
    /// The slot parameter and, for a record, its field.
    pub param: usize,
    pub field: Option<usize>,
    pub span: Span,
}

/// A benefit slot declared by a framework.
#[derive(Clone, Debug)]
pub struct SlotInfo {
    pub name: String,
    pub params: Vec<LocalInfo>,
    pub ret: Ty,
    /// Allowed inputs: `(parameter index, field index)`; `None` field means the whole parameter.
    pub may_use: Option<Vec<(usize, Option<usize>)>>,
    pub requires: Vec<RequirementInfo>,
    pub aggregates: Vec<AggregateInfo>,
    pub cite: Option<String>,
    /// A filed slot (a provincial add-on): its value when the scheme does not define it.
    pub filed: Option<TExpr>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub enum TestStmtInfo {
    Let(LetInfo),
    Assert(TExpr),
    Population { name: String, rows: Vec<TExpr>, span: Span },
}

#[derive(Clone, Debug)]
pub struct TestInfo {
    pub name: String,
    pub as_of: Option<i64>,
    pub locals: Vec<LocalInfo>,
    pub stmts: Vec<TestStmtInfo>,
    pub loc: Loc,
}

/// A checked file, or a checked scheme together with its framework.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub files: Vec<FileInfo>,
    pub enums: Vec<EnumInfo>,
    pub records: Vec<RecordInfo>,
    pub params: Vec<ParamInfo>,
    pub tables: Vec<TableInfo>,
    pub rules: Vec<RuleInfo>,
    pub slots: Vec<SlotInfo>,
    /// The bounds a framework puts on its locked rules (compositions of slots): one entry per
    /// locked rule with `require`/`aggregate` clauses, named after the rule, shaped like a slot
    /// (`result` is the rule's value; no `may use`).
    pub locked_bounds: Vec<SlotInfo>,
    pub tests: Vec<TestInfo>,
    pub names: HashMap<String, Symbol>,
}

impl Module {
    pub fn lookup_rule(&self, name: &str) -> Option<RuleId> {
        match self.names.get(name) {
            Some(Symbol::Rule(r)) => Some(*r),
            _ => None,
        }
    }

    pub fn rule(&self, id: RuleId) -> &RuleInfo {
        &self.rules[id.0 as usize]
    }

    /// Everything a framework bounds: its slots, then its locked rules with clauses.
    pub fn bounds(&self) -> impl Iterator<Item = &SlotInfo> {
        self.slots.iter().chain(&self.locked_bounds)
    }

    /// The file checked last: the scheme when a framework was loaded first.
    pub fn main_file(&self) -> FileIdx {
        FileIdx(self.files.len().saturating_sub(1) as u32)
    }

    /// The name of a type, with enum and record names.
    pub fn ty_name(&self, ty: Ty) -> String {
        let names = |t: Ty| match t {
            Ty::Enum(e) => self.enums.get(e.0 as usize).map(|e| e.name.clone()).unwrap_or_default(),
            Ty::Record(r) => self.records.get(r.0 as usize).map(|r| r.name.clone()).unwrap_or_default(),
            _ => String::new(),
        };
        super::types::TyDisplay { ty, names: &names }.to_string()
    }
}

/// A typed expression.
#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinFn {
    Min,
    Max,
    Clamp,
    Abs,
    /// `round(x)`, `round(x, to: q)` and the other rounding modes.
    Round(RoundMode),
    Age,
    MonthsBetween,
    YearsBetween,
    AddMonths,
    Year,
    Month,
    Day,
    MakeDate,
    WholeYears,
    RemainingMonths,
    Years,
    MonthsOf,
    ToMonthly,
    ToYearly,
    /// `floor(x)`, `ceil(x)`: a Decimal or Rate to the Int below or above it.
    Floor,
    Ceil,
    /// `div(a, b)`, `rem(a, b)`: floor division and its remainder on Int.
    Div,
    Rem,
}

#[derive(Clone, Debug)]
pub enum TKind {
    Const(Const),
    Local(u32),
    Param(ParamId),
    Field(Box<TExpr>, usize),
    TableGet(TableId, Box<TExpr>),
    Call(RuleId, Vec<TExpr>),
    /// A framework's call of one of its slots (index into `Module::slots`), before it is linked
    /// to the rule a scheme implements it with ([`Module::link_slots`]).
    SlotCall(u32, Vec<TExpr>),
    Builtin(BuiltinFn, Vec<TExpr>),
    /// A record value with its fields in declaration order.
    Record(RecordId, Vec<TExpr>),
    Neg(Box<TExpr>),
    Not(Box<TExpr>),
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    If(Box<TExpr>, Box<TExpr>, Box<TExpr>),
    Match {
        scrutinee: Option<Box<TExpr>>,
        arms: Vec<TArm>,
    },
    Brackets {
        value: Box<TExpr>,
        bands: Vec<(Option<TExpr>, TExpr)>,
    },
    /// An expression that failed to check; never lowered.
    Error,
}

#[derive(Clone, Debug)]
pub enum TPattern {
    Else,
    Range(TExpr, RangeKind, TExpr),
    Compare(BinOp, TExpr),
    /// Equality with the scrutinee, or a condition when there is none.
    Value(TExpr),
}

#[derive(Clone, Debug)]
pub struct TArm {
    pub pattern: TPattern,
    pub guard: Option<TExpr>,
    pub body: TExpr,
    pub span: Span,
}

/// The children of a typed expression, for [`TExpr::walk`] and [`TExpr::walk_mut`]: one list for
/// both, with `mut` or without.
macro_rules! walk_children {
    ($e:expr, $f:ident, $walk:ident, $iter:ident $(, $m:tt)?) => {
        match & $($m)? $e.kind {
            TKind::Const(_) | TKind::Local(_) | TKind::Param(_) | TKind::Error => {}
            TKind::Field(e, _) | TKind::TableGet(_, e) | TKind::Neg(e) | TKind::Not(e) => e.$walk($f),
            TKind::Call(_, args) | TKind::SlotCall(_, args) | TKind::Builtin(_, args) | TKind::Record(_, args) => {
                args.$iter().for_each(|a| a.$walk($f))
            }
            TKind::Binary(_, a, b) => {
                a.$walk($f);
                b.$walk($f);
            }
            TKind::If(c, t, e) => {
                c.$walk($f);
                t.$walk($f);
                e.$walk($f);
            }
            TKind::Match { scrutinee, arms } => {
                if let Some(s) = scrutinee {
                    s.$walk($f);
                }
                for arm in arms {
                    match & $($m)? arm.pattern {
                        TPattern::Else => {}
                        TPattern::Range(a, _, b) => {
                            a.$walk($f);
                            b.$walk($f);
                        }
                        TPattern::Compare(_, v) | TPattern::Value(v) => v.$walk($f),
                    }
                    if let Some(g) = & $($m)? arm.guard {
                        g.$walk($f);
                    }
                    arm.body.$walk($f);
                }
            }
            TKind::Brackets { value, bands } => {
                value.$walk($f);
                for (upto, rate) in bands {
                    if let Some(u) = upto {
                        u.$walk($f);
                    }
                    rate.$walk($f);
                }
            }
        }
    };
}

impl TExpr {
    pub fn error(span: Span) -> TExpr {
        TExpr { kind: TKind::Error, ty: Ty::Error, span }
    }

    /// Visits this expression and every subexpression, parents first.
    pub fn walk(&self, f: &mut dyn FnMut(&TExpr)) {
        f(self);
        walk_children!(self, f, walk, iter);
    }

    /// Like [`TExpr::walk`], with each expression mutable (parents first).
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut TExpr)) {
        f(self);
        walk_children!(self, f, walk_mut, iter_mut, mut);
    }
}
