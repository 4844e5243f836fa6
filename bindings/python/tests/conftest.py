"""Fixtures of the pytest suite: the repository, the `pol` binary that `pol run` comparisons
use, a generated population with bad rows, one Spark session and one Ray runtime for the
whole suite (both in local mode, offline)."""

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[3]
GUANGDONG = ROOT / "policies/provinces/guangdong/pension_adjustment_2024.pol"
PROFILE = ROOT / "policies/national/profiles/retiree.toml"

#: Rows of the population the engines are compared on (POL_TEST_ROWS to change).
ROWS = int(os.environ.get("POL_TEST_ROWS", "1000000"))


def pol_binary():
    path = Path(os.environ.get("POL_BIN", ROOT / "target/release/pol"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build it with `cargo build --release -p pol-cli` (or set POL_BIN)")
    return path


def pol_cli(*args, check=True):
    """Runs the `pol` binary; its completed process."""
    done = subprocess.run([str(pol_binary()), *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    if check and done.returncode != 0:
        raise AssertionError(f"pol {' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def generate(path, rows, seed=1, profile=True):
    args = ["gen", GUANGDONG, "--record", "Retiree", "--rows", rows, "--seed", seed, "--output", path]
    if profile:
        args += ["--profile", PROFILE]
    pol_cli(*args)
    return path


def spoil(table):
    """A population with bad rows of every input kind: missing cells (V0001), values outside
    the declared domain (V0002) and keys held by two rows (V0005)."""
    n = table.num_rows
    index = pa.array(range(n), pa.int64())
    pension = table["monthly_pension"]
    missing = pc.equal(pc.bit_wise_and(index, 0x3FFF), 7)
    table = table.set_column(table.schema.get_field_index("monthly_pension"), "monthly_pension", pc.if_else(missing, pa.scalar(None, pension.type), pension))
    months = table["contribution"]
    outside = pc.equal(pc.bit_wise_and(index, 0x3FFF), 11)
    table = table.set_column(table.schema.get_field_index("contribution"), "contribution", pc.if_else(outside, pa.scalar(9999, months.type), months))
    ids = table["person_id"].to_pylist()
    for i in range(100, n, max(n // 7, 1)):
        ids[i] = ids[i - 1]
    if n > 3:
        ids[n - 1] = ids[3]
    return table.set_column(table.schema.get_field_index("person_id"), "person_id", pa.array(ids, table["person_id"].type))


def ledger_of(path):
    """A `pol run` ledger as a list of rows: `row` an int, every other cell text."""
    with open(path, encoding="utf-8") as f:
        names = f.readline().strip().split(",")
    types = {n: pa.int64() if n == "row" else pa.string() for n in names}
    options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=options).to_pylist()


@pytest.fixture(scope="session")
def population(tmp_path_factory):
    """A realistic population of ROWS retirees with bad rows, and `pol run`'s output and
    ledger over it (at most 1 % of the rows may fail)."""
    d = tmp_path_factory.mktemp("population")
    clean = generate(d / "clean.parquet", ROWS)
    path = d / "population.parquet"
    # Eight row groups at least, so that Spark and Ray read it in several parts.
    pq.write_table(spoil(pq.read_table(clean)), path, row_group_size=min(128 * 1024, max(ROWS // 8, 1000)))
    out = d / "adjusted.parquet"
    pol_cli("run", GUANGDONG, "--input", path, "--output", out, "--max-errors", "1%")
    return {"input": path, "output": out, "ledger": d / "adjusted.errors.csv", "dir": d}


@pytest.fixture(scope="session")
def uniform(tmp_path_factory):
    """A uniform population: its increases are far above 3 % of its pensions, so the
    national aggregate requirement breaks."""
    return generate(tmp_path_factory.mktemp("uniform") / "uniform.parquet", 20000, profile=False)


@pytest.fixture(scope="session")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("pol-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        # Small splits: a test population is read in several partitions.
        .config("spark.sql.files.maxPartitionBytes", str(1 << 20))
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def ray_runtime():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
