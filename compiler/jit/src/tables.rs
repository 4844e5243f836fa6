//! Constant tables laid out for native code: keys for search, and value columns in the
//! narrowest width that holds them, owned by the kernel for as long as its code lives.

use crate::interval::Interval;
use pol_core::exact::Frac;
use pol_core::ir::{Const, Table};

/// One part of the table values (all integers, or numerators, or denominators).
#[derive(Debug)]
pub(crate) enum Column {
    /// The same value in every row: nothing to load.
    Same(i128),
    /// One `i64` per row.
    Narrow(Box<[i64]>),
    /// Two `i64` words (low, high) per row.
    Wide(Box<[i64]>),
}

impl Column {
    fn build(values: &[i128]) -> (Column, Interval) {
        let lo = values.iter().copied().min().unwrap_or(0);
        let hi = values.iter().copied().max().unwrap_or(0);
        let iv = Interval::new(lo, hi);
        let column = if lo == hi {
            Column::Same(lo)
        } else if iv.fits_i64() {
            Column::Narrow(values.iter().map(|v| *v as i64).collect())
        } else {
            Column::Wide(values.iter().flat_map(|v| [*v as i64, (*v >> 64) as i64]).collect())
        };
        (column, iv)
    }
}

#[derive(Debug)]
pub(crate) enum TableValues {
    /// Every value is an integer: the table reads as `I64`.
    Int { cells: Column, iv: Interval },
    /// Some value is a fraction: every value reads as one (an integer `n` as `n / 1`, as the
    /// interpreter's `as_n` reads it).
    Num { nums: Column, num_iv: Interval, dens: Column, den_iv: Interval },
}

#[derive(Debug)]
pub(crate) struct TableData {
    pub keys: Box<[i64]>,
    /// `Some(k0)` when the keys are `k0, k0 + 1, …`: the index is `key - k0`.
    pub dense_start: Option<i64>,
    pub values: TableValues,
}

impl TableData {
    pub fn build(table: &Table) -> TableData {
        let any_frac = table.values.iter().any(|v| matches!(v, Const::N(_)));
        let values = if any_frac {
            let fracs: Vec<Frac> = table
                .values
                .iter()
                .map(|v| match v {
                    Const::N(f) => *f,
                    Const::I(i) => Frac::int(*i),
                })
                .collect();
            let (nums, num_iv) = Column::build(&fracs.iter().map(|f| f.num).collect::<Vec<_>>());
            let (dens, den_iv) = Column::build(&fracs.iter().map(|f| f.den).collect::<Vec<_>>());
            TableValues::Num { nums, num_iv, dens, den_iv }
        } else {
            let ints: Vec<i128> = table
                .values
                .iter()
                .map(|v| match v {
                    Const::I(i) => *i as i128,
                    Const::N(f) => f.num,
                })
                .collect();
            let (cells, iv) = Column::build(&ints);
            TableValues::Int { cells, iv }
        };
        TableData { keys: table.keys.clone().into_boxed_slice(), dense_start: table.dense_start(), values }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}
