//! Table lookups and calendar calls: the operations that read data or code outside the kernel.

use super::int::HELPER_COST;
use super::{Frac, FunctionTranslator, Int, Val};
use crate::interval::Interval;
use crate::tables::{Column, TableValues};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_codegen::packed_option::ReservedValue;
use pol_core::calendar::INVALID;
use pol_core::ir::{Builtin, Const, Expr, FaultKind, SiteId};

impl FunctionTranslator<'_, '_> {
    /// `table[key]`, a miss faulting at `site`.
    pub fn translate_table_get(&mut self, table: usize, key: Int, site: SiteId) -> Val {
        let tables = self.tables;
        let data = &tables[table];
        if let Some(k) = key.iv.as_point() {
            // A constant key is looked up now, with the interpreter's own search.
            let found = i64::try_from(k).ok().and_then(|k| self.program.tables[table].get(k));
            return match found {
                Some(Const::I(i)) if matches!(data.values, TableValues::Int { .. }) => Val::I(self.int_const(i as i128)),
                Some(Const::I(i)) => Val::N(self.frac_const(i as i128, 1)),
                Some(Const::N(f)) => Val::N(self.frac_const(f.num, f.den)),
                None => {
                    self.fault_always(site, FaultKind::TableMiss);
                    self.table_placeholder(table)
                }
            };
        }
        let len = data.len() as i128;
        let index = match data.dense_start {
            Some(k0) => {
                let exact = key.iv.sub(Interval::point(k0 as i128));
                let in_range = Interval::new(0, len - 1);
                self.tick(1);
                let index = if self.dry {
                    Value::reserved_value()
                } else {
                    // Wrapping subtraction: a key far from the table wraps to an index that is
                    // still out of range, since the keys span less than 2^63 values.
                    self.builder.ins().iadd_imm_s(key.v, (k0 as i128).wrapping_neg() as i64)
                };
                if exact.is_some_and(|e| e.within(in_range)) {
                    // The key's range proves a hit; clamping anyway keeps the load inside the
                    // table should a caller pass a cell outside its declared domain.
                    if self.dry {
                        index
                    } else {
                        let last = self.builder.ins().iconst(types::I64, len as i64 - 1);
                        self.builder.ins().umin(index, last)
                    }
                } else {
                    let miss =
                        if self.dry { index } else { self.builder.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, index, len as i64) };
                    self.fault_if(miss, site, FaultKind::TableMiss);
                    index
                }
            }
            None => {
                self.tick(HELPER_COST);
                let index = if self.dry {
                    Value::reserved_value()
                } else {
                    let keys = self.builder.ins().iconst(self.ptr, data.keys.as_ptr() as i64);
                    let n = self.builder.ins().iconst(types::I64, len as i64);
                    let call = self.builder.ins().call(self.imports.table_find, &[keys, n, key.v]);
                    self.builder.inst_results(call)[0]
                };
                let miss = if self.dry { index } else { self.builder.ins().icmp_imm_s(IntCC::SignedLessThan, index, 0) };
                self.fault_if(miss, site, FaultKind::TableMiss);
                index
            }
        };
        match &data.values {
            TableValues::Int { cells, iv } => Val::I(self.load_column(cells, *iv, index)),
            TableValues::Num { nums, num_iv, dens, den_iv } => {
                let num = self.load_column(nums, *num_iv, index);
                let den = self.load_column(dens, *den_iv, index);
                Val::N(Frac { num, den })
            }
        }
    }

    /// A value of the table's shape on a path that has already faulted.
    fn table_placeholder(&mut self, table: usize) -> Val {
        match self.tables[table].values {
            TableValues::Int { .. } => Val::I(self.int_const(0)),
            TableValues::Num { .. } => Val::N(self.frac_const(0, 1)),
        }
    }

    fn load_column(&mut self, column: &Column, iv: Interval, index: Value) -> Int {
        self.tick(2);
        if let Column::Same(c) = column {
            return self.int_const(*c);
        }
        if self.dry {
            return self.dummy(iv);
        }
        // Table memory never changes while the kernel lives.
        let flags = MemFlagsData::trusted().with_readonly();
        let v = match column {
            Column::Narrow(cells) => {
                let base = self.builder.ins().iconst(self.ptr, cells.as_ptr() as i64);
                let offset = self.builder.ins().ishl_imm_u(index, 3);
                let addr = self.builder.ins().iadd(base, offset);
                self.builder.ins().load(types::I64, flags, addr, 0)
            }
            Column::Wide(words) => {
                let base = self.builder.ins().iconst(self.ptr, words.as_ptr() as i64);
                let offset = self.builder.ins().ishl_imm_u(index, 4);
                let addr = self.builder.ins().iadd(base, offset);
                let lo = self.builder.ins().load(types::I64, flags, addr, 0);
                let hi = self.builder.ins().load(types::I64, flags, addr, 8);
                self.builder.ins().iconcat(lo, hi)
            }
            Column::Same(_) => Value::reserved_value(),
        };
        Int { v, iv }
    }

    /// A calendar function of `pol_core::calendar`, called exactly as the interpreter calls
    /// it: the first three arguments evaluated in order, missing ones zero.
    pub fn translate_call(&mut self, func: Builtin, args: &[Expr], site: SiteId) -> Int {
        let mut values = Vec::with_capacity(3);
        for arg in args.iter().take(3) {
            values.push(self.translate_int(arg));
        }
        while values.len() < 3 {
            values.push(self.int_const(0));
        }
        self.tick(HELPER_COST);
        let result = if self.dry {
            Value::reserved_value()
        } else {
            let callee = self.imports.builtins[&func];
            let args: Vec<Value> = values[..func.arity()].iter().map(|v| v.v).collect();
            let call = self.builder.ins().call(callee, &args);
            self.builder.inst_results(call)[0]
        };
        let invalid = if self.dry { result } else { self.builder.ins().icmp_imm_s(IntCC::Equal, result, INVALID) };
        self.fault_if(invalid, site, FaultKind::InvalidDate);
        Int { v: result, iv: Interval::new(INVALID as i128 + 1, i64::MAX as i128) }
    }
}
