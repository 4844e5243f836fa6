//! The Pol IR: a checked program lowered for one "as of" date, with parameters folded to
//! constants, tables as constant arrays, rule calls inlined, `match` and `brackets` expanded.
//!
//! It is a tree of expressions with named bindings (not SSA): the reference interpreter
//! ([`crate::interp`]) evaluates it and defines the semantics; the JIT translates it to machine
//! code that must agree bit for bit. Every binding keeps its name, line and citation (for
//! `pol trace`) and every operation that can fail carries a [`SiteId`] that names the rule,
//! the line and the citation in a runtime error.
//!
//! Values have one of two representations ([`Repr`]): `I64` (Int, Bool as 0/1, Date as days
//! since 1970-01-01, Months, enum index, named Money in fen) and `Num` (an exact
//! [`Frac`](crate::exact::Frac); Money counted in fen).

use crate::exact::{Frac, RoundMode};
use std::fmt::{self, Write};

/// Index into [`Program::inputs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InputId(pub u32);
/// Index into [`Program::tables`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);
/// A local variable, unique within one output's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);
/// Index into [`Program::sites`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteId(pub u32);

/// The runtime representation of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Repr {
    I64,
    Num,
}

/// The source-level type of an input or output, which fixes its column representation: the
/// kernel interface's own column type, so the runtime reads exactly what the IR declares.
pub use pol_kernel::ColumnType as ScalarTy;

/// The scale of `Decimal` and `Rate` columns: six decimal places.
pub const DECIMAL_COLUMN_SCALE: u32 = 6;

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The scheme or file name.
    pub name: String,
    /// The date parameters were resolved for (days since 1970-01-01).
    pub as_of: i64,
    pub inputs: Vec<Input>,
    pub tables: Vec<Table>,
    pub outputs: Vec<Output>,
    pub sites: Vec<Site>,
    /// Requirements over a run (from a framework's `aggregate` clauses), for the runtime.
    pub aggregates: Vec<pol_kernel::AggregateSpec>,
}

/// One input column: a record field (`r.birth_date` reads column `birth_date`) or a scalar
/// parameter of the entry rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub name: String,
    pub ty: ScalarTy,
    /// Inclusive bounds in the `I64` representation of `ty`.
    pub domain: Option<(i64, i64)>,
    pub is_id: bool,
}

/// A constant table: `keys[i]` maps to `values[i]`; keys are strictly increasing.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub repr: Repr,
    pub keys: Vec<i64>,
    pub values: Vec<Const>,
}

impl Table {
    /// Looks a key up (binary search).
    pub fn get(&self, key: i64) -> Option<Const> {
        self.keys.binary_search(&key).ok().map(|i| self.values[i])
    }

    /// When the keys are `k0, k0+1, …` the table is a dense array starting at `k0`.
    pub fn dense_start(&self) -> Option<i64> {
        let k0 = *self.keys.first()?;
        self.keys.iter().enumerate().all(|(i, k)| k0.checked_add(i as i64) == Some(*k)).then_some(k0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Const {
    I(i64),
    N(Frac),
}

impl Const {
    /// The exact value as a fraction (an `I64` value is a whole number).
    pub fn to_frac(self) -> Frac {
        match self {
            Const::I(i) => Frac::int(i),
            Const::N(n) => n,
        }
    }
}

/// One result column: a rule evaluated for each row. The body's result is always `I64`, the
/// column cell itself: `Num` results (Decimal, Rate) are scaled to
/// [`DECIMAL_COLUMN_SCALE`] places and rounded half away from zero by the lowering.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub name: String,
    pub ty: ScalarTy,
    pub body: Block,
    /// How many locals the body uses (`LocalId`s are `0..locals`).
    pub locals: u32,
}

/// A sequence of named bindings followed by a result. Bindings are evaluated in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub bindings: Vec<Binding>,
    pub result: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub local: LocalId,
    pub repr: Repr,
    pub value: Expr,
    /// Shown by `pol trace` when present: the source name, line and citation.
    pub trace: Option<TraceInfo>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TraceInfo {
    pub name: String,
    /// The rule the binding belongs to.
    pub rule: String,
    /// The source the binding is written in (a framework's or a scheme's), by its name.
    pub file: String,
    pub line: u32,
    pub cite: Option<String>,
    /// The source type, for rendering (`Money`, `Decimal`, …).
    pub ty: ScalarTy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    /// Exact division on `Num`; floor division on `I64`.
    Div,
    /// Floor remainder on `I64` (sign of the divisor); not defined on `Num`.
    Rem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub const ALL: [CmpOp; 6] = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];
}

/// Calendar functions on `I64` dates (days since 1970-01-01) and months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `(birth, at)` → whole years of age at `at`.
    AgeYears,
    /// `(from, to)` → whole calendar months from `from` to `to` (negative when `to < from`).
    MonthsBetween,
    /// `(date, months)` → the date `months` later, the day clamped to the month's end.
    AddMonths,
    /// `(date)` → the year.
    Year,
    /// `(date)` → the month, 1–12.
    Month,
    /// `(date)` → the day of the month.
    Day,
    /// `(year, month, day)` → a date; invalid dates are a row error.
    MakeDate,
}

impl Builtin {
    /// Every calendar function, for engines that register them all.
    pub const ALL: [Builtin; 7] =
        [Builtin::AgeYears, Builtin::MonthsBetween, Builtin::AddMonths, Builtin::Year, Builtin::Month, Builtin::Day, Builtin::MakeDate];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::AgeYears => "age_years",
            Builtin::MonthsBetween => "months_between",
            Builtin::AddMonths => "add_months",
            Builtin::Year => "year",
            Builtin::Month => "month",
            Builtin::Day => "day",
            Builtin::MakeDate => "make_date",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Builtin::Year | Builtin::Month | Builtin::Day => 1,
            Builtin::AgeYears | Builtin::MonthsBetween | Builtin::AddMonths => 2,
            Builtin::MakeDate => 3,
        }
    }
}

/// An expression. Operands are evaluated left to right. A local may be read wherever its
/// binding has certainly been evaluated before: later in its block, and also after the block
/// that binds it (a shared rule result), but not outside the lazy branch (`If` arms, the
/// right operand of `And`/`Or`) that holds the binding.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    ConstI(i64),
    ConstN(Frac),
    Input(InputId),
    Local(LocalId),
    /// `I64` → `Num`: the value `arg / den` for a constant `den > 0`.
    ToNum {
        arg: Box<Expr>,
        den: i128,
    },
    /// `Num` → `I64` rounded by `mode`; a result outside 64 bits is an overflow at `site`.
    RoundInt {
        arg: Box<Expr>,
        mode: RoundMode,
        site: SiteId,
    },
    /// `Num` → `Num`, a whole multiple of the positive constant `quantum`.
    RoundTo {
        arg: Box<Expr>,
        quantum: Frac,
        mode: RoundMode,
        site: SiteId,
    },
    /// Checked arithmetic on two operands of the same `repr`.
    Arith {
        op: ArithOp,
        repr: Repr,
        a: Box<Expr>,
        b: Box<Expr>,
        site: SiteId,
    },
    Neg {
        repr: Repr,
        arg: Box<Expr>,
        site: SiteId,
    },
    /// Comparison of two operands of the same `repr`; yields `I64` 0 or 1. `Num` comparisons
    /// cross-multiply and can overflow at `site`.
    Cmp {
        op: CmpOp,
        repr: Repr,
        a: Box<Expr>,
        b: Box<Expr>,
        site: SiteId,
    },
    /// `min` (or `max` when `max`) of two operands of the same `repr`; the first on ties.
    MinMax {
        max: bool,
        repr: Repr,
        a: Box<Expr>,
        b: Box<Expr>,
        site: SiteId,
    },
    Not(Box<Expr>),
    /// Lazy: `b` is evaluated only when `a` is true.
    And(Box<Expr>, Box<Expr>),
    /// Lazy: `b` is evaluated only when `a` is false.
    Or(Box<Expr>, Box<Expr>),
    /// Lazy: only the chosen branch is evaluated.
    If {
        repr: Repr,
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Call {
        func: Builtin,
        args: Vec<Expr>,
        site: SiteId,
    },
    /// A key missing from the table is an error at `site`.
    TableGet {
        table: TableId,
        key: Box<Expr>,
        site: SiteId,
    },
    Block(Box<Block>),
}

/// The body of [`Expr::for_each_child`] and [`Expr::for_each_child_mut`]: one list of an
/// expression's children for both, with `mut` or without.
macro_rules! visit_children {
    ($e:expr, $f:ident, $iter:ident $(, $m:tt)?) => {
        match $e {
            Expr::ConstI(_) | Expr::ConstN(_) | Expr::Input(_) | Expr::Local(_) => {}
            Expr::ToNum { arg, .. } | Expr::RoundInt { arg, .. } | Expr::RoundTo { arg, .. } | Expr::Neg { arg, .. } | Expr::Not(arg) => {
                $f(arg)
            }
            Expr::Arith { a, b, .. } | Expr::Cmp { a, b, .. } | Expr::MinMax { a, b, .. } | Expr::And(a, b) | Expr::Or(a, b) => {
                $f(a);
                $f(b);
            }
            Expr::If { cond, then, els, .. } => {
                $f(cond);
                $f(then);
                $f(els);
            }
            Expr::Call { args, .. } => args.$iter().for_each($f),
            Expr::TableGet { key, .. } => $f(key),
            Expr::Block(b) => {
                for binding in &$($m)? b.bindings {
                    $f(&$($m)? binding.value);
                }
                $f(&$($m)? b.result);
            }
        }
    };
}

impl Expr {
    /// Calls `f` on each direct sub-expression, and on the bindings' values and the result of
    /// a block, in evaluation order.
    pub fn for_each_child(&self, f: &mut impl FnMut(&Expr)) {
        visit_children!(self, f, iter)
    }

    /// Like [`Expr::for_each_child`], with each child mutable.
    pub fn for_each_child_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        visit_children!(self, f, iter_mut, mut)
    }
}

/// Why evaluation stopped at a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    Overflow = 0,
    DivisionByZero = 1,
    TableMiss = 2,
    InvalidDate = 3,
}

impl FaultKind {
    pub fn code(self) -> &'static str {
        match self {
            FaultKind::Overflow => "R0001",
            FaultKind::DivisionByZero => "R0002",
            FaultKind::TableMiss => "R0003",
            FaultKind::InvalidDate => "R0004",
        }
    }

    /// The diagnostic code registered for this fault.
    pub fn code_info(self) -> &'static crate::codes::Code {
        match self {
            FaultKind::Overflow => &crate::codes::OVERFLOW,
            FaultKind::DivisionByZero => &crate::codes::DIVISION_BY_ZERO,
            FaultKind::TableMiss => &crate::codes::TABLE_MISS,
            FaultKind::InvalidDate => &crate::codes::INVALID_DATE,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            FaultKind::Overflow => "arithmetic overflow",
            FaultKind::DivisionByZero => "division by zero",
            FaultKind::TableMiss => "key not in table",
            FaultKind::InvalidDate => "invalid date",
        }
    }

    fn from_index(i: u32) -> FaultKind {
        match i {
            0 => FaultKind::Overflow,
            1 => FaultKind::DivisionByZero,
            2 => FaultKind::TableMiss,
            _ => FaultKind::InvalidDate,
        }
    }
}

/// A place in the source where evaluation can fail.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub rule: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The source text of the failing operation, shortened.
    pub snippet: String,
    pub cite: Option<String>,
}

/// A failure at a site, as the engines report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fault {
    pub site: SiteId,
    pub kind: FaultKind,
}

impl Fault {
    /// The row status the kernels report: never 0.
    pub fn status(self) -> u32 {
        1 + self.site.0 * 4 + self.kind as u32
    }

    /// The inverse of [`Fault::status`]; `None` for 0.
    pub fn from_status(status: u32) -> Option<Fault> {
        let s = status.checked_sub(1)?;
        Some(Fault { site: SiteId(s / 4), kind: FaultKind::from_index(s % 4) })
    }
}

impl Program {
    /// Which inputs the outputs and the aggregate requirements read, by input index: the walk
    /// visits every child of every expression ([`Expr::for_each_child`] is exhaustive), so an
    /// input marked unread is never evaluated.
    pub fn inputs_read(&self) -> Vec<bool> {
        fn walk(e: &Expr, read: &mut [bool]) {
            if let Expr::Input(id) = e
                && let Some(slot) = read.get_mut(id.0 as usize)
            {
                *slot = true;
            }
            e.for_each_child(&mut |c| walk(c, read));
        }
        let mut read = vec![false; self.inputs.len()];
        for output in &self.outputs {
            for binding in &output.body.bindings {
                walk(&binding.value, &mut read);
            }
            walk(&output.body.result, &mut read);
        }
        for agg in &self.aggregates {
            for term in [&agg.lhs, &agg.rhs] {
                if let pol_kernel::ColumnRef::Input(i) = term.column
                    && let Some(slot) = read.get_mut(i)
                {
                    *slot = true;
                }
            }
        }
        read
    }

    /// A message for a fault: what failed, in which rule, at which line, under which citation.
    pub fn describe_fault(&self, fault: Fault) -> String {
        match self.sites.get(fault.site.0 as usize) {
            Some(site) => {
                let mut m = format!("{} in `{}` at {}:{}:{}", fault.kind.describe(), site.snippet, site.file, site.line, site.column);
                if let Some(c) = &site.cite {
                    let _ = write!(m, " ({c})");
                }
                m
            }
            None => fault.kind.describe().to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Printer

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "program {} as of {}", self.name, crate::calendar::format_date(self.as_of))?;
        for (i, input) in self.inputs.iter().enumerate() {
            write!(f, "input %{i} {}: {:?}", input.name, input.ty)?;
            if let Some((lo, hi)) = input.domain {
                write!(f, " in {lo} ..= {hi}")?;
            }
            if input.is_id {
                write!(f, " id")?;
            }
            writeln!(f)?;
        }
        for (i, t) in self.tables.iter().enumerate() {
            write!(f, "table #{i} {} [", t.name)?;
            for (j, (k, v)) in t.keys.iter().zip(&t.values).enumerate() {
                if j > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{k}: {}", ConstDisplay(*v))?;
            }
            writeln!(f, "]")?;
        }
        for out in &self.outputs {
            writeln!(f, "output {}: {:?} {{", out.name, out.ty)?;
            print_block(f, &out.body, 1)?;
            writeln!(f, "}}")?;
        }
        for (i, s) in self.sites.iter().enumerate() {
            writeln!(f, "site @{i} {} {}:{}:{} `{}`", s.rule, s.file, s.line, s.column, s.snippet)?;
        }
        Ok(())
    }
}

struct ConstDisplay(Const);

impl fmt::Display for ConstDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Const::I(i) => write!(f, "{i}"),
            Const::N(n) => write!(f, "{}/{}", n.num, n.den),
        }
    }
}

fn indent(f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
    for _ in 0..depth {
        f.write_str("  ")?;
    }
    Ok(())
}

fn print_block(f: &mut fmt::Formatter<'_>, b: &Block, depth: usize) -> fmt::Result {
    for bind in &b.bindings {
        indent(f, depth)?;
        write!(f, "let ${}: {:?} = ", bind.local.0, bind.repr)?;
        print_expr(f, &bind.value, depth)?;
        if let Some(t) = &bind.trace {
            write!(f, "  // {} (line {})", t.name, t.line)?;
        }
        writeln!(f)?;
    }
    indent(f, depth)?;
    print_expr(f, &b.result, depth)?;
    writeln!(f)
}

fn print_expr(f: &mut fmt::Formatter<'_>, e: &Expr, depth: usize) -> fmt::Result {
    match e {
        Expr::ConstI(i) => write!(f, "{i}"),
        Expr::ConstN(n) => write!(f, "{}/{}", n.num, n.den),
        Expr::Input(i) => write!(f, "%{}", i.0),
        Expr::Local(l) => write!(f, "${}", l.0),
        Expr::ToNum { arg, den } => {
            write!(f, "num(")?;
            print_expr(f, arg, depth)?;
            write!(f, ", /{den})")
        }
        Expr::RoundInt { arg, mode, site } => {
            write!(f, "{}_int@{}(", mode.name(), site.0)?;
            print_expr(f, arg, depth)?;
            write!(f, ")")
        }
        Expr::RoundTo { arg, quantum, mode, site } => {
            write!(f, "{}@{}(", mode.name(), site.0)?;
            print_expr(f, arg, depth)?;
            write!(f, ", to {}/{})", quantum.num, quantum.den)
        }
        Expr::Arith { op, repr, a, b, site } => {
            let name = match op {
                ArithOp::Add => "add",
                ArithOp::Sub => "sub",
                ArithOp::Mul => "mul",
                ArithOp::Div => "div",
                ArithOp::Rem => "rem",
            };
            write!(f, "{}.{}@{}(", name, repr_suffix(*repr), site.0)?;
            print_expr(f, a, depth)?;
            write!(f, ", ")?;
            print_expr(f, b, depth)?;
            write!(f, ")")
        }
        Expr::Neg { repr, arg, site } => {
            write!(f, "neg.{}@{}(", repr_suffix(*repr), site.0)?;
            print_expr(f, arg, depth)?;
            write!(f, ")")
        }
        Expr::Cmp { op, repr, a, b, site } => {
            let name = match op {
                CmpOp::Eq => "eq",
                CmpOp::Ne => "ne",
                CmpOp::Lt => "lt",
                CmpOp::Le => "le",
                CmpOp::Gt => "gt",
                CmpOp::Ge => "ge",
            };
            write!(f, "{}.{}@{}(", name, repr_suffix(*repr), site.0)?;
            print_expr(f, a, depth)?;
            write!(f, ", ")?;
            print_expr(f, b, depth)?;
            write!(f, ")")
        }
        Expr::MinMax { max, repr, a, b, site } => {
            write!(f, "{}.{}@{}(", if *max { "max" } else { "min" }, repr_suffix(*repr), site.0)?;
            print_expr(f, a, depth)?;
            write!(f, ", ")?;
            print_expr(f, b, depth)?;
            write!(f, ")")
        }
        Expr::Not(a) => {
            write!(f, "not(")?;
            print_expr(f, a, depth)?;
            write!(f, ")")
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            write!(f, "{}(", if matches!(e, Expr::And(..)) { "and" } else { "or" })?;
            print_expr(f, a, depth)?;
            write!(f, ", ")?;
            print_expr(f, b, depth)?;
            write!(f, ")")
        }
        Expr::If { cond, then, els, .. } => {
            write!(f, "if ")?;
            print_expr(f, cond, depth)?;
            write!(f, " then ")?;
            print_expr(f, then, depth)?;
            write!(f, " else ")?;
            print_expr(f, els, depth)
        }
        Expr::Call { func, args, site } => {
            write!(f, "{}@{}(", func.name(), site.0)?;
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                print_expr(f, a, depth)?;
            }
            write!(f, ")")
        }
        Expr::TableGet { table, key, site } => {
            write!(f, "#{}@{}[", table.0, site.0)?;
            print_expr(f, key, depth)?;
            write!(f, "]")
        }
        Expr::Block(b) => {
            writeln!(f, "{{")?;
            print_block(f, b, depth + 1)?;
            indent(f, depth)?;
            write!(f, "}}")
        }
    }
}

fn repr_suffix(r: Repr) -> &'static str {
    match r {
        Repr::I64 => "i",
        Repr::Num => "n",
    }
}
