//! The compiled-kernel interface: what an engine (the reference interpreter or the Cranelift JIT)
//! offers the batch runtime, and nothing else.
//!
//! A kernel evaluates one compiled Pol program over a batch of rows stored column by column. Every
//! value crosses this boundary as an `i64` in a documented representation ([`ColumnType`]), so the
//! runtime needs no knowledge of the language, and any two engines can be compared value for value.

pub mod cell;

use std::fmt;

/// How a column's `i64` cells are to be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// Whole numbers.
    Int,
    /// `0` is false, `1` is true.
    Bool,
    /// Days since 1970-01-01 (proleptic Gregorian).
    Date,
    /// Whole months.
    Months,
    /// Money in fen (0.01 yuan).
    Money,
    /// An exact decimal scaled by `10^scale` (`Decimal` and `Rate` values).
    Decimal { scale: u32 },
    /// The index of a variant in `variants`.
    Enum { name: String, variants: Vec<String> },
}

impl ColumnType {
    /// The cells a column of this type with the declared `domain` admits: the declared domain,
    /// else every value of the type (a bool 0 or 1, an enum's variant indices, a date in the
    /// calendar's years 1..=9999, any 64-bit value otherwise). The compiler proves requirements
    /// for exactly these values and the runtime sends every other cell to the ledger: one domain
    /// for both, so nothing the prover assumed can be broken by data it did not consider.
    pub fn admitted(&self, domain: Option<(i64, i64)>) -> (i64, i64) {
        if let Some(d) = domain {
            return d;
        }
        match self {
            ColumnType::Bool => (0, 1),
            ColumnType::Enum { variants, .. } => (0, variants.len() as i64 - 1),
            ColumnType::Date => (cell::MIN_DAY, cell::MAX_DAY),
            ColumnType::Int | ColumnType::Months | ColumnType::Money | ColumnType::Decimal { .. } => (i64::MIN, i64::MAX),
        }
    }

    /// A short name used in messages (`money`, `date`, `enum Category`).
    pub fn describe(&self) -> String {
        match self {
            ColumnType::Int => "int".into(),
            ColumnType::Bool => "bool".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Months => "months".into(),
            ColumnType::Money => "money".into(),
            ColumnType::Decimal { scale } => format!("decimal(scale {scale})"),
            ColumnType::Enum { name, .. } => format!("enum {name}"),
        }
    }
}

/// One input or output column of a kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The column name in the data file (a record field name, or an output rule's name).
    pub name: String,
    pub ty: ColumnType,
    /// The declared domain, inclusive, in the column's `i64` representation.
    pub domain: Option<(i64, i64)>,
    /// Identifying columns are copied to every output and named in the error ledger.
    pub is_id: bool,
    /// Whether the kernel reads the input (always for outputs and ids). An input it does not
    /// read may be missing from the data: the runtime then fills it with placeholders, which the
    /// kernel never looks at.
    pub read: bool,
}

/// The columns a kernel reads and writes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KernelSignature {
    /// The name of the compiled program (scheme or file), for summaries.
    pub program: String,
    pub inputs: Vec<ColumnSpec>,
    pub outputs: Vec<ColumnSpec>,
    /// Requirements over a whole run, checked by the runtime once every row is evaluated.
    pub aggregates: Vec<AggregateSpec>,
}

/// A column of the kernel: an input or an output, by index in the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnRef {
    Input(usize),
    Output(usize),
}

/// `factor × sum(column)`, the factor an exact fraction `num / den` with `den > 0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateTerm {
    pub column: ColumnRef,
    pub factor_num: i128,
    pub factor_den: i128,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateCmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A requirement over a run, `lhs cmp rhs`, such as `sum(result) <= 2% * sum(r.monthly_pension)`.
/// Sums run over the rows that evaluated without error; they are exact (128-bit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateSpec {
    /// The slot the requirement belongs to.
    pub slot: String,
    /// The requirement as written in the framework.
    pub text: String,
    /// Where the framework states it (`file:line`) and its legal citation.
    pub origin: String,
    pub cite: Option<String>,
    pub lhs: AggregateTerm,
    pub cmp: AggregateCmp,
    pub rhs: AggregateTerm,
}

/// The status of one evaluated row: `0` is success; any other value is an error code that the
/// kernel's [`Kernel::describe_error`] explains.
pub type RowStatus = u32;

/// The status of a row that evaluated without error.
pub const ROW_OK: RowStatus = 0;

/// What went wrong on a row, in terms a benefit officer can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowErrorInfo {
    /// A stable code, e.g. `R0001` for an overflow.
    pub code: &'static str,
    /// The rule whose evaluation failed.
    pub rule: String,
    /// A message that names the rule, the source line and the citation where one exists.
    pub message: String,
}

impl fmt::Display for RowErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in rule `{}`: {}", self.code, self.rule, self.message)
    }
}

/// A compiled Pol program that evaluates whole batches of rows.
///
/// Implementations must be deterministic: the same input cells give the same output cells and
/// statuses, whatever the batch boundaries or the thread that calls them.
pub trait Kernel: Send + Sync {
    /// The columns this kernel reads and writes.
    fn signature(&self) -> &KernelSignature;

    /// Evaluates `status.len()` rows.
    ///
    /// `inputs[i]` is the column of `signature().inputs[i]`; `outputs[j]` receives the column of
    /// `signature().outputs[j]`. Every slice has `status.len()` cells. Input cells are already
    /// inside their declared domains. A row whose status is not [`ROW_OK`] has unspecified output
    /// cells.
    fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]);

    /// Explains a non-zero status produced by this kernel.
    fn describe_error(&self, status: RowStatus) -> RowErrorInfo;

    /// A short name of the engine (`jit`, `interp`), for summaries.
    fn engine(&self) -> &'static str;
}
