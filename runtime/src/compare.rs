//! Two kernels over the same records in one pass: the kernel `pol diff` runs.
//!
//! A [`Comparison`] is itself a [`Kernel`]: its inputs are the union of both kernels' inputs
//! (matched by name; the same type, the intersection of the domains), its outputs are the
//! record's read fields as read (so that a report can group records and rebuild each one), then
//! `base_<name>` and `draft_<name>` for every output of either kernel and `change_<name>` (draft −
//! base, exact) for every output both have with the same type, and its aggregate requirements
//! are both kernels', named `base · <slot>` and `draft · <slot>`. A row that faults in either
//! kernel goes to the ledger with the kernel named in the message: a difference is only ever
//! taken between two results that both exist. [`ColumnKernel`] stands for a base that is a column
//! of the input (last year's amounts).

use pol_kernel::{
    AggregateSpec, AggregateTerm, ColumnRef, ColumnSpec, ColumnType, Kernel, KernelSignature, ROW_OK, RowErrorInfo, RowStatus,
};

use crate::error::RuntimeError;

/// Prefixes of a comparison's output columns.
pub const BASE_PREFIX: &str = "base_";
pub const DRAFT_PREFIX: &str = "draft_";
pub const CHANGE_PREFIX: &str = "change_";

/// The status bit that marks a draft fault; base faults keep their status.
const DRAFT_BIT: RowStatus = 1 << 31;
/// The status of a row whose change does not fit in 64 bits.
const CHANGE_OVERFLOW: RowStatus = DRAFT_BIT;
/// The status of a row for which a kernel returned a status beyond the range it numbers its
/// faults in (which the engines never do): an internal error, in the ledger.
const OUT_OF_RANGE: RowStatus = RowStatus::MAX;

/// Where an output of the comparison comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// An input of the comparison, copied.
    Echo(usize),
    Base(usize),
    Draft(usize),
    /// `draft[j] - base[i]`.
    Change {
        base: usize,
        draft: usize,
    },
}

/// Two kernels evaluated over the same rows, with their results side by side.
pub struct Comparison<'k> {
    base: Option<&'k dyn Kernel>,
    draft: &'k dyn Kernel,
    sig: KernelSignature,
    /// For each input of each kernel, its index among the comparison's inputs.
    base_inputs: Vec<usize>,
    draft_inputs: Vec<usize>,
    sources: Vec<Source>,
}

impl<'k> Comparison<'k> {
    /// The comparison of `draft` against `base`, named `program`; without a base, the draft's
    /// outputs under their own names beside the fields it read (a report on one scheme). Fails
    /// when the two read a column of the same name with different types, or when an output name
    /// would be taken twice. `also` names record fields neither kernel reads that are to be read
    /// and copied to the output too (a report groups records by them; the data must hold them).
    pub fn new(program: &str, base: Option<&'k dyn Kernel>, draft: &'k dyn Kernel, also: &[String]) -> Result<Self, RuntimeError> {
        let none = KernelSignature::default();
        let (bs, ds) = (base.map_or(&none, |b| b.signature()), draft.signature());
        let mut inputs: Vec<ColumnSpec> = Vec::new();
        let mut place = |spec: &ColumnSpec| -> Result<usize, RuntimeError> {
            match inputs.iter().position(|c| c.name == spec.name) {
                None => {
                    inputs.push(spec.clone());
                    Ok(inputs.len() - 1)
                }
                Some(i) => {
                    let have = &mut inputs[i];
                    if have.ty != spec.ty {
                        return Err(RuntimeError::invalid(format!(
                            "`{}` and `{}` read the column `{}` as different types ({} and {})",
                            bs.program,
                            ds.program,
                            spec.name,
                            have.ty.describe(),
                            spec.ty.describe()
                        )));
                    }
                    // A record both kernels can evaluate lies in both domains.
                    have.domain = match (have.domain, spec.domain) {
                        (Some((a, b)), Some((c, d))) => Some((a.max(c), b.min(d))),
                        (a, b) => a.or(b),
                    };
                    if let Some((lo, hi)) = have.domain
                        && lo > hi
                    {
                        return Err(RuntimeError::invalid(format!(
                            "`{}` and `{}` declare domains of `{}` that do not overlap",
                            bs.program, ds.program, spec.name
                        )));
                    }
                    have.is_id |= spec.is_id;
                    have.read |= spec.read;
                    Ok(i)
                }
            }
        };
        let base_inputs = bs.inputs.iter().map(&mut place).collect::<Result<Vec<_>, _>>()?;
        let draft_inputs = ds.inputs.iter().map(&mut place).collect::<Result<Vec<_>, _>>()?;
        for input in inputs.iter_mut().filter(|i| also.contains(&i.name)) {
            input.read = true;
        }

        let mut outputs = Vec::new();
        let mut sources = Vec::new();
        for (i, spec) in inputs.iter().enumerate().filter(|(_, s)| s.read && !s.is_id) {
            outputs.push(ColumnSpec { name: spec.name.clone(), ty: spec.ty.clone(), domain: spec.domain, is_id: false, read: true });
            sources.push(Source::Echo(i));
        }
        let named = |prefix: &str, spec: &ColumnSpec| ColumnSpec { name: format!("{prefix}{}", spec.name), domain: None, ..spec.clone() };
        for (j, spec) in bs.outputs.iter().enumerate() {
            outputs.push(named(BASE_PREFIX, spec));
            sources.push(Source::Base(j));
        }
        let draft_prefix = if base.is_some() { DRAFT_PREFIX } else { "" };
        for (j, spec) in ds.outputs.iter().enumerate() {
            outputs.push(named(draft_prefix, spec));
            sources.push(Source::Draft(j));
        }
        for (j, spec) in ds.outputs.iter().enumerate() {
            let Some(i) = bs.outputs.iter().position(|b| b.name == spec.name && b.ty == spec.ty) else { continue };
            if matches!(spec.ty, ColumnType::Int | ColumnType::Months | ColumnType::Money | ColumnType::Decimal { .. }) {
                outputs.push(named(CHANGE_PREFIX, spec));
                sources.push(Source::Change { base: i, draft: j });
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for name in inputs.iter().filter(|s| s.is_id).map(|s| &s.name).chain(outputs.iter().map(|s| &s.name)) {
            if !seen.insert(name.clone()) {
                return Err(RuntimeError::invalid(format!("the comparison would have two columns named `{name}`; rename the field")));
            }
        }

        let mut aggregates = Vec::new();
        for (sig, side, map, first_output) in [
            (bs, "base", &base_inputs, outputs_before(&sources, |s| matches!(s, Source::Base(_)))),
            (ds, "draft", &draft_inputs, outputs_before(&sources, |s| matches!(s, Source::Draft(_)))),
        ] {
            let term = |t: &AggregateTerm| AggregateTerm {
                column: match t.column {
                    ColumnRef::Input(i) => ColumnRef::Input(map[i]),
                    ColumnRef::Output(j) => ColumnRef::Output(first_output + j),
                },
                ..t.clone()
            };
            for a in &sig.aggregates {
                aggregates.push(AggregateSpec {
                    slot: format!("{side} · {}", a.slot),
                    text: a.text.clone(),
                    origin: a.origin.clone(),
                    cite: a.cite.clone(),
                    lhs: term(&a.lhs),
                    cmp: a.cmp,
                    rhs: term(&a.rhs),
                });
            }
        }
        let sig = KernelSignature { program: program.to_string(), inputs, outputs, aggregates };
        Ok(Comparison { base, draft, sig, base_inputs, draft_inputs, sources })
    }

    /// How many of the comparison's aggregate requirements are the base's (the rest are the draft's).
    pub fn base_aggregates(&self) -> usize {
        self.base.map_or(0, |b| b.signature().aggregates.len())
    }
}

/// The index of the first output whose source matches.
fn outputs_before(sources: &[Source], first: impl Fn(&Source) -> bool) -> usize {
    sources.iter().position(first).unwrap_or(sources.len())
}

fn eval_side(kernel: &dyn Kernel, map: &[usize], inputs: &[&[i64]], rows: usize) -> (Vec<Vec<i64>>, Vec<RowStatus>) {
    let cols: Vec<&[i64]> = map.iter().map(|&i| inputs[i]).collect();
    let mut outs: Vec<Vec<i64>> = kernel.signature().outputs.iter().map(|_| vec![0; rows]).collect();
    let mut status = vec![ROW_OK; rows];
    let mut views: Vec<&mut [i64]> = outs.iter_mut().map(Vec::as_mut_slice).collect();
    kernel.eval_batch(&cols, &mut views, &mut status);
    (outs, status)
}

impl Kernel for Comparison<'_> {
    fn signature(&self) -> &KernelSignature {
        &self.sig
    }

    fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]) {
        let rows = status.len();
        let (base, base_status) = match self.base {
            Some(kernel) => eval_side(kernel, &self.base_inputs, inputs, rows),
            None => (Vec::new(), vec![ROW_OK; rows]),
        };
        let (draft, draft_status) = eval_side(self.draft, &self.draft_inputs, inputs, rows);
        for r in 0..rows {
            let (b, d) = (base_status[r], draft_status[r]);
            // Both kernels number their faults from 1 in a few bits (site × 4 + kind); a status
            // that would not fit beside the draft bit cannot come from them.
            status[r] = if b >= DRAFT_BIT || d >= DRAFT_BIT - 1 {
                OUT_OF_RANGE
            } else if b != ROW_OK {
                b
            } else if d != ROW_OK {
                d | DRAFT_BIT
            } else {
                ROW_OK
            };
        }
        for (out, source) in outputs.iter_mut().zip(&self.sources) {
            match *source {
                Source::Echo(i) => out.copy_from_slice(inputs[i]),
                Source::Base(j) => out.copy_from_slice(&base[j]),
                Source::Draft(j) => out.copy_from_slice(&draft[j]),
                Source::Change { base: i, draft: j } => {
                    for r in 0..rows {
                        match draft[j][r].checked_sub(base[i][r]) {
                            Some(v) => out[r] = v,
                            None if status[r] == ROW_OK => status[r] = CHANGE_OVERFLOW,
                            None => {}
                        }
                    }
                }
            }
        }
    }

    fn describe_error(&self, status: RowStatus) -> RowErrorInfo {
        let (side, kernel, status) = match status {
            OUT_OF_RANGE => {
                return RowErrorInfo {
                    code: "E9001",
                    rule: self.sig.program.clone(),
                    message: "internal error: a kernel returned a status beyond the range of its faults".into(),
                };
            }
            CHANGE_OVERFLOW => {
                return RowErrorInfo {
                    code: "R0001",
                    rule: self.sig.program.clone(),
                    message: "the change between the two results does not fit in 64 bits".into(),
                };
            }
            s if s & DRAFT_BIT != 0 || self.base.is_none() => ("draft", self.draft, s & !DRAFT_BIT),
            s => ("base", self.base.unwrap_or(self.draft), s),
        };
        let info = kernel.describe_error(status);
        let side = if self.base.is_none() { "scheme" } else { side };
        RowErrorInfo { message: format!("in the {side} ({}): {}", kernel.signature().program, info.message), ..info }
    }

    fn engine(&self) -> &'static str {
        self.draft.engine()
    }
}

/// A kernel whose one output is a column of the input as it is: the base of a comparison
/// against the amounts a file already holds (`pol diff --base-column`).
pub struct ColumnKernel {
    sig: KernelSignature,
}

impl ColumnKernel {
    /// The column `column` read as `ty`, output as `output`.
    pub fn new(program: &str, column: &str, ty: ColumnType, output: &str) -> Self {
        let input = ColumnSpec { name: column.to_string(), ty: ty.clone(), domain: None, is_id: false, read: true };
        let output = ColumnSpec { name: output.to_string(), ty, domain: None, is_id: false, read: true };
        ColumnKernel {
            sig: KernelSignature { program: program.to_string(), inputs: vec![input], outputs: vec![output], aggregates: Vec::new() },
        }
    }
}

impl Kernel for ColumnKernel {
    fn signature(&self) -> &KernelSignature {
        &self.sig
    }

    fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]) {
        outputs[0].copy_from_slice(inputs[0]);
        status.fill(ROW_OK);
    }

    fn describe_error(&self, status: RowStatus) -> RowErrorInfo {
        // `eval_batch` never reports a fault.
        RowErrorInfo { code: "R0000", rule: self.sig.program.clone(), message: format!("no fault has the status {status}") }
    }

    fn engine(&self) -> &'static str {
        "column"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pol_kernel::AggregateCmp;

    /// `out = k × x` over input `x` (domain `domain`), faulting with status 7 where `x == fault_at`.
    struct Times {
        sig: KernelSignature,
        k: i64,
        fault_at: i64,
    }

    fn times(name: &str, k: i64, fault_at: i64, domain: (i64, i64)) -> Times {
        let x = ColumnSpec { name: "x".into(), ty: ColumnType::Money, domain: Some(domain), is_id: false, read: true };
        let id = ColumnSpec { name: "id".into(), ty: ColumnType::Int, domain: None, is_id: true, read: true };
        let unread = ColumnSpec { name: "note".into(), ty: ColumnType::Int, domain: None, is_id: false, read: false };
        let out = ColumnSpec { name: "out".into(), ty: ColumnType::Money, domain: None, is_id: false, read: true };
        let agg = AggregateSpec {
            slot: "out".into(),
            text: "sum(result) <= sum(x)".into(),
            origin: "f.pol:1".into(),
            cite: None,
            lhs: AggregateTerm { column: ColumnRef::Output(0), factor_num: 1, factor_den: 1 },
            cmp: AggregateCmp::Le,
            rhs: AggregateTerm { column: ColumnRef::Input(1), factor_num: 1, factor_den: 1 },
        };
        Times {
            sig: KernelSignature { program: name.into(), inputs: vec![id, x, unread], outputs: vec![out], aggregates: vec![agg] },
            k,
            fault_at,
        }
    }

    impl Kernel for Times {
        fn signature(&self) -> &KernelSignature {
            &self.sig
        }
        fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]) {
            for r in 0..status.len() {
                let x = inputs[1][r];
                status[r] = if x == self.fault_at { 7 } else { 0 };
                outputs[0][r] = x.saturating_mul(self.k);
            }
        }
        fn describe_error(&self, status: RowStatus) -> RowErrorInfo {
            RowErrorInfo { code: "R0002", rule: "out".into(), message: format!("fault {status} of {}", self.sig.program) }
        }
        fn engine(&self) -> &'static str {
            "test"
        }
    }

    fn names(sig: &[ColumnSpec]) -> Vec<&str> {
        sig.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn both_results_side_by_side_with_the_exact_change() {
        let (base, draft) = (times("base", 2, -1, (0, 100)), times("draft", 3, -1, (10, 200)));
        let c = Comparison::new("cmp", Some(&base), &draft, &["note".to_string()]).expect("comparison");
        let sig = c.signature();
        assert_eq!(names(&sig.inputs), ["id", "x", "note"]);
        // A record both can evaluate lies in both domains.
        assert_eq!(sig.inputs[1].domain, Some((10, 100)));
        assert!(sig.inputs[2].read, "a field asked for is read");
        assert_eq!(names(&sig.outputs), ["x", "note", "base_out", "draft_out", "change_out"]);
        // Aggregates point at the comparison's own columns: the base's output is output 2, the
        // draft's output 3, and both right sides input 1.
        assert_eq!(sig.aggregates.len(), 2);
        assert_eq!((sig.aggregates[0].slot.as_str(), sig.aggregates[0].lhs.column), ("base · out", ColumnRef::Output(2)));
        assert_eq!((sig.aggregates[1].slot.as_str(), sig.aggregates[1].lhs.column), ("draft · out", ColumnRef::Output(3)));
        assert_eq!(sig.aggregates[1].rhs.column, ColumnRef::Input(1));

        let (ids, xs, notes) = (vec![1, 2], vec![10, 50], vec![0, 4]);
        let mut outs = vec![vec![0i64; 2]; 5];
        let mut status = vec![0; 2];
        let mut views: Vec<&mut [i64]> = outs.iter_mut().map(Vec::as_mut_slice).collect();
        c.eval_batch(&[&ids, &xs, &notes], &mut views, &mut status);
        assert_eq!(status, [0, 0]);
        assert_eq!(outs, [vec![10, 50], vec![0, 4], vec![20, 100], vec![30, 150], vec![10, 50]]);
    }

    #[test]
    fn a_fault_on_either_side_names_its_side_and_an_overflowing_change_is_a_fault() {
        let (base, draft) = (times("base", 1, 20, (i64::MIN, i64::MAX)), times("draft", -1, 30, (i64::MIN, i64::MAX)));
        let c = Comparison::new("cmp", Some(&base), &draft, &[]).expect("comparison");
        let xs = vec![20, 30, 40, i64::MIN + 1];
        let ids = vec![0; 4];
        let notes = vec![0; 4];
        let mut outs = vec![vec![0i64; 4]; c.signature().outputs.len()];
        let mut status = vec![0; 4];
        let mut views: Vec<&mut [i64]> = outs.iter_mut().map(Vec::as_mut_slice).collect();
        c.eval_batch(&[&ids, &xs, &notes], &mut views, &mut status);
        assert_eq!(status[2], ROW_OK);
        let base_fault = c.describe_error(status[0]);
        assert_eq!((base_fault.code, base_fault.message.as_str()), ("R0002", "in the base (base): fault 7 of base"));
        let draft_fault = c.describe_error(status[1]);
        assert_eq!(draft_fault.message, "in the draft (draft): fault 7 of draft");
        // (−(MIN+1)) − (MIN+1) does not fit in 64 bits.
        assert_eq!(c.describe_error(status[3]).code, "R0001");
    }

    #[test]
    fn mismatched_reads_are_refused_and_a_lone_scheme_keeps_its_names() {
        let base = times("base", 1, -1, (0, 10));
        let mut draft = times("draft", 1, -1, (0, 10));
        draft.sig.inputs[1].ty = ColumnType::Int;
        let e = Comparison::new("cmp", Some(&base), &draft, &[]).err().expect("different types");
        assert!(e.to_string().contains("read the column `x` as different types"), "{e}");
        let far = times("far", 1, -1, (20, 30));
        let e = Comparison::new("cmp", Some(&base), &far, &[]).err().expect("disjoint domains");
        assert!(e.to_string().contains("do not overlap"), "{e}");
        let alone = Comparison::new("one", None, &base, &[]).expect("one scheme");
        assert_eq!(names(&alone.signature().outputs), ["x", "out"]);
        assert_eq!(alone.signature().aggregates[0].lhs.column, ColumnRef::Output(1));
    }

    #[test]
    fn a_column_kernel_passes_its_column_through() {
        let k = ColumnKernel::new("last", "last_year", ColumnType::Money, "out");
        let mut out = vec![0i64; 3];
        let mut status = vec![9; 3];
        k.eval_batch(&[&[5, -5, 0]], &mut [out.as_mut_slice()], &mut status);
        assert_eq!((out, status), (vec![5, -5, 0], vec![0, 0, 0]));
    }
}
