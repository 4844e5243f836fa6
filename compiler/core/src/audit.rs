//! What an audit sheet (`pol trace`) lists besides the traced steps: the parameters and tables
//! a rule depends on, directly or through the rules it calls, with each parameter's value in
//! force at the as-of date, and the input columns a lowered rule reads.

use crate::check::{DatedTExpr, Module, ParamId, ParamInfo, RuleId, TExpr, TKind, TableId, Ty};
use crate::ir::{Block, Const, Expr, InputId};
use crate::lower::{ClosedVal, Lowerer};
use crate::span::SourceFile;
use std::collections::{BTreeSet, HashMap};

/// The parameters and tables some rules depend on, each in declaration order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dependencies {
    pub params: Vec<ParamId>,
    pub tables: Vec<TableId>,
}

/// The parameters and tables `rules` read, through every rule they call, every parameter
/// whose value in force on `as_of` names another, and every table value that does.
pub fn dependencies(m: &Module, rules: &[RuleId], as_of: Option<i64>) -> Dependencies {
    let mut walk = Walk { m, as_of: Some(as_of), rules: BTreeSet::new(), params: BTreeSet::new(), tables: BTreeSet::new() };
    for r in rules {
        walk.rule(*r);
    }
    walk.done()
}

/// The parameters and tables `rules` and `exprs` read on any date: through every value of
/// every parameter they name, not only the value in force on one date.
pub fn dependencies_on_any_date(m: &Module, rules: &[RuleId], exprs: &[&TExpr]) -> Dependencies {
    let mut walk = Walk { m, as_of: None, rules: BTreeSet::new(), params: BTreeSet::new(), tables: BTreeSet::new() };
    for r in rules {
        walk.rule(*r);
    }
    for e in exprs {
        walk.expr(e);
    }
    walk.done()
}

struct Walk<'a> {
    m: &'a Module,
    /// The as-of date whose values are followed; `None` follows every value.
    as_of: Option<Option<i64>>,
    rules: BTreeSet<RuleId>,
    params: BTreeSet<ParamId>,
    tables: BTreeSet<TableId>,
}

impl Walk<'_> {
    fn done(self) -> Dependencies {
        Dependencies { params: self.params.into_iter().collect(), tables: self.tables.into_iter().collect() }
    }

    fn rule(&mut self, r: RuleId) {
        // Each rule is visited once; the checker rejects recursion, and the set makes a rule
        // called from many places cost one visit.
        if !self.rules.insert(r) {
            return;
        }
        let info = self.m.rule(r);
        for l in &info.lets {
            self.expr(&l.value);
        }
        self.expr(&info.result);
    }

    fn expr(&mut self, e: &TExpr) {
        let (mut rules, mut params, mut tables) = (Vec::new(), Vec::new(), Vec::new());
        e.walk(&mut |x: &TExpr| match &x.kind {
            TKind::Call(r, _) => rules.push(*r),
            TKind::Param(p) => params.push(*p),
            TKind::TableGet(t, _) => tables.push(*t),
            _ => {}
        });
        for p in params {
            if !self.params.insert(p) {
                continue;
            }
            let info = &self.m.params[p.0 as usize];
            match self.as_of {
                Some(as_of) => {
                    if let Some(v) = value_in_force(info, as_of) {
                        self.expr(&v.value);
                    }
                }
                None => {
                    for v in &info.values {
                        self.expr(&v.value);
                    }
                }
            }
        }
        for t in tables {
            if self.tables.insert(t) {
                for (_, v) in &self.m.tables[t.0 as usize].rows {
                    self.expr(v);
                }
            }
        }
        for r in rules {
            self.rule(r);
        }
    }
}

/// The value of a parameter in force on `as_of`, chosen as the lowering chooses it: an undated
/// parameter's only value, else the last value whose date is not after `as_of`. `None` when no
/// value applies (the lowering reports why).
pub fn value_in_force(p: &ParamInfo, as_of: Option<i64>) -> Option<&DatedTExpr> {
    let dated = p.values.iter().any(|v| v.from.is_some()) || p.until.is_some();
    match (as_of, dated) {
        (_, false) => p.values.first(),
        (None, true) => None,
        (Some(d), true) => p.values.iter().rev().find(|v| v.from.is_none_or(|f| f <= d)),
    }
}

/// One line of the parameters an audit sheet lists.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInForce {
    pub id: ParamId,
    pub name: String,
    pub ty: Ty,
    /// The value on the as-of date, or why there is none.
    pub value: Result<Const, String>,
    /// The date the value applies from; `None` for an undated value.
    pub from: Option<i64>,
    /// Where the value is written: the source's name and the line.
    pub file: String,
    pub line: u32,
    pub cite: Option<String>,
}

/// The value of each parameter on `as_of`, where it is written, and its citation.
pub fn parameters_in_force(m: &Module, sources: &[SourceFile], params: &[ParamId], as_of: Option<i64>) -> Vec<ParamInForce> {
    let mut lw = Lowerer::new(m, sources, as_of);
    params
        .iter()
        .map(|&id| {
            let info = &m.params[id.0 as usize];
            let chosen = value_in_force(info, as_of);
            // The value of a scheme's local parameter is written in the scheme.
            let (file, span) = match chosen {
                Some(v) => (info.values_file, v.span),
                None => (info.loc.file, info.loc.span),
            };
            let src = sources.get(file.0 as usize);
            lw.set_context(file, &info.name);
            let e = TExpr { kind: TKind::Param(id), ty: info.ty, span: info.loc.span };
            let value = match crate::values::eval_let(&mut lw, &e, info.ty, &HashMap::new()) {
                Ok(ClosedVal::Scalar(c)) => Ok(c),
                Ok(ClosedVal::Record(_)) => Err("a record-valued parameter".to_string()),
                Err((code, message, _)) => Err(format!("{message} ({code})")),
            };
            ParamInForce {
                id,
                name: info.name.clone(),
                ty: info.ty,
                value,
                from: chosen.and_then(|v| v.from),
                file: src.map(|s| s.name.clone()).unwrap_or_default(),
                line: src.map(|s| s.line_col(span.start).0).unwrap_or(0),
                cite: info.cite.clone(),
            }
        })
        .collect()
}

/// The inputs a lowered body reads anywhere (on any path), in column order.
pub fn inputs_read(body: &Block) -> Vec<InputId> {
    fn visit(e: &Expr, out: &mut BTreeSet<InputId>) {
        if let Expr::Input(i) = e {
            out.insert(*i);
        }
        e.for_each_child(&mut |c| visit(c, out));
    }
    let mut out = BTreeSet::new();
    for b in &body.bindings {
        visit(&b.value, &mut out);
    }
    visit(&body.result, &mut out);
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::exact::Frac;

    const SRC: &str = r#"
record R { pension: Money, years: Int, unused: Money }
param 定额 = 30 yuan cite "fixed amount"
param 比例: Rate = 1% from 2020-01-01 = 2% from 2024-01-01 cite "ratio"
param 倍数: Decimal = 3
param 上限: Money = 定额 * 倍数
param 无关 = 1 yuan
table 年限(y: Int) -> Money cite "years table" { 1: 1 yuan, 2: 2 yuan }
rule part(r: R) -> Money = r.pension * 比例
rule capped(r: R) -> Money = min(part(r), 上限)
rule total(r: R) -> Money {
  let a = 定额 + capped(r)
  a + 年限[r.years]
}
rule other(r: R) -> Money = 无关
"#;

    fn module() -> driver::Frontend {
        let f = driver::check_file(SourceFile::new("t.pol", SRC));
        assert!(!f.has_errors(), "{}", f.render());
        f
    }

    fn names(m: &Module, d: &Dependencies) -> (Vec<String>, Vec<String>) {
        (
            d.params.iter().map(|p| m.params[p.0 as usize].name.clone()).collect(),
            d.tables.iter().map(|t| m.tables[t.0 as usize].name.clone()).collect(),
        )
    }

    #[test]
    fn dependencies_follow_calls_and_parameter_values() {
        let f = module();
        let m = &f.module;
        let total = m.lookup_rule("total").expect("rule");
        let (params, tables) = names(m, &dependencies(m, &[total], Some(0)));
        // `上限` is read through `capped`, and names `定额` and `倍数`; `无关` is never read.
        assert_eq!(params, ["定额", "比例", "倍数", "上限"]);
        assert_eq!(tables, ["年限"]);
        let part = m.lookup_rule("part").expect("rule");
        assert_eq!(names(m, &dependencies(m, &[part], None)).0, ["比例"]);
    }

    #[test]
    fn parameters_in_force_take_the_dated_value_with_its_date_and_line() {
        let f = module();
        let m = &f.module;
        let total = m.lookup_rule("total").expect("rule");
        let as_of = crate::calendar::parse_date("2024-06-30");
        let deps = dependencies(m, &[total], as_of);
        let lines = parameters_in_force(m, &f.sources, &deps.params, as_of);
        let ratio = &lines[1];
        assert_eq!(ratio.name, "比例");
        let Ok(Const::N(r)) = ratio.value else { panic!("{:?}", ratio.value) };
        assert_eq!(r.cmp(Frac::new(2, 100)), Ok(std::cmp::Ordering::Equal));
        assert_eq!(ratio.from, crate::calendar::parse_date("2024-01-01"));
        assert_eq!((ratio.file.as_str(), ratio.line, ratio.cite.as_deref()), ("t.pol", 4, Some("ratio")));
        // 30 yuan × 3, named as Money: 9000 fen.
        assert_eq!(lines[3].value, Ok(Const::I(9000)));
        assert_eq!(lines[3].from, None);
        // Before the first date there is no value, and the line says why instead of showing one.
        let early = crate::calendar::parse_date("2019-01-01");
        let lines = parameters_in_force(m, &f.sources, &deps.params, early);
        assert!(lines[1].value.as_ref().is_err_and(|e| e.contains("E0402")), "{:?}", lines[1].value);
    }

    #[test]
    fn inputs_read_are_the_fields_the_lowered_rule_uses() {
        let f = module();
        let m = &f.module;
        let total = m.lookup_rule("total").expect("rule");
        let program = crate::lower::lower_program(m, &f.sources, "t", &[total], crate::calendar::parse_date("2024-01-01")).expect("lowers");
        let read: Vec<&str> = inputs_read(&program.outputs[0].body).iter().map(|i| program.inputs[i.0 as usize].name.as_str()).collect();
        assert_eq!(read, ["pension", "years"]);
    }
}
