//! Exact conversions between the kernel's `i64` cells and text. They live in
//! [`pol_kernel::cell`], shared with the compiler, so a date or an amount reads and prints the
//! same in a rule file, on the command line and in a data file; this module names them for the
//! runtime.

pub use pol_kernel::cell::{
    DecimalParseError, civil_from_days, days_from_civil, format_cell as format_value, format_date, format_decimal, format_domain,
    parse_date, parse_decimal, scale_of,
};
