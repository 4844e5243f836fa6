//! The Cranelift module: sets up the JIT for this machine, declares the helpers and calendar
//! functions the kernel calls, compiles the kernel, and owns the resulting code.

use crate::error::JitError;
use crate::helpers;
use crate::tables::TableData;
use crate::translate::{FunctionTranslator, Imports};
use cranelift_codegen::ir::{AbiParam, Signature, UserFuncName, types};
use cranelift_codegen::{Context, isa::TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use pol_core::calendar;
use pol_core::ir::{Builtin, Program};
use std::collections::HashMap;

/// The native entry point: evaluates `rows` rows. `inputs[i]` and `outputs[j]` point to
/// columns of at least `rows` cells, `status` to `rows` statuses.
pub(crate) type KernelFn = unsafe extern "C" fn(inputs: *const *const i64, outputs: *const *mut i64, status: *mut u32, rows: usize);

/// Compiled code and everything it points into.
pub(crate) struct NativeCode {
    /// `Some` until drop, which frees the code.
    module: Option<JITModule>,
    entry: KernelFn,
    /// The table arrays whose addresses are baked into the code.
    _tables: Vec<TableData>,
}

impl NativeCode {
    /// Compiles `program`; `allow_select` false turns every conditional into a branch. When
    /// `clif` is given it receives the optimised Cranelift IR of the kernel.
    pub fn compile(program: &Program, allow_select: bool, clif: Option<&mut String>) -> Result<NativeCode, JitError> {
        let tables: Vec<TableData> = program.tables.iter().map(TableData::build).collect();
        let mut builder =
            JITBuilder::with_flags(&[("opt_level", "speed")], default_libcall_names()).map_err(|e| JitError::Host(e.to_string()))?;
        for (name, address) in symbols() {
            builder.symbol(name, address);
        }
        let mut module = JITModule::new(builder);

        let imports = declare_imports(&mut module)?;
        let ptr = module.target_config().pointer_type();
        let mut signature = module.make_signature();
        for _ in 0..3 {
            signature.params.push(AbiParam::new(ptr));
        }
        signature.params.push(AbiParam::new(types::I64));
        let kernel_id = module.declare_function("pol_kernel", Linkage::Local, &signature).map_err(|e| JitError::Codegen(e.to_string()))?;

        let mut ctx = module.make_context();
        let mut function_ctx = FunctionBuilderContext::new();
        ctx.func.signature = signature;
        ctx.func.name = UserFuncName::user(0, kernel_id.as_u32());
        let refs = Imports {
            builtins: imports.builtins.iter().map(|(b, id)| (*b, module.declare_func_in_func(*id, &mut ctx.func))).collect(),
            mul_i128: module.declare_func_in_func(imports.mul_i128, &mut ctx.func),
            round_quotient: module.declare_func_in_func(imports.round_quotient, &mut ctx.func),
            int_div_rem: module.declare_func_in_func(imports.int_div_rem, &mut ctx.func),
            table_find: module.declare_func_in_func(imports.table_find, &mut ctx.func),
        };
        let broken = translate(&mut ctx, &mut function_ctx, program, &tables, &refs, module.target_config(), allow_select);
        if broken {
            return Err(JitError::Codegen("a fault check was emitted in speculated code".into()));
        }
        module.define_function(kernel_id, &mut ctx).map_err(|e| JitError::Codegen(format!("{e:?}")))?;
        if let Some(text) = clif {
            *text = ctx.func.display().to_string();
        }
        module.clear_context(&mut ctx);
        module.finalize_definitions().map_err(|e| JitError::Codegen(e.to_string()))?;
        let code = module.get_finalized_function(kernel_id);
        // SAFETY: `code` is the finalized body of `pol_kernel`, declared above with exactly the
        // parameters of `KernelFn` (three pointers and a pointer-sized count) under the default
        // calling convention of the host, which is `extern "C"`.
        let entry = unsafe { std::mem::transmute::<*const u8, KernelFn>(code) };
        Ok(NativeCode { module: Some(module), entry, _tables: tables })
    }

    pub fn entry(&self) -> KernelFn {
        self.entry
    }
}

/// Builds the kernel's body into `ctx`; returns true when speculation was broken.
fn translate(
    ctx: &mut Context,
    function_ctx: &mut FunctionBuilderContext,
    program: &Program,
    tables: &[TableData],
    imports: &Imports,
    config: TargetFrontendConfig,
    allow_select: bool,
) -> bool {
    let builder = FunctionBuilder::new(&mut ctx.func, function_ctx);
    let mut translator = FunctionTranslator::new(builder, program, tables, imports, config.pointer_type(), allow_select);
    translator.translate_program();
    let broken = translator.speculation_broken;
    translator.builder.finalize(config);
    broken
}

impl Drop for NativeCode {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: `entry` is private to this struct and never copied out of it beyond a
            // call that borrows `self`; no call is running while `self` is being dropped, so no
            // code of the module can run again.
            unsafe { module.free_memory() };
        }
    }
}

struct ImportIds {
    builtins: HashMap<Builtin, FuncId>,
    mul_i128: FuncId,
    round_quotient: FuncId,
    int_div_rem: FuncId,
    table_find: FuncId,
}

fn builtin_symbol(b: Builtin) -> &'static str {
    match b {
        Builtin::AgeYears => "pol_age_years",
        Builtin::MonthsBetween => "pol_months_between",
        Builtin::AddMonths => "pol_add_months",
        Builtin::Year => "pol_year",
        Builtin::Month => "pol_month",
        Builtin::Day => "pol_day",
        Builtin::MakeDate => "pol_make_date",
    }
}

/// Every function the generated code may call, by the name it is imported under.
fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("pol_age_years", calendar::pol_age_years as *const u8),
        ("pol_months_between", calendar::pol_months_between as *const u8),
        ("pol_add_months", calendar::pol_add_months as *const u8),
        ("pol_year", calendar::pol_year as *const u8),
        ("pol_month", calendar::pol_month as *const u8),
        ("pol_day", calendar::pol_day as *const u8),
        ("pol_make_date", calendar::pol_make_date as *const u8),
        ("pol_jit_mul_i128", helpers::pol_jit_mul_i128 as *const u8),
        ("pol_jit_round_quotient", helpers::pol_jit_round_quotient as *const u8),
        ("pol_jit_int_div_rem", helpers::pol_jit_int_div_rem as *const u8),
        ("pol_jit_table_find", helpers::pol_jit_table_find as *const u8),
    ]
}

fn declare_imports(module: &mut JITModule) -> Result<ImportIds, JitError> {
    let ptr = module.target_config().pointer_type();
    let declare = |module: &mut JITModule, name: &str, params: &[types::Type]| {
        let mut sig: Signature = module.make_signature();
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.push(AbiParam::new(types::I64));
        module.declare_function(name, Linkage::Import, &sig).map_err(|e| JitError::Codegen(e.to_string()))
    };
    let i = types::I64;
    let mut builtins = HashMap::new();
    for b in Builtin::ALL {
        let params = vec![i; b.arity()];
        builtins.insert(b, declare(module, builtin_symbol(b), &params)?);
    }
    Ok(ImportIds {
        builtins,
        mul_i128: declare(module, "pol_jit_mul_i128", &[i, i, i, i, ptr])?,
        round_quotient: declare(module, "pol_jit_round_quotient", &[i, i, i, i, i, ptr])?,
        int_div_rem: declare(module, "pol_jit_int_div_rem", &[i, i, i, ptr])?,
        table_find: declare(module, "pol_jit_table_find", &[ptr, i, i])?,
    })
}
