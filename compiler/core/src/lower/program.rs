//! Whole programs: the entry rules of a run as kernel outputs (with their inputs and aggregate
//! requirements), and a slot's requirement as a one-output program for the prover.

use super::*;

/// Lowers rules as the outputs of a batch kernel. Every entry rule must take the same
/// parameters; a record parameter's fields become input columns named after the fields, a
/// scalar parameter an input column named after the parameter.
pub fn lower_program(
    m: &Module,
    sources: &[SourceFile],
    name: &str,
    entries: &[RuleId],
    as_of: Option<i64>,
) -> Result<ir::Program, Vec<LowerError>> {
    let mut lw = Lowerer::new(m, sources, as_of);
    let Some(first) = entries.first() else {
        return lw.into_program(name, vec![], vec![], vec![]);
    };
    let first_info = m.rule(*first);
    let (inputs, env) = entry_env(m, *first);
    let mut outputs = Vec::new();
    for r in entries {
        let info = m.rule(*r);
        if info.param_types() != first_info.param_types() {
            lw.fail(
                info.loc.file,
                Diagnostic::new(
                    &codes::BAD_CALL,
                    format!("`{}` takes different inputs from `{}`", info.name, first_info.name),
                    info.head,
                    "cannot run in the same batch",
                ),
            );
            continue;
        }
        lw.reset_frame();
        let Body { bindings, result: BodyResult::Scalar(result) } = lw.rule_body(*r, env.clone()) else {
            lw.fail(
                info.loc.file,
                Diagnostic::new(
                    &codes::BAD_CALL,
                    format!("`{}` returns a record, which is not an output column", info.name),
                    info.head,
                    "returns a record",
                )
                .with_help("output the rules that compute its fields, or a rule returning one of them"),
            );
            continue;
        };
        let mut body = Block { bindings, result: Expr::Local(result) };
        if named_repr(info.ret) == Repr::Num {
            // Decimal results are written at six places.
            let site = lw.site(info.head);
            let scaled = Expr::Arith {
                op: ArithOp::Mul,
                repr: Repr::Num,
                a: bx(body.result),
                b: bx(Expr::ConstN(Frac::int(10i64.pow(ir::DECIMAL_COLUMN_SCALE)))),
                site,
            };
            let site = lw.site(info.head);
            body.result = Expr::RoundInt { arg: bx(scaled), mode: RoundMode::HalfAwayFromZero, site };
        }
        outputs.push(ir::Output { name: info.name.clone(), ty: scalar_ty(m, info.ret), body, locals: lw.next_local });
    }
    let aggregates = aggregate_specs(&mut lw, entries);
    lw.into_program(name, inputs, outputs, aggregates)
}

/// The aggregate requirements of the slots among `entries`, as columns of the kernel. Factors
/// (such as a dated national ratio) are resolved at the as-of date.
fn aggregate_specs(lw: &mut Lowerer, entries: &[RuleId]) -> Vec<pol_kernel::AggregateSpec> {
    use pol_kernel::{AggregateCmp, AggregateSpec, AggregateTerm, ColumnRef};
    let m = lw.m;
    let mut specs = Vec::new();
    for (o, r) in entries.iter().enumerate() {
        let rule = m.rule(*r);
        let Some(slot) = m.bounds().find(|s| s.name == rule.name) else { continue };
        lw.set_context(slot.loc.file, &slot.name);
        for a in &slot.aggregates {
            let term = |lw: &mut Lowerer, t: &check::AggTermInfo| -> Option<AggregateTerm> {
                let column = match &t.sum_of.kind {
                    TKind::Local(l) if *l as usize == slot.params.len() => ColumnRef::Output(o),
                    TKind::Field(base, f) if matches!(base.kind, TKind::Local(0)) => ColumnRef::Input(*f),
                    _ => return None,
                };
                let factor = match &t.factor {
                    Some(f) => {
                        let block = lw.lower_closed(f, &HashMap::new());
                        let c = lw.eval_const(block.result, f.span);
                        c.to_frac()
                    }
                    None => Frac::ONE,
                };
                Some(AggregateTerm { column, factor_num: factor.num, factor_den: factor.den })
            };
            let (Some(lhs), Some(rhs)) = (term(lw, &a.lhs), term(lw, &a.rhs)) else {
                // The checker admits only these two columns; an aggregate is never skipped.
                lw.fail(slot.loc.file, Diagnostic::internal("lowering", "an aggregate term that is not a column of the run", a.span));
                continue;
            };
            let src = lw.sources.get(slot.loc.file.0 as usize);
            let text = crate::compliance::clause_text(lw.sources, slot.loc.file, a.span);
            let (line, _) = src.map(|s| s.line_col(a.span.start)).unwrap_or((0, 0));
            let origin = format!("{}:{}", src.map(|s| s.name.clone()).unwrap_or_default(), line);
            let cmp = match a.op {
                crate::syntax::ast::AggOp::Lt => AggregateCmp::Lt,
                crate::syntax::ast::AggOp::Le => AggregateCmp::Le,
                crate::syntax::ast::AggOp::Gt => AggregateCmp::Gt,
                crate::syntax::ast::AggOp::Ge => AggregateCmp::Ge,
            };
            specs.push(AggregateSpec {
                slot: slot.name.clone(),
                text,
                origin,
                cite: a.cite.clone().or_else(|| slot.cite.clone()),
                lhs,
                cmp,
                rhs,
            });
        }
    }
    specs
}

/// The input columns of a rule's parameters and the environment that reads them.
fn entry_env(m: &Module, rule: RuleId) -> (Vec<ir::Input>, HashMap<u32, Val>) {
    let info = m.rule(rule);
    let mut inputs = Vec::new();
    let mut env: HashMap<u32, Val> = HashMap::new();
    for (i, p) in info.locals[..info.params].iter().enumerate() {
        match p.ty {
            Ty::Record(r) => {
                let rec = &m.records[r.0 as usize];
                let mut fields = Vec::new();
                for f in &rec.fields {
                    let id = ir::InputId(inputs.len() as u32);
                    let sty = scalar_ty(m, f.ty);
                    let domain = f.domain.and_then(|(lo, hi)| Some((input_cell(lo, &sty)?, input_cell(hi, &sty)?)));
                    inputs.push(ir::Input { name: f.name.clone(), ty: sty.clone(), domain, is_id: f.is_key });
                    fields.push(input_expr(id, &sty));
                }
                env.insert(i as u32, Val::Record(fields));
            }
            ty => {
                let id = ir::InputId(inputs.len() as u32);
                let sty = scalar_ty(m, ty);
                inputs.push(ir::Input { name: p.name.clone(), ty: sty.clone(), domain: None, is_id: false });
                env.insert(i as u32, Val::Scalar(input_expr(id, &sty)));
            }
        }
    }
    (inputs, env)
}

/// Lowers a slot requirement for a rule implementing the slot: a program whose one output
/// is the requirement (`I64` 0 or 1) evaluated with `result` bound to the rule's value.
/// `cond_file` is the framework file the requirement is written in.
pub fn lower_requirement(
    m: &Module,
    sources: &[SourceFile],
    rule: RuleId,
    cond: &TExpr,
    cond_file: FileIdx,
    as_of: Option<i64>,
) -> Result<ir::Program, Vec<LowerError>> {
    let mut lw = Lowerer::new(m, sources, as_of);
    let (inputs, mut env) = entry_env(m, rule);
    let info = m.rule(rule);
    let Body { bindings, result } = lw.rule_body(rule, env.clone());
    let result = match result {
        BodyResult::Scalar(l) => Val::Scalar(Expr::Local(l)),
        BodyResult::Record(ls) => Val::Record(ls.into_iter().map(Expr::Local).collect()),
    };
    let written = match (&result, cond.ty, named_repr(info.ret)) {
        // A Decimal or Rate result is written at six places (half away from zero): a
        // requirement must hold for the exact value other rules compute with and for the value
        // a run writes, which can differ at a bound (`result < 5%` and 4.99999999%).
        (Val::Scalar(exact), Ty::Bool, Repr::Num) => {
            let site = lw.site(info.head);
            let quantum = Frac::new(1, 10i128.pow(ir::DECIMAL_COLUMN_SCALE));
            let rounded = Expr::RoundTo { arg: bx(exact.clone()), quantum, mode: RoundMode::HalfAwayFromZero, site };
            let local = lw.fresh();
            Some((local, rounded))
        }
        _ => None,
    };
    env.insert(info.params as u32, result);
    lw.set_context(cond_file, &info.name);
    let mut cond_ir = lw.scalar(cond, &env);
    let mut bindings = bindings;
    if let Some((local, rounded)) = written {
        bindings.push(Binding { local, repr: Repr::Num, value: rounded, trace: None });
        env.insert(info.params as u32, Val::Scalar(Expr::Local(local)));
        let on_written = lw.scalar(cond, &env);
        cond_ir = Expr::And(bx(cond_ir), bx(on_written));
    }
    let block = Block { bindings, result: cond_ir };
    let out = ir::Output { name: format!("{} requirement", info.name), ty: ScalarTy::Bool, body: block, locals: lw.next_local };
    lw.into_program(&info.name, inputs, vec![out], vec![])
}

/// The `I64` column cell of a named constant of a scalar type.
pub fn input_cell(c: Const, ty: &ScalarTy) -> Option<i64> {
    match (c, ty) {
        (Const::I(i), ScalarTy::Decimal { scale }) => i.checked_mul(10i64.pow(*scale)),
        (Const::N(n), ScalarTy::Decimal { scale }) => {
            n.mul(Frac::int(10i64.pow(*scale))).ok()?.round_to_int(RoundMode::HalfAwayFromZero).ok()
        }
        (Const::I(i), _) => Some(i),
        (Const::N(n), _) => n.round_to_int(RoundMode::HalfAwayFromZero).ok(),
    }
}

/// How an input column is read in expressions: Decimal columns become exact fractions.
fn input_expr(id: ir::InputId, ty: &ScalarTy) -> Expr {
    match ty {
        ScalarTy::Decimal { scale } => Expr::ToNum { arg: bx(Expr::Input(id)), den: 10i128.pow(*scale) },
        _ => Expr::Input(id),
    }
}
