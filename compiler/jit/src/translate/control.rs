//! Conditionals: `if`, lazy `and`/`or`, and every run-time choice between two computations.
//!
//! A choice whose condition the ranges decide is resolved at compile time. Otherwise, when
//! neither side can fault and both are cheap, both sides are computed and the result is a
//! `select` (branch-free code, which random records do not mispredict); else the choice becomes
//! a branch, so that a fault in the side not taken is never reported.

use super::{FunctionTranslator, Int, SELECT_BUDGET, Shape, Val, shape_of, unify};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{BlockArg, InstBuilder, Value};
use cranelift_codegen::packed_option::ReservedValue;
use pol_core::ir::Expr;

impl FunctionTranslator<'_, '_> {
    /// `if c != 0 { then } else { els }`, evaluating only the side taken.
    pub fn choose(&mut self, c: Int, then: &dyn Fn(&mut Self) -> Val, els: &dyn Fn(&mut Self) -> Val) -> Val {
        let allow = self.allow_select;
        self.choose_with(c, then, els, allow)
    }

    /// Like [`FunctionTranslator::choose`]; `may_select` false forces a branch (for sides that
    /// are only safe to run when the condition holds).
    pub fn choose_with(&mut self, c: Int, then: &dyn Fn(&mut Self) -> Val, els: &dyn Fn(&mut Self) -> Val, may_select: bool) -> Val {
        if !c.iv.contains(0) {
            return then(self);
        }
        if c.iv.as_point() == Some(0) {
            return els(self);
        }
        let (then_dry, then_report) = self.dry_run(then);
        let (els_dry, els_report) = self.dry_run(els);
        let shape = unify(shape_of(&then_dry), shape_of(&els_dry));
        let may_fault = then_report.may_fault || els_report.may_fault;
        if self.dry {
            self.report.may_fault |= may_fault;
            self.tick(then_report.cost + els_report.cost + 2);
            return self.dummy_val(shape);
        }
        let zero = self.int_const(0);
        let cond = self.compare(IntCC::NotEqual, c, zero);
        if may_select && !may_fault && then_report.cost + els_report.cost <= SELECT_BUDGET {
            self.speculating += 1;
            let a = then(self);
            let b = els(self);
            self.speculating -= 1;
            return self.select_val(cond, a, b);
        }

        let then_block = self.builder.create_block();
        let else_block = self.builder.create_block();
        let merge = self.builder.create_block();
        for part in shape_parts(shape) {
            if part.as_point().is_none() {
                self.builder.append_block_param(merge, super::width_type(part));
            }
        }
        self.builder.ins().brif(cond, then_block, &[], else_block, &[]);
        self.builder.seal_block(then_block);
        self.builder.seal_block(else_block);
        for (block, side) in [(then_block, then), (else_block, els)] {
            self.builder.switch_to_block(block);
            let v = side(self);
            let args: Vec<BlockArg> = self.conform(v, shape).into_iter().map(BlockArg::from).collect();
            self.builder.ins().jump(merge, &args);
        }
        self.builder.seal_block(merge);
        self.builder.switch_to_block(merge);
        let params = self.builder.block_params(merge).to_vec();
        let mut params = params.into_iter();
        self.build_from_shape(shape, &mut |_, _| params.next().unwrap_or_else(Value::reserved_value))
    }

    /// `c ? a : b` for an `i8` condition, both sides already computed.
    pub fn select_val(&mut self, c: Value, a: Val, b: Val) -> Val {
        let shape = unify(shape_of(&a), shape_of(&b));
        if self.dry {
            self.tick(2);
            return self.dummy_val(shape);
        }
        let a = self.conform(a, shape);
        let b = self.conform(b, shape);
        let mut pairs = a.into_iter().zip(b);
        self.build_from_shape(shape, &mut |t, _| match pairs.next() {
            Some((x, y)) => t.builder.ins().select(c, x, y),
            None => Value::reserved_value(),
        })
    }

    /// The registers of `v` laid out as `shape` wants them: one per part that is not a
    /// constant, each in the width of its part's range.
    fn conform(&mut self, v: Val, shape: Shape) -> Vec<Value> {
        let parts: Vec<Int> = match (v, shape) {
            (Val::I(i), Shape::I(_)) => vec![i],
            (Val::I(i), Shape::N(..)) => vec![i, self.int_const(1)],
            (Val::N(f), _) => vec![f.num, f.den],
        };
        let mut out = Vec::new();
        for (part, iv) in parts.into_iter().zip(shape_parts(shape)) {
            if iv.as_point().is_none() {
                out.push(self.at_width(part, !iv.fits_i64()));
            }
        }
        out
    }

    pub(super) fn dummy_val(&mut self, shape: Shape) -> Val {
        self.build_from_shape(shape, &mut |_, _| Value::reserved_value())
    }

    /// `a && b` or `a || b` as 0/1, `b` evaluated only when it decides.
    pub fn translate_and_or(&mut self, a: &Expr, b: &Expr, is_and: bool) -> Val {
        let x = self.translate_int(a);
        let second = |t: &mut Self| {
            let y = t.translate_int(b);
            let zero = t.int_const(0);
            let holds = t.compare(IntCC::NotEqual, y, zero);
            Val::I(t.bool_int(holds))
        };
        let decided = |t: &mut Self| Val::I(t.int_const(i128::from(!is_and)));
        if is_and { self.choose(x, &second, &decided) } else { self.choose(x, &decided, &second) }
    }
}

fn shape_parts(shape: Shape) -> Vec<crate::interval::Interval> {
    match shape {
        Shape::I(iv) => vec![iv],
        Shape::N(n, d) => vec![n, d],
    }
}
