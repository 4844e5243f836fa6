//! The `FunctionTranslator`: turns one IR program into the body of a native batch kernel, a loop
//! over rows that evaluates every output of each row in order.
//!
//! Values are tracked together with their range ([`Interval`]); an integer whose range fits
//! 64 bits lives in an `i64` register, otherwise in an `i128` one, so that the exact 128-bit
//! semantics of `pol_core::exact` cost 64-bit instructions wherever that is provably the same.
//! The translator can run "dry" (emitting nothing) to learn whether an expression may fault and
//! what it costs, which decides when a conditional can become a branch-free `select`.

mod control;
mod frac;
mod int;
mod lookup;

use crate::interval::Interval;
use crate::tables::TableData;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    Block as ClifBlock, FuncRef, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Type, Value, types,
};
use cranelift_codegen::packed_option::ReservedValue;
use cranelift_frontend::{FunctionBuilder, Variable};
use pol_core::ir::{Builtin, Expr, Fault, FaultKind, InputId, LocalId, Program, Repr, SiteId};
use std::collections::HashMap;

/// An integer with exact (unbounded) semantics, held in `i64` when `iv` fits 64 bits and in
/// `i128` otherwise. In a dry run `v` is a placeholder that is never emitted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Int {
    pub v: Value,
    pub iv: Interval,
}

impl Int {
    /// True when the value needs an `i128` register.
    pub fn wide(&self) -> bool {
        !self.iv.fits_i64()
    }

    pub fn ty(&self) -> Type {
        width_type(self.iv)
    }
}

pub(crate) fn width_type(iv: Interval) -> Type {
    if iv.fits_i64() { types::I64 } else { types::I128 }
}

/// An exact fraction `num / den`; `den >= 1` on every path that does not fault.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frac {
    pub num: Int,
    pub den: Int,
}

/// A value of either representation, as the interpreter's `Const`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val {
    I(Int),
    N(Frac),
}

/// The ranges of a value's parts: what two values must agree on to meet at a join.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Shape {
    I(Interval),
    N(Interval, Interval),
}

/// Functions the kernel calls, imported into the function being built.
pub(crate) struct Imports {
    pub builtins: HashMap<Builtin, FuncRef>,
    pub mul_i128: FuncRef,
    pub round_quotient: FuncRef,
    pub int_div_rem: FuncRef,
    pub table_find: FuncRef,
}

/// A bound local: its shape and, when code is being emitted, the variables of its
/// non-constant parts.
#[derive(Clone, Debug)]
struct LocalSlot {
    shape: Shape,
    vars: Vec<Variable>,
}

/// What a dry run learned about an expression.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DryReport {
    pub may_fault: bool,
    pub cost: u32,
}

/// Selects are used only for conditionals whose two branches together cost at most this many
/// instructions: beyond it, computing both sides costs more than a mispredicted branch.
const SELECT_BUDGET: u32 = 48;

pub(crate) struct FunctionTranslator<'a, 'f> {
    pub builder: FunctionBuilder<'f>,
    program: &'a Program,
    tables: &'a [TableData],
    imports: &'a Imports,
    ptr: Type,
    /// Per row: the cells of the inputs the program reads, loaded once at the top of the row.
    input_cells: Vec<Option<Value>>,
    /// Where a fault jumps, with the row status as its argument.
    fault_block: ClifBlock,
    /// A 16-byte slot through which helpers return 128-bit results.
    scratch: StackSlot,
    locals: HashMap<LocalId, LocalSlot>,
    /// True while nothing may be emitted (see [`FunctionTranslator::dry_run`]).
    dry: bool,
    report: DryReport,
    /// Nesting depth of code evaluated speculatively for a `select`; no fault check may be
    /// emitted there.
    speculating: u32,
    /// Set when a fault check was emitted while speculating: a translator bug that makes the
    /// caller recompile without selects.
    pub speculation_broken: bool,
    allow_select: bool,
}

impl<'a, 'f> FunctionTranslator<'a, 'f> {
    pub fn new(
        builder: FunctionBuilder<'f>,
        program: &'a Program,
        tables: &'a [TableData],
        imports: &'a Imports,
        ptr: Type,
        allow_select: bool,
    ) -> Self {
        let mut builder = builder;
        let fault_block = builder.create_block();
        let scratch = builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4));
        FunctionTranslator {
            builder,
            program,
            tables,
            imports,
            ptr,
            input_cells: vec![None; program.inputs.len()],
            fault_block,
            scratch,
            locals: HashMap::new(),
            dry: false,
            report: DryReport::default(),
            speculating: 0,
            speculation_broken: false,
            allow_select,
        }
    }

    /// Emits the whole kernel: `fn(inputs, outputs, status, rows)`.
    pub fn translate_program(&mut self) {
        let ptr = self.ptr;
        let entry = self.builder.create_block();
        self.builder.append_block_params_for_function_params(entry);
        self.builder.switch_to_block(entry);
        let params = self.builder.block_params(entry).to_vec();
        let (inputs_ptr, outputs_ptr, status_ptr, rows) = (params[0], params[1], params[2], params[3]);

        // Column base pointers do not change during the batch: load them once.
        let flags = MemFlagsData::trusted().with_readonly();
        let used = inputs_used(self.program);
        let mut input_bases = vec![None; self.program.inputs.len()];
        for (i, base) in input_bases.iter_mut().enumerate() {
            if used[i] {
                *base = Some(self.builder.ins().load(ptr, flags, inputs_ptr, (i * 8) as i32));
            }
        }
        let output_bases: Vec<Value> =
            (0..self.program.outputs.len()).map(|j| self.builder.ins().load(ptr, flags, outputs_ptr, (j * 8) as i32)).collect();

        let row_var = self.builder.declare_var(types::I64);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.def_var(row_var, zero);
        let header = self.builder.create_block();
        let body = self.builder.create_block();
        let latch = self.builder.create_block();
        let exit = self.builder.create_block();
        self.builder.ins().jump(header, &[]);

        self.builder.switch_to_block(header);
        let row = self.builder.use_var(row_var);
        let more = self.builder.ins().icmp(IntCC::UnsignedLessThan, row, rows);
        self.builder.ins().brif(more, body, &[], exit, &[]);

        self.builder.switch_to_block(body);
        let row = self.builder.use_var(row_var);
        let offset = self.builder.ins().ishl_imm_u(row, 3);
        let cell_flags = MemFlagsData::trusted().with_readonly();
        for (i, base) in input_bases.iter().enumerate() {
            self.input_cells[i] = base.map(|b| {
                let addr = self.builder.ins().iadd(b, offset);
                self.builder.ins().load(types::I64, cell_flags, addr, 0)
            });
        }
        for (j, output) in self.program.outputs.iter().enumerate() {
            self.locals.clear();
            let value = self.translate_block(&output.body);
            let cell = self.as_int(value);
            let cell = self.narrow(cell);
            let addr = self.builder.ins().iadd(output_bases[j], offset);
            self.builder.ins().store(MemFlagsData::trusted(), cell, addr, 0);
        }
        let ok = self.builder.ins().iconst(types::I32, 0);
        self.store_status(status_ptr, row_var, ok);
        self.builder.ins().jump(latch, &[]);

        let fault_block = self.fault_block;
        let status = self.builder.append_block_param(fault_block, types::I32);
        self.builder.switch_to_block(fault_block);
        self.store_status(status_ptr, row_var, status);
        self.builder.ins().jump(latch, &[]);

        self.builder.switch_to_block(latch);
        let row = self.builder.use_var(row_var);
        let next = self.builder.ins().iadd_imm_s(row, 1);
        self.builder.def_var(row_var, next);
        self.builder.ins().jump(header, &[]);

        self.builder.switch_to_block(exit);
        self.builder.ins().return_(&[]);
        self.builder.seal_all_blocks();
    }

    fn store_status(&mut self, status_ptr: Value, row_var: Variable, status: Value) {
        let row = self.builder.use_var(row_var);
        let offset = self.builder.ins().ishl_imm_u(row, 2);
        let addr = self.builder.ins().iadd(status_ptr, offset);
        self.builder.ins().store(MemFlagsData::trusted(), status, addr, 0);
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    /// Translates an expression, keeping whichever representation it produces.
    pub fn translate_expr(&mut self, e: &Expr) -> Val {
        match e {
            Expr::ConstI(i) => Val::I(self.int_const(*i as i128)),
            Expr::ConstN(n) => Val::N(self.frac_const(n.num, n.den)),
            Expr::Input(id) => Val::I(self.translate_input(*id)),
            Expr::Local(l) => self.read_local(*l),
            Expr::ToNum { arg, den } => {
                let num = self.translate_int(arg);
                let den = self.int_const(*den);
                Val::N(Frac { num, den })
            }
            Expr::RoundInt { arg, mode, site } => {
                let x = self.translate_num(arg);
                let q = self.round_quotient(x.num, x.den, *mode);
                Val::I(self.fit_i64_checked(q, *site))
            }
            Expr::RoundTo { arg, quantum, mode, site } => {
                let x = self.translate_num(arg);
                Val::N(self.frac_round_to(x, *quantum, *mode, *site))
            }
            Expr::Arith { op, repr: Repr::I64, a, b, site } => {
                let x = self.translate_int(a);
                let y = self.translate_int(b);
                Val::I(self.int_arith(*op, x, y, *site))
            }
            Expr::Arith { op, repr: Repr::Num, a, b, site } => {
                let x = self.translate_num(a);
                let y = self.translate_num(b);
                Val::N(self.frac_arith(*op, x, y, *site))
            }
            Expr::Neg { repr: Repr::I64, arg, site } => {
                let x = self.translate_int(arg);
                Val::I(self.checked_neg(x, Interval::I64, *site))
            }
            Expr::Neg { repr: Repr::Num, arg, site } => {
                let x = self.translate_num(arg);
                let num = self.checked_neg(x.num, Interval::I128, *site);
                Val::N(Frac { num, den: x.den })
            }
            Expr::Cmp { op, repr, a, b, site } => {
                let holds = match repr {
                    Repr::I64 => {
                        let x = self.translate_int(a);
                        let y = self.translate_int(b);
                        self.compare(cmp_cc(*op), x, y)
                    }
                    Repr::Num => {
                        let x = self.translate_num(a);
                        let y = self.translate_num(b);
                        self.frac_cmp(cmp_cc(*op), x, y, *site)
                    }
                };
                Val::I(self.bool_int(holds))
            }
            Expr::MinMax { max, repr, a, b, site } => match repr {
                Repr::I64 => {
                    let x = self.translate_int(a);
                    let y = self.translate_int(b);
                    // The second operand wins only when strictly better: ties keep the first.
                    let cc = if *max { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
                    let take_second = self.compare(cc, x, y);
                    self.select_val(take_second, Val::I(y), Val::I(x))
                }
                Repr::Num => {
                    let x = self.translate_num(a);
                    let y = self.translate_num(b);
                    let cc = if *max { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
                    let take_second = self.frac_cmp(cc, x, y, *site);
                    self.select_val(take_second, Val::N(y), Val::N(x))
                }
            },
            Expr::Not(a) => {
                let x = self.translate_int(a);
                let zero = self.int_const(0);
                let is_zero = self.compare(IntCC::Equal, x, zero);
                Val::I(self.bool_int(is_zero))
            }
            Expr::And(a, b) => self.translate_and_or(a, b, true),
            Expr::Or(a, b) => self.translate_and_or(a, b, false),
            Expr::If { cond, then, els, .. } => {
                let c = self.translate_int(cond);
                self.choose(c, &|t: &mut Self| t.translate_expr(then), &|t: &mut Self| t.translate_expr(els))
            }
            Expr::Call { func, args, site } => Val::I(self.translate_call(*func, args, *site)),
            Expr::TableGet { table, key, site } => {
                let k = self.translate_int(key);
                self.translate_table_get(table.0 as usize, k, *site)
            }
            Expr::Block(b) => self.translate_block(b),
        }
    }

    /// Translates an expression where the interpreter reads an `I64` (`as_i`).
    pub fn translate_int(&mut self, e: &Expr) -> Int {
        let v = self.translate_expr(e);
        self.as_int(v)
    }

    /// Translates an expression where the interpreter reads a `Num` (`as_n`).
    pub fn translate_num(&mut self, e: &Expr) -> Frac {
        match self.translate_expr(e) {
            Val::N(f) => f,
            Val::I(i) => Frac { num: i, den: self.int_const(1) },
        }
    }

    /// The interpreter's `as_i`: a fraction read as an integer keeps its numerator's low 64
    /// bits (only a lowering bug produces that case, but both engines must agree on it).
    pub fn as_int(&mut self, v: Val) -> Int {
        match v {
            Val::I(i) => i,
            Val::N(f) if f.num.iv.fits_i64() => f.num,
            Val::N(f) => {
                let v = if self.dry { f.num.v } else { self.builder.ins().ireduce(types::I64, f.num.v) };
                Int { v, iv: Interval::I64 }
            }
        }
    }

    fn translate_input(&mut self, id: InputId) -> Int {
        let input = &self.program.inputs[id.0 as usize];
        // The kernel contract guarantees cells lie inside their declared domains.
        let iv = match input.domain {
            Some((lo, hi)) if lo <= hi => Interval::new(lo as i128, hi as i128),
            _ => Interval::I64,
        };
        let v = if self.dry { Value::reserved_value() } else { self.input_cells[id.0 as usize].unwrap_or_else(Value::reserved_value) };
        Int { v, iv }
    }

    pub fn translate_block(&mut self, b: &pol_core::ir::Block) -> Val {
        for binding in &b.bindings {
            let v = self.translate_expr(&binding.value);
            self.bind_local(binding.local, v);
        }
        self.translate_expr(&b.result)
    }

    fn bind_local(&mut self, local: LocalId, v: Val) {
        let shape = shape_of(&v);
        let mut vars = Vec::new();
        if !self.dry {
            for part in self.parts(v) {
                if part.iv.as_point().is_none() {
                    let var = self.builder.declare_var(part.ty());
                    self.builder.def_var(var, part.v);
                    vars.push(var);
                }
            }
        }
        self.locals.insert(local, LocalSlot { shape, vars });
    }

    fn read_local(&mut self, local: LocalId) -> Val {
        // Validation guarantees every local is bound before it is read.
        let Some(slot) = self.locals.get(&local).cloned() else {
            return Val::I(self.int_const(0));
        };
        let mut vars = slot.vars.into_iter();
        let dry = self.dry;
        self.build_from_shape(slot.shape, &mut |t: &mut Self, _iv: Interval| {
            let var = if dry { None } else { vars.next() };
            match var {
                Some(var) => t.builder.use_var(var),
                None => Value::reserved_value(),
            }
        })
    }

    /// The integer parts of a value: one for `I`, numerator and denominator for `N`.
    fn parts(&self, v: Val) -> Vec<Int> {
        match v {
            Val::I(i) => vec![i],
            Val::N(f) => vec![f.num, f.den],
        }
    }

    /// Rebuilds a value of `shape`: constant parts become constants, the others come from
    /// `next` in order.
    fn build_from_shape(&mut self, shape: Shape, next: &mut dyn FnMut(&mut Self, Interval) -> Value) -> Val {
        let mut part = |t: &mut Self, iv: Interval| match iv.as_point() {
            Some(c) => t.int_const(c),
            None => Int { v: next(t, iv), iv },
        };
        match shape {
            Shape::I(iv) => Val::I(part(self, iv)),
            Shape::N(n, d) => {
                let num = part(self, n);
                let den = part(self, d);
                Val::N(Frac { num, den })
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Faults and dry runs

    /// Counts instructions toward the cost of the expression being measured.
    fn tick(&mut self, n: u32) {
        self.report.cost += n;
    }

    /// Jumps to the fault block with `Fault { site, kind }` when `cond` is non-zero.
    pub fn fault_if(&mut self, cond: Value, site: SiteId, kind: FaultKind) {
        self.tick(1);
        self.report.may_fault = true;
        if self.dry {
            return;
        }
        if self.speculating > 0 {
            self.speculation_broken = true;
        }
        let status = Fault { site, kind }.status();
        let cont = self.builder.create_block();
        let status = self.builder.ins().iconst(types::I32, status as i64);
        self.builder.ins().brif(cond, self.fault_block, &[status.into()], cont, &[]);
        self.builder.switch_to_block(cont);
        self.builder.seal_block(cont);
    }

    /// A fault that always happens when this point is reached.
    pub fn fault_always(&mut self, site: SiteId, kind: FaultKind) {
        let one = if self.dry { Value::reserved_value() } else { self.builder.ins().iconst(types::I8, 1) };
        self.fault_if(one, site, kind);
    }

    /// Runs `f` without emitting code, and reports whether the code it would emit may fault and
    /// what it would cost. Locals it binds are forgotten afterwards.
    pub fn dry_run<T>(&mut self, f: &dyn Fn(&mut Self) -> T) -> (T, DryReport) {
        let saved_dry = self.dry;
        let saved_report = std::mem::take(&mut self.report);
        let saved_locals = self.locals.clone();
        self.dry = true;
        let out = f(self);
        let report = std::mem::replace(&mut self.report, saved_report);
        self.dry = saved_dry;
        self.locals = saved_locals;
        (out, report)
    }

    /// A placeholder value in dry runs.
    fn dummy(&self, iv: Interval) -> Int {
        Int { v: Value::reserved_value(), iv }
    }
}

pub(crate) fn shape_of(v: &Val) -> Shape {
    match v {
        Val::I(i) => Shape::I(i.iv),
        Val::N(f) => Shape::N(f.num.iv, f.den.iv),
    }
}

/// The shape both values fit in; an integer joins a fraction as `x / 1`, as `as_n` reads it.
pub(crate) fn unify(a: Shape, b: Shape) -> Shape {
    let as_n = |s: Shape| match s {
        Shape::I(iv) => (iv, Interval::point(1)),
        Shape::N(n, d) => (n, d),
    };
    match (a, b) {
        (Shape::I(x), Shape::I(y)) => Shape::I(x.union(y)),
        _ => {
            let (an, ad) = as_n(a);
            let (bn, bd) = as_n(b);
            Shape::N(an.union(bn), ad.union(bd))
        }
    }
}

fn cmp_cc(op: pol_core::ir::CmpOp) -> IntCC {
    use pol_core::ir::CmpOp;
    match op {
        CmpOp::Eq => IntCC::Equal,
        CmpOp::Ne => IntCC::NotEqual,
        CmpOp::Lt => IntCC::SignedLessThan,
        CmpOp::Le => IntCC::SignedLessThanOrEqual,
        CmpOp::Gt => IntCC::SignedGreaterThan,
        CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
    }
}

/// Which inputs the program reads anywhere, so each row loads only those.
fn inputs_used(program: &Program) -> Vec<bool> {
    fn walk(e: &Expr, used: &mut [bool]) {
        match e {
            Expr::Input(i) => {
                if let Some(u) = used.get_mut(i.0 as usize) {
                    *u = true;
                }
            }
            Expr::ConstI(_) | Expr::ConstN(_) | Expr::Local(_) => {}
            Expr::ToNum { arg, .. }
            | Expr::RoundInt { arg, .. }
            | Expr::RoundTo { arg, .. }
            | Expr::Neg { arg, .. }
            | Expr::Not(arg)
            | Expr::TableGet { key: arg, .. } => walk(arg, used),
            Expr::Arith { a, b, .. } | Expr::Cmp { a, b, .. } | Expr::MinMax { a, b, .. } | Expr::And(a, b) | Expr::Or(a, b) => {
                walk(a, used);
                walk(b, used);
            }
            Expr::If { cond, then, els, .. } => {
                walk(cond, used);
                walk(then, used);
                walk(els, used);
            }
            Expr::Call { args, .. } => args.iter().for_each(|a| walk(a, used)),
            Expr::Block(b) => walk_block(b, used),
        }
    }
    fn walk_block(b: &pol_core::ir::Block, used: &mut [bool]) {
        for binding in &b.bindings {
            walk(&binding.value, used);
        }
        walk(&b.result, used);
    }
    let mut used = vec![false; program.inputs.len()];
    for output in &program.outputs {
        walk_block(&output.body, &mut used);
    }
    used
}
