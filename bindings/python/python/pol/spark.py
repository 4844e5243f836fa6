"""Pol on Spark: `run(df, kernel)` evaluates a DataFrame of records with the compiled kernel
inside `mapInArrow`, with the output, ledger and aggregate verdict of `pol run` over the same
rows (see docs/scale-out.md).

Three passes over the input, each reading only the columns the kernel needs: the rows of each
partition are counted (so that every row gets its record number, as in the input file when the
DataFrame is a file scan), the key cells are grouped to find keys held by two rows, and the
records are evaluated. The result is persisted and one aggregation counts the rows and adds the
aggregate sums exactly (as 38-digit decimals).
"""

from functools import partial

import pyarrow as pa

from . import _parts


def _count_rows(batches):
    from pyspark import TaskContext

    n = 0
    for batch in batches:
        n += batch.num_rows
    part = TaskContext.get().partitionId()
    yield pa.RecordBatch.from_arrays([pa.array([part], pa.int32()), pa.array([n], pa.int64())], names=["part", "n"])


def _first_row(offsets):
    from pyspark import TaskContext

    return offsets[TaskContext.get().partitionId()] + 1


def _keys(kernel, offsets, batches):
    next_row = _first_row(offsets)
    for batch in batches:
        yield kernel.keys(batch, first_row=next_row)
        next_row += batch.num_rows


def _evaluate(kernel, offsets, duplicates, batches):
    dups = None if duplicates is None else duplicates.value
    yield from _parts.evaluate_part(kernel, batches, first_row=_first_row(offsets), duplicates=dups)


def _spark_schema(schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _quoted(name):
    return "`" + name.replace("`", "``") + "`"


def run(
    df,
    kernel,
    *,
    framework=None,
    binding=None,
    as_of=None,
    rules=None,
    max_errors="0",
    warn_aggregates=False,
    check=True,
    persist=True,
    batch_rows=65536,
):
    """Evaluates the records of `df` with `kernel` (a `pol.Kernel`, or a scheme path compiled
    with `framework`, `binding`, `as_of`, `rules`). Returns a `Result` whose `output` and
    `ledger` are DataFrames; raises `pol.RunFailed` (with the result) when the run fails as
    `pol run` fails, unless `check=False`. The result is persisted unless `persist=False`
    (then every action on output or ledger evaluates again). `batch_rows` is the size of the
    Arrow batches Spark hands to Python during the run (None: the session's setting)."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema

    kernel = _parts.kernel_of(kernel, framework, binding, as_of, rules)
    spark = df.sparkSession
    arrow_schema = to_arrow_schema(df.schema)
    columns = kernel.source_columns(arrow_schema)
    source = df.select(*[F.col(_quoted(c)) for c in columns])
    # The count and key passes read the key columns only (a file scan's partitions do not depend
    # on the columns read, so every pass sees the same rows in the same partitions).
    key_source = df.select(*[F.col(_quoted(c)) for c in _key_columns(kernel, columns)])

    previous = spark.conf.get(_BATCH_CONF, None)
    if batch_rows is not None:
        spark.conf.set(_BATCH_CONF, str(batch_rows))
    try:
        return _run(spark, kernel, source, key_source, max_errors, warn_aggregates, check, persist)
    finally:
        if batch_rows is not None:
            if previous is None:
                spark.conf.unset(_BATCH_CONF)
            else:
                spark.conf.set(_BATCH_CONF, previous)


#: Spark's setting of the rows in one Arrow batch handed to Python.
_BATCH_CONF = "spark.sql.execution.arrow.maxRecordsPerBatch"


def _key_columns(kernel, columns):
    """The source columns of the key fields, among the columns read (the first column when the
    record has no key): a field's own column, or the binding's."""
    found = []
    for want in [i["column"] for i in kernel.schema["inputs"] if i["key"]]:
        exact = [c for c in columns if c == want]
        found += exact or [c for c in columns if c.lower() == want.lower()]
    return found or columns[:1]


def _run(spark, kernel, source, key_source, max_errors, warn_aggregates, check, persist):
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    counts = {r["part"]: r["n"] for r in key_source.mapInArrow(_count_rows, "part int, n long").collect()}
    offsets, total = {}, 0
    for part in range(key_source.rdd.getNumPartitions()):
        offsets[part] = total
        total += counts.get(part, 0)

    duplicates = None
    if kernel.key_fields:
        key_columns = [f"pol_key_{i}" for i in range(len(kernel.key_fields))]
        schema = "pol_row long, " + ", ".join(f"{k} long" for k in key_columns)
        keys = key_source.mapInArrow(partial(_keys, kernel, offsets), schema)
        shared = (
            keys.groupBy(*key_columns)
            .agg(F.count(F.lit(1)).alias("n"), F.sort_array(F.collect_list("pol_row")).alias("rows"))
            .where("n > 1")
            .collect()
        )
        if shared:
            groups = [([r[k] for k in key_columns], list(r["rows"])) for r in shared]
            duplicates = spark.sparkContext.broadcast(kernel.duplicates(groups))

    schema = _parts.engine_schema(kernel)
    result = source.mapInArrow(partial(_evaluate, kernel, offsets, duplicates), _spark_schema(schema))
    if persist:
        result = result.persist(StorageLevel.MEMORY_AND_DISK)
    sums = _parts.sum_names(kernel)
    totals = result.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum((F.col("pol_status") != F.lit("ok")).cast("long")).alias("ledger"),
        *[F.sum(F.col(s)).alias(s) for s in sums],
        *[F.count(F.col(s)).alias(s + "_cells") for s in sums],
    ).collect()[0]
    rows_in, rows_in_ledger = totals["rows"], totals["ledger"] or 0
    for s in sums:
        # Spark's sum is null for no cells, and (ANSI mode off) for a sum beyond 38 digits.
        if totals[s] is None and totals[s + "_cells"] > 0:
            from .errors import PolError

            raise PolError(f"the aggregate sums ({s}) exceed 38 digits: the requirement cannot be decided")

    width = kernel.output_width
    output = result.where(F.col("pol_status") == F.lit("ok")).select(*[F.col(_quoted(f.name)) for f in schema][:width])
    ledger = result.where(F.col("pol_status") != F.lit("ok")).select(
        F.col("pol_row").alias("row"),
        *[F.col("pol_ids").getItem(i).alias(name) for i, name in enumerate(kernel.key_fields)],
        F.col("pol_status").alias("code"),
        F.col("pol_rule").alias("rule"),
        F.col("pol_column").alias("column"),
        F.col("pol_message").alias("message"),
    )
    return _parts.decide(kernel, [totals[s] for s in sums], rows_in, rows_in_ledger, max_errors, warn_aggregates, output, ledger, check)
