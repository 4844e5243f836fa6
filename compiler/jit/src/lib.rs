//! Cranelift JIT for Pol: compiles an IR [`Program`] into one native function that evaluates a
//! whole batch of rows, with the interpreter's exact semantics (`pol_core::interp` is the oracle
//! and the differential tests hold the two engines to bit-for-bit agreement).
//!
//! Code map:
//! - `validate`: the IR invariants the translator relies on.
//! - `interval`: the range analysis that removes overflow checks and picks 64-bit registers.
//! - `translate`: the `FunctionTranslator` (row loop, expressions, fractions, conditionals,
//!   tables and calendar calls).
//! - `tables`: constant tables laid out for native code.
//! - `helpers`: the out-of-line slow paths, each delegating to `pol_core`.
//! - `native`: the Cranelift module that owns the compiled code.
//!
//! Invariants: no raw function pointer leaves this crate; a fault check is never evaluated for
//! an operand the interpreter would not evaluate. The range analysis trusts the declared input
//! domains (the kernel contract), so a cell outside its domain gives unspecified results, but
//! never undefined behaviour: table loads are clamped and hardware divisors kept positive.

mod error;
mod helpers;
mod interval;
mod native;
mod tables;
mod translate;
mod validate;

pub use error::JitError;

use native::NativeCode;
use pol_core::interp::{describe_status, signature};
use pol_core::ir::Program;
use pol_kernel::{Kernel, KernelSignature, RowErrorInfo, RowStatus};

/// A program compiled to native code: a [`Kernel`] that any number of threads may call at once.
pub struct JitKernel {
    program: Program,
    signature: KernelSignature,
    code: NativeCode,
}

// SAFETY: `NativeCode` holds a `JITModule` (raw pointers into executable memory) and the table
// arrays that code reads. After `compile` returns, nothing mutates either: the module is only
// touched again by `Drop`, which has exclusive access. The compiled function keeps no state of
// its own: it reads the immutable tables and its arguments, writes only the caller's output and
// status slices (exclusively borrowed by each `eval_batch` call) and a stack slot, and calls only
// the pure helpers of `helpers` and `pol_core::calendar`. So sharing `&JitKernel` across threads
// and moving it between threads is sound.
unsafe impl Send for JitKernel {}
// SAFETY: see the `Send` implementation above.
unsafe impl Sync for JitKernel {}

impl JitKernel {
    /// Compiles `program`. Fails only for a program that breaks the IR's invariants or a
    /// machine Cranelift does not support.
    pub fn compile(program: &Program) -> Result<JitKernel, JitError> {
        JitKernel::compile_capturing(program, None)
    }

    /// The optimised Cranelift IR of the kernel compiled from `program`, for inspection.
    pub fn clif(program: &Program) -> Result<String, JitError> {
        let mut text = String::new();
        JitKernel::compile_capturing(program, Some(&mut text))?;
        Ok(text)
    }

    fn compile_capturing(program: &Program, mut clif: Option<&mut String>) -> Result<JitKernel, JitError> {
        validate::validate(program)?;
        let code = match NativeCode::compile(program, true, clif.as_deref_mut()) {
            Ok(code) => code,
            // Speculated code with a fault check is a translator bug; branches are always
            // correct, so fall back to them (debug builds stop to make the bug visible).
            Err(JitError::Codegen(m)) if m.contains("speculated") => {
                debug_assert!(false, "{m}");
                NativeCode::compile(program, false, clif)?
            }
            Err(e) => return Err(e),
        };
        Ok(JitKernel { program: program.clone(), signature: signature(program), code })
    }

    pub fn program(&self) -> &Program {
        &self.program
    }
}

impl Kernel for JitKernel {
    fn signature(&self) -> &KernelSignature {
        &self.signature
    }

    fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]) {
        let rows = status.len();
        // The native code trusts these sizes, so a caller breaking the contract must stop here.
        assert_eq!(inputs.len(), self.program.inputs.len(), "wrong number of input columns");
        assert_eq!(outputs.len(), self.program.outputs.len(), "wrong number of output columns");
        assert!(inputs.iter().all(|c| c.len() >= rows), "an input column is shorter than the batch");
        assert!(outputs.iter().all(|c| c.len() >= rows), "an output column is shorter than the batch");
        let input_columns: Vec<*const i64> = inputs.iter().map(|c| c.as_ptr()).collect();
        let output_columns: Vec<*mut i64> = outputs.iter_mut().map(|c| c.as_mut_ptr()).collect();
        let entry = self.code.entry();
        // SAFETY: the code was compiled from `self.program`, so it reads exactly
        // `program.inputs.len()` input pointers and writes `program.outputs.len()` output
        // pointers, each for `rows` cells, and `rows` statuses; the asserts above establish all
        // of these sizes, the slices are live for the call, and the outputs and statuses are
        // borrowed exclusively. `self.code` keeps the function alive during the call.
        unsafe { entry(input_columns.as_ptr(), output_columns.as_ptr(), status.as_mut_ptr(), rows) };
    }

    fn describe_error(&self, status: RowStatus) -> RowErrorInfo {
        describe_status(&self.program, status)
    }

    fn engine(&self) -> &'static str {
        "jit"
    }
}
