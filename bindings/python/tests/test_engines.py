"""Spark and Ray give `pol run`'s results: on a realistic population with bad rows of every
input kind, the output rows and the ledger rows are those of `pol run` over the same file,
row by row, whatever the partitioning; a broken national aggregate is reported by both."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pol
import pol.ray
import pol.spark
from conftest import GUANGDONG, ROWS, ledger_of


@pytest.fixture(scope="module")
def kernel():
    return pol.compile(GUANGDONG)


@pytest.fixture(scope="module")
def expected(population):
    output = pq.read_table(population["output"])
    ledger = ledger_of(population["ledger"])
    assert 0 < len(ledger) < ROWS // 100 and output.num_rows + len(ledger) == ROWS
    assert {r["code"] for r in ledger} == {"V0001", "V0002", "V0005"}
    return {"output": output, "ledger": ledger}


def same_output(got, expected):
    """`got` (an Arrow table of an engine's output) holds `expected`'s rows, in any order."""
    got = got.sort_by("person_id")
    assert got.schema.names == expected.schema.names
    assert got.cast(expected.schema).equals(expected.sort_by("person_id"))


def same_ledger(got, expected):
    rows = sorted(got.to_pylist(), key=lambda r: r["row"])
    assert rows == expected


def test_spark_gives_the_output_and_ledger_of_pol_run(spark, kernel, population, expected):
    df = spark.read.parquet(str(population["input"]))
    assert df.rdd.getNumPartitions() > 1
    result = pol.spark.run(df, kernel, max_errors="1%")
    assert (result.rows_in, result.rows_out, result.rows_in_ledger) == (ROWS, expected["output"].num_rows, len(expected["ledger"]))
    assert result.ok and result.aggregates_hold
    same_output(result.output.toArrow(), expected["output"])
    same_ledger(result.ledger.toArrow(), expected["ledger"])
    summary = pq.read_metadata(population["output"])
    assert summary.num_rows == result.rows_out


def test_spark_results_do_not_depend_on_the_partitioning(spark, kernel, population, expected):
    # Fewer partitions, each of whole row groups in file order: the same record numbers.
    df = spark.read.parquet(str(population["input"]))
    fewer = pol.spark.run(df.coalesce(2), kernel, max_errors="1%")
    same_ledger(fewer.ledger.toArrow(), expected["ledger"])
    same_output(fewer.output.toArrow(), expected["output"])
    # Rows dealt out at random: the DataFrame's order is no longer the file's, so its record
    # numbers are not the file's, but every output row and every ledger entry is the same.
    shuffled = pol.spark.run(df.repartition(5), kernel, max_errors="1%")
    same_output(shuffled.output.toArrow(), expected["output"])
    key = lambda r: (r["person_id"], r["code"], r["column"])  # noqa: E731
    got = sorted(shuffled.ledger.toArrow().to_pylist(), key=key)
    assert [key(r) for r in got] == sorted(map(key, expected["ledger"]))
    same = [(a["message"], b["message"]) for a, b in zip(got, sorted(expected["ledger"], key=key)) if a["code"] != "V0005"]
    assert all(a == b for a, b in same)


def test_ray_gives_the_output_and_ledger_of_pol_run(ray_runtime, kernel, population, expected):
    import ray.data

    ds = ray.data.read_parquet(str(population["input"]))
    result = pol.ray.run(ds, kernel, max_errors="1%")
    assert (result.rows_in, result.rows_out, result.rows_in_ledger) == (ROWS, expected["output"].num_rows, len(expected["ledger"]))
    assert result.ok and result.aggregates_hold
    same_output(_ray_table(result.output), expected["output"])
    same_ledger(_ray_table(result.ledger), expected["ledger"])


def test_ray_results_do_not_depend_on_the_blocks(ray_runtime, kernel, population, expected):
    import ray.data

    ds = ray.data.read_parquet(str(population["input"]), override_num_blocks=3)
    result = pol.ray.run(ds, kernel, max_errors="1%", concurrency=1)
    same_output(_ray_table(result.output), expected["output"])
    same_ledger(_ray_table(result.ledger), expected["ledger"])


def _ray_table(ds):
    import ray

    return pa.concat_tables(ray.get(ds.to_arrow_refs()))


def test_both_engines_report_a_broken_aggregate(spark, ray_runtime, kernel, uniform):
    import ray.data

    cli = pol.run(GUANGDONG, uniform, uniform.with_name("out.parquet"), warn_aggregates=True)
    [reference] = cli["aggregates"]
    assert not reference["holds"]
    runs = {
        "spark": lambda check: pol.spark.run(spark.read.parquet(str(uniform)), kernel, check=check),
        "ray": lambda check: pol.ray.run(ray.data.read_parquet(str(uniform)), kernel, check=check),
    }
    for name, run in runs.items():
        result = run(False)
        [agg] = result.aggregates
        assert not result.aggregates_hold and agg == reference, name
        assert result.failures and result.failures[0].startswith("aggregate requirement broken"), name
        with pytest.raises(pol.RunFailed, match="aggregate requirement broken") as e:
            run(True)
        assert e.value.result.rows_in == 20000
