"""What the Spark and Ray runners share: a population evaluated in parts, each batch's exact
aggregate sums carried beside its rows, and the run decided as `pol run` decides it."""

from dataclasses import dataclass, field

import pyarrow as pa

#: The decimal type of the per-batch aggregate sums an engine adds up: 38 digits hold any sum
#: of fewer than 10^19 cells of 64 bits, and both engines add decimals exactly.
SUM_TYPE = pa.decimal128(38, 0)

#: The input column holding each row's record number where an engine numbers rows itself.
ROW_COLUMN = "__pol_row"


def kernel_of(kernel, framework, binding, as_of, rules):
    """`kernel` when it is a `pol.Kernel`, else the scheme at that path compiled with the rest."""
    from ._pol import Kernel, compile

    if isinstance(kernel, Kernel):
        return kernel
    return compile(kernel, framework=framework, as_of=as_of, rules=rules, binding=binding)


def sum_names(kernel):
    """The names of the per-batch sum columns: `pol_sum_<i>_lhs`, `pol_sum_<i>_rhs`."""
    names = []
    for i in range(len(kernel.schema["aggregates"])):
        names += [f"pol_sum_{i}_lhs", f"pol_sum_{i}_rhs"]
    return names


def engine_schema(kernel):
    """The result schema with the sum columns after it."""
    schema = kernel.result_schema
    for name in sum_names(kernel):
        schema = schema.append(pa.field(name, SUM_TYPE, nullable=True))
    return schema


def with_sums(kernel, result, sums):
    """`result` with the batch's aggregate sums on its first row (null on the others)."""
    columns = list(result.columns)
    n = result.num_rows
    for lhs, rhs in sums:
        for value in (lhs, rhs):
            if n == 0:
                columns.append(pa.array([], type=SUM_TYPE))
            else:
                columns.append(pa.concat_arrays([pa.array([value], type=SUM_TYPE), pa.nulls(n - 1, type=SUM_TYPE)]))
    return pa.RecordBatch.from_arrays(columns, schema=engine_schema(kernel))


def evaluate_part(kernel, batches, first_row=None, duplicates=None):
    """Evaluates the batches of one part: numbered from `first_row` on, or by their
    `ROW_COLUMN`; yields result batches with their sums."""
    next_row = first_row
    for batch in batches:
        if first_row is None:
            rows = batch.column(batch.schema.get_field_index(ROW_COLUMN))
            result, sums = kernel.evaluate(batch, rows=rows, duplicates=duplicates)
        else:
            result, sums = kernel.evaluate(batch, first_row=next_row, duplicates=duplicates)
            next_row += batch.num_rows
        yield with_sums(kernel, result, sums)


def part_sums(kernel, totals):
    """The sums of a whole run, from the engine's totals of the sum columns (decimals or
    None when there were no rows), as `(lhs, rhs)` integer pairs."""
    values = [0 if v is None else int(v) for v in totals]
    return [(values[i], values[i + 1]) for i in range(0, len(values), 2)]


@dataclass
class Result:
    """A run over an engine's data: the output and ledger (engine datasets, in the engine's
    types), the counts, the aggregate requirements decided exactly, and why the run fails
    (empty: it succeeds), all as `pol run` decides them."""

    output: object
    ledger: object
    rows_in: int
    rows_out: int
    rows_in_ledger: int
    aggregates: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.failures

    @property
    def aggregates_hold(self):
        return all(a["holds"] for a in self.aggregates)


def decide(kernel, totals, rows_in, rows_in_ledger, max_errors, warn_aggregates, output, ledger, check):
    """The run's `Result`; raises `RunFailed` with it when it fails and `check` is set."""
    from .errors import RunFailed

    verdict = kernel.decide([part_sums(kernel, totals)], rows_in, rows_in_ledger, str(max_errors), warn_aggregates)
    result = Result(
        output=output,
        ledger=ledger,
        rows_in=rows_in,
        rows_out=rows_in - rows_in_ledger,
        rows_in_ledger=rows_in_ledger,
        aggregates=verdict["aggregates"],
        failures=verdict["failures"],
    )
    if check and result.failures:
        raise RunFailed("the run failed: " + "; ".join(result.failures), result=result)
    return result


def ledger_names(kernel):
    """The ledger's columns, as in `pol run`'s ledger file: row, the key fields, code, rule,
    column, message."""
    return ["row", *kernel.key_fields, "code", "rule", "column", "message"]
