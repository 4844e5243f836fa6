"""Pol on Ray Data: `run(dataset, kernel)` evaluates a dataset of records with the compiled
kernel in `map_batches(batch_format="pyarrow")` on a pool of actors that each compile it once,
with the output, ledger and aggregate verdict of `pol run` over the same rows (see
docs/scale-out.md).

The dataset's blocks are numbered in order (each row gets its record number, as in the input
file when the dataset reads one), key cells are grouped to find keys held by two rows, and the
records are evaluated; the result is materialized once, and each block's aggregate sums are
added exactly in Python integers.
"""

import pyarrow as pa
import pyarrow.compute as pc

from . import _parts


def _num_rows(table):
    return table.num_rows


def _numbered(table, offset, columns):
    table = table.select(columns)
    rows = pa.array(range(offset + 1, offset + 1 + table.num_rows), pa.int64())
    return table.append_column(_parts.ROW_COLUMN, rows)


class _Evaluate:
    """One actor of the pool: the kernel (compiled once, when unpickled), its duplicates."""

    def __init__(self, kernel, duplicates):
        import ray

        self.kernel = kernel
        # Shared through the object store: fetched once per actor.
        self.duplicates = ray.get(duplicates) if isinstance(duplicates, ray.ObjectRef) else duplicates
        self.schema = _parts.engine_schema(kernel)

    def __call__(self, table):
        parts = _parts.evaluate_part(self.kernel, table.to_batches(), duplicates=self.duplicates)
        return pa.Table.from_batches(list(parts), schema=self.schema)


def _totals(sums, table):
    """One row: the block's row and ledger counts and its sums, as exact decimal text."""
    row = {
        "rows": [str(table.num_rows)],
        "ledger": [str(pc.sum(pc.not_equal(table["pol_status"], "ok").cast(pa.int64())).as_py() or 0)],
    }
    for name in sums:
        # One cell per batch: added as Python integers, which cannot overflow.
        row[name] = [str(sum(int(v) for v in table[name].drop_null().to_pylist()))]
    return pa.table(row)


def run(
    dataset,
    kernel,
    *,
    framework=None,
    binding=None,
    as_of=None,
    rules=None,
    max_errors="0",
    warn_aggregates=False,
    check=True,
    concurrency=2,
):
    """Evaluates the records of `dataset` with `kernel` (a `pol.Kernel`, or a scheme path
    compiled with `framework`, `binding`, `as_of`, `rules`) on `concurrency` actors. Returns a
    `Result` whose `output` and `ledger` are materialized datasets; raises `pol.RunFailed`
    (with the result) when the run fails as `pol run` fails, unless `check=False`."""
    import ray
    import ray.data

    kernel = _parts.kernel_of(kernel, framework, binding, as_of, rules)
    columns = kernel.source_columns(dataset.schema().base_schema)

    refs = dataset.to_arrow_refs()
    count = ray.remote(_num_rows)
    counts = ray.get([count.remote(r) for r in refs])
    number = ray.remote(_numbered)
    numbered_refs, offset = [], 0
    for ref, n in zip(refs, counts):
        numbered_refs.append(number.remote(ref, offset, columns))
        offset += n
    numbered = ray.data.from_arrow_refs(numbered_refs)

    duplicates = None
    if kernel.key_fields:
        groups = _shared_keys(kernel, numbered)
        if groups:
            duplicates = ray.put(kernel.duplicates(groups))

    result = numbered.map_batches(
        _Evaluate,
        fn_constructor_args=(kernel, duplicates),
        batch_format="pyarrow",
        concurrency=concurrency,
    ).materialize()
    sums = _parts.sum_names(kernel)
    blocks = result.map_batches(lambda t: _totals(sums, t), batch_format="pyarrow", batch_size=None).take_all()
    rows_in = sum(int(b["rows"]) for b in blocks)
    rows_in_ledger = sum(int(b["ledger"]) for b in blocks)
    totals = [sum(int(b[s]) for b in blocks) for s in sums]

    schema = _parts.engine_schema(kernel)
    names = [f.name for f in schema][: kernel.output_width]
    output = result.map_batches(lambda t: t.filter(pc.equal(t["pol_status"], "ok")).select(names), batch_format="pyarrow").materialize()
    ledger = result.map_batches(lambda t: _ledger(kernel, t), batch_format="pyarrow").materialize()
    return _parts.decide(kernel, totals, rows_in, rows_in_ledger, max_errors, warn_aggregates, output, ledger, check)


def _key_cells(kernel, table):
    schema = pa.schema([pa.field("pol_row", pa.int64(), False)] + [pa.field(f"pol_key_{i}", pa.int64(), False) for i in range(len(kernel.key_fields))])
    batches = [kernel.keys(b, rows=b.column(b.schema.get_field_index(_parts.ROW_COLUMN))) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=schema)


def _holding(table, shared, key_columns):
    """The rows of `table` whose key is one of `shared`."""
    mask = None
    for i, k in enumerate(key_columns):
        m = pc.is_in(table[k], value_set=pa.array(sorted({key[i] for key in shared}), pa.int64()))
        mask = m if mask is None else pc.and_(mask, m)
    return table.filter(mask)


def _shared_keys(kernel, numbered):
    """`(key cells, rows)` of every key held by more than one row: the keys are counted by a
    grouped count, and only the rows of the keys counted twice are fetched."""
    key_columns = [f"pol_key_{i}" for i in range(len(kernel.key_fields))]
    keys = numbered.map_batches(lambda t: _key_cells(kernel, t), batch_format="pyarrow").materialize()
    counted = keys.groupby(key_columns).count()
    count = [c for c in counted.schema().names if c not in key_columns][0]
    shared = counted.map_batches(lambda t: t.filter(pc.greater(t[count], 1)), batch_format="pyarrow").take_all()
    if not shared:
        return []
    wanted = {tuple(r[k] for k in key_columns) for r in shared}
    rows = keys.map_batches(lambda t: _holding(t, wanted, key_columns), batch_format="pyarrow").take_all()
    groups = {}
    for r in rows:
        key = tuple(r[k] for k in key_columns)
        if key in wanted:
            groups.setdefault(key, []).append(r["pol_row"])
    return [(list(key), sorted(found)) for key, found in sorted(groups.items())]


def _ledger(kernel, table):
    failed = table.filter(pc.not_equal(table["pol_status"], "ok"))
    columns = {"row": failed["pol_row"]}
    for i, name in enumerate(kernel.key_fields):
        columns[name] = pc.list_element(failed["pol_ids"], i)
    columns.update(code=failed["pol_status"], rule=failed["pol_rule"], column=failed["pol_column"], message=failed["pol_message"])
    return pa.table(columns)
