//! The abstract syntax tree of a Pol file: what the parser produces and `pol parse` prints.
//!
//! Every node that a diagnostic can point at carries a [`Span`]. Nothing here knows about pest.

use crate::span::Span;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct File {
    pub header: Option<Header>,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum HeaderKind {
    Framework { version: String },
    Scheme { implements: Ident, version: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Header {
    pub kind: HeaderKind,
    pub name: Ident,
    pub title: Option<String>,
    pub effective: Dated,
    pub cite: Option<Cite>,
    pub span: Span,
}

/// A date literal with its span.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Dated {
    /// Days since 1970-01-01.
    pub day: i64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cite {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Item {
    Enum(EnumDef),
    Record(RecordDef),
    Param(ParamDef),
    LocalParam(LocalParamDef),
    Table(TableDef),
    Rule(RuleDef),
    Slot(SlotDef),
    Test(TestDef),
}

impl Item {
    /// The defined name, for items that define one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Enum(d) => Some(&d.name),
            Item::Record(d) => Some(&d.name),
            Item::Param(d) => Some(&d.name),
            Item::LocalParam(d) => Some(&d.name),
            Item::Table(d) => Some(&d.name),
            Item::Rule(d) => Some(&d.name),
            Item::Slot(d) => Some(&d.name),
            Item::Test(_) => None,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Item::Enum(d) => d.span,
            Item::Record(d) => d.span,
            Item::Param(d) => d.span,
            Item::LocalParam(d) => d.span,
            Item::Table(d) => d.span,
            Item::Rule(d) => d.span,
            Item::Slot(d) => d.span,
            Item::Test(d) => d.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnumDef {
    pub name: Ident,
    pub title: Option<String>,
    pub variants: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordDef {
    pub name: Ident,
    pub title: Option<String>,
    pub fields: Vec<FieldDef>,
    /// A scheme's `local record`: fields it adds to the framework's record of this name.
    pub local: bool,
    /// A framework's `local fields for slot, ...`: the slots that may read a province's fields.
    pub local_for: Option<LocalFields>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocalFields {
    pub slots: Vec<Ident>,
    pub cite: Option<Cite>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDef {
    pub name: Ident,
    pub ty: TypeRef,
    pub domain: Option<RangeExpr>,
    pub is_key: bool,
    pub title: Option<String>,
    pub cite: Option<Cite>,
    pub span: Span,
}

/// A written type: a name (`Money`, `Date`, `Retiree`, …) and for money an optional period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypeRef {
    pub name: Ident,
    pub period: Option<Period>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Period {
    Month,
    Year,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RangeKind {
    /// `..=`
    Inclusive,
    /// `..<`
    Exclusive,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RangeExpr {
    pub lo: Expr,
    pub kind: RangeKind,
    pub hi: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamDef {
    pub name: Ident,
    pub ty: Option<TypeRef>,
    pub values: Vec<DatedValue>,
    pub until: Option<Dated>,
    pub cite: Option<Cite>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatedValue {
    pub value: Expr,
    pub from: Option<Dated>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocalParamDef {
    pub name: Ident,
    pub ty: TypeRef,
    pub domain: Option<RangeExpr>,
    pub requires: Vec<Expr>,
    pub cite: Option<Cite>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableDef {
    pub name: Ident,
    pub key_name: Ident,
    pub key_ty: TypeRef,
    pub value_ty: TypeRef,
    pub rows: Vec<TableRow>,
    pub cite: Option<Cite>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRow {
    pub key: Expr,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamDecl {
    pub name: Ident,
    pub ty: TypeRef,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleDef {
    pub locked: bool,
    pub name: Ident,
    pub params: Vec<ParamDecl>,
    pub ret: Option<TypeRef>,
    pub cite: Option<Cite>,
    pub body: Body,
    /// `filed "document"`: the approval document a scheme's provincial add-on was filed under.
    pub filed: Option<(String, Span)>,
    /// A locked rule's requirements and aggregates (a framework's bounds on a composition).
    pub requires: Vec<Requirement>,
    pub aggregates: Vec<Aggregate>,
    pub span: Span,
}

/// A rule body: `let` bindings then a result expression.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Body {
    pub lets: Vec<Let>,
    pub result: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Let {
    pub name: Ident,
    pub ty: Option<TypeRef>,
    pub value: Expr,
    pub cite: Option<Cite>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlotDef {
    /// A filed slot (a provincial add-on): the value when a scheme does not define it.
    pub filed: Option<Expr>,
    pub name: Ident,
    pub params: Vec<ParamDecl>,
    pub ret: TypeRef,
    pub cite: Option<Cite>,
    pub may_use: Vec<Expr>,
    pub requires: Vec<Requirement>,
    pub aggregates: Vec<Aggregate>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Requirement {
    /// The condition; for a two-record requirement, the value that moves with `monotone`'s input.
    pub cond: Expr,
    pub monotone: Option<Monotone>,
    pub cite: Option<Cite>,
    pub span: Span,
}

/// `… nondecreasing in r.contribution`: for any two records of the domain that differ only in
/// that input, the value does not decrease (or, `nonincreasing`, increase) as the input grows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Monotone {
    pub nondecreasing: bool,
    pub input: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AggOp {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AggTerm {
    pub factor: Option<Expr>,
    pub sum_of: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregate {
    pub lhs: AggTerm,
    pub op: AggOp,
    pub rhs: AggTerm,
    pub cite: Option<Cite>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestDef {
    pub name: String,
    pub as_of: Option<Dated>,
    pub stmts: Vec<TestStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TestStmt {
    Let(Let),
    /// `population name = [record, …]`: rows for the aggregate requirements of a scheme.
    Population {
        name: Ident,
        rows: Vec<Expr>,
        span: Span,
    },
    Assert(Expr),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Unit {
    /// A bare number.
    None,
    Yuan,
    Fen,
    Percent,
    Years,
    Months,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    /// A number with an optional unit, kept as its exact decimal digits: `digits / 10^scale`.
    Number {
        digits: i128,
        scale: u32,
        unit: Unit,
        period: Option<Period>,
    },
    Date(i64),
    Bool(bool),
    Name(Ident),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    Call {
        func: Ident,
        args: Vec<Arg>,
    },
    Record {
        name: Ident,
        fields: Vec<(Ident, Expr)>,
    },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Match {
        scrutinee: Option<Box<Expr>>,
        arms: Vec<Arm>,
    },
    Brackets {
        value: Box<Expr>,
        bands: Vec<Band>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arg {
    pub label: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Pattern {
    Else(Span),
    /// `lo ..= hi` or `lo ..< hi`.
    Range(RangeExpr),
    /// `>= 80`, `< 15 years`, …; the span covers the operator too.
    Compare(BinOp, Expr, Span),
    /// A value (with a scrutinee) or a condition (without one).
    Value(Expr),
}

impl Pattern {
    pub fn span(&self) -> Span {
        match self {
            Pattern::Else(s) => *s,
            Pattern::Range(r) => r.span,
            Pattern::Compare(_, _, s) => *s,
            Pattern::Value(e) => e.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Band {
    /// `None` for `above`.
    pub upto: Option<Expr>,
    pub rate: Expr,
    pub span: Span,
}
