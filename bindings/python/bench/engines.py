"""Benchmark (not a test): the Guangdong 2024 adjustment over one population on every engine.

    python bindings/python/bench/engines.py --rows 10000000 [--dir target/bench-engines]

Each case runs in its own process, reads the same Parquet file and writes its output as
Parquet; the parent samples the resident memory of the case's whole process tree (Spark's JVM,
Ray's raylet and workers included) every 100 ms. Cases: `pol run` (the CLI, 2 threads), the
Python `Kernel` over `pyarrow.parquet` batches (2 threads: evaluation releases the GIL),
`pol.spark.run` in local[2], the same rule written in Spark SQL with exact decimals (what a
Spark user would write by hand, without Pol's domain checks, ledger or aggregate check), and
`pol.ray.run` on 2 CPUs. Every case's output is checked against `pol run`'s (row count and the
sum of `new_pension` in fen).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCHEME = ROOT / "policies/provinces/guangdong/pension_adjustment_2024.pol"
PROFILE = ROOT / "policies/national/profiles/retiree.toml"
POL = Path(os.environ.get("POL_BIN", ROOT / "target/release/pol"))


def tree_rss(pid):
    """Resident bytes of `pid` and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def measure(argv):
    """Runs `argv`; (seconds, peak tree RSS in bytes, the JSON line it printed last)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    out = child.stdout.read()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed with {child.returncode}:\n{out}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return elapsed, peak, json.loads(lines[-1]) if lines else {}


def checksum(path):
    """Rows and the sum of `new_pension` in fen of an output (a file or a folder of parts)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    table = ds.dataset(str(path), format="parquet").to_table(columns=["new_pension"])
    total = pc.sum(table["new_pension"]).as_py()
    return {"rows": table.num_rows, "new_pension_fen": int(total * 100)}


def case_pol(args):
    subprocess.run([POL, "run", SCHEME, "--input", args.input, "--output", args.output, "--threads", "2"], check=True, stdout=subprocess.DEVNULL)


def case_kernel(args):
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    import pol

    kernel = pol.compile(SCHEME)
    source = pq.ParquetFile(args.input)
    width = kernel.output_width
    names = kernel.result_schema.names[:width]
    batches = source.iter_batches(batch_size=65536)
    first = [1]

    def evaluate(batch_and_row):
        batch, row = batch_and_row
        result, sums = kernel.evaluate(batch, first_row=row)
        return result.filter(pc.equal(result["pol_status"], "ok")).select(names), sums

    def numbered():
        for batch in batches:
            yield batch, first[0]
            first[0] += batch.num_rows

    # Two batches evaluate at once (the GIL is released), at most four are in flight, and the
    # output is written in input order.
    parts, pending, writer = [], [], None
    with ThreadPoolExecutor(2) as pool:
        for item in numbered():
            pending.append(pool.submit(evaluate, item))
            if len(pending) < 4:
                continue
            out, sums = pending.pop(0).result()
            writer = writer or pq.ParquetWriter(args.output, out.schema)
            writer.write_batch(out)
            parts.append(sums)
        for future in pending:
            out, sums = future.result()
            writer = writer or pq.ParquetWriter(args.output, out.schema)
            writer.write_batch(out)
            parts.append(sums)
    writer.close()
    verdict = kernel.check_aggregates(parts)
    print(json.dumps({"aggregates_hold": all(a["holds"] for a in verdict)}))


def spark_session():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )


def case_spark(args):
    import pol
    import pol.spark

    spark = spark_session()
    result = pol.spark.run(spark.read.parquet(str(args.input)), pol.compile(SCHEME))
    result.output.write.mode("overwrite").parquet(str(args.output))
    print(json.dumps({"aggregates_hold": result.aggregates_hold, "rows_out": result.rows_out}))


#: The Guangdong 2024 adjustment in Spark SQL, exact decimals throughout (the rounding of the
#: level-linked part to the fen is half away from zero, as Pol's; Spark's ROUND is HALF_UP).
SPARK_SQL = """
WITH parts AS (
  SELECT person_id, monthly_pension, military_cadre, local_average_pension,
    CAST(floor(contribution / 12) + IF(contribution % 12 > 0, 1, 0) AS INT) AS years,
    2023 - year(birth_date) AS age
  FROM population
), amounts AS (
  SELECT *,
    CAST(greatest(least(years, 20) * 1 + greatest(years - 20, 0) * 2, 15) AS DECIMAL(18, 2))
      + ROUND(monthly_pension * CAST(0.0116 AS DECIMAL(6, 4)), 2) AS linked,
    CAST(CASE WHEN age >= 100 THEN 200 WHEN age >= 90 THEN 60 WHEN age >= 80 THEN 30 WHEN age >= 70 THEN 20 ELSE 0 END
      AS DECIMAL(18, 2)) AS tilt
  FROM parts
), adjusted AS (
  SELECT person_id, linked, tilt,
    CAST(IF(military_cadre, greatest(30 + linked + tilt, local_average_pension - monthly_pension), 30 + linked + tilt)
      AS DECIMAL(18, 2)) AS pension_adjustment,
    monthly_pension
  FROM amounts
)
SELECT person_id, pension_adjustment, CAST(monthly_pension + pension_adjustment AS DECIMAL(18, 2)) AS new_pension,
  linked AS `挂钩调整`, tilt AS `倾斜调整`
FROM adjusted
"""


def case_spark_sql(args):
    spark = spark_session()
    spark.read.parquet(str(args.input)).createOrReplaceTempView("population")
    spark.sql(SPARK_SQL).write.mode("overwrite").parquet(str(args.output))
    print(json.dumps({}))


def case_ray(args):
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    import ray.data

    import pol
    import pol.ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    result = pol.ray.run(ray.data.read_parquet(str(args.input)), pol.compile(SCHEME))
    result.output.write_parquet(str(args.output))
    print(json.dumps({"aggregates_hold": result.aggregates_hold, "rows_out": result.rows_out}))
    ray.shutdown()


CASES = {
    "pol run": case_pol,
    "Python Kernel": case_kernel,
    "Spark mapInArrow": case_spark,
    "Spark SQL (hand-written)": case_spark_sql,
    "Ray Data": case_ray,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=ROOT / "target/bench-engines")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--only", action="append", help="run only these cases (repeatable)")
    args = parser.parse_args()
    if args.case:
        CASES[args.case](args)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    population = args.dir / f"population-{args.rows}.parquet"
    if not population.exists():
        subprocess.run([POL, "gen", SCHEME, "--record", "Retiree", "--rows", str(args.rows), "--seed", "1", "--profile", PROFILE, "--output", population], check=True, stdout=subprocess.DEVNULL)
    reference = None
    print(f"| engine ({args.rows:,} rows, this machine: {os.cpu_count()} cores) | seconds | records/s | peak memory (process tree) |")
    print("|---|---:|---:|---:|")
    for name in CASES:
        if args.only and name not in args.only and name != "pol run":
            continue
        output = args.dir / ("out-" + name.split()[0].lower() + ("-sql" if "SQL" in name else "") + ".parquet")
        subprocess.run(["rm", "-rf", str(output)], check=True)
        seconds, peak, _ = measure([sys.executable, __file__, "--case", name, "--input", population, "--output", output])
        check = checksum(output)
        if reference is None:
            reference = check
        same = "" if check == reference else f" (DIFFERS: {check} vs {reference})"
        print(f"| {name} | {seconds:.1f} | {args.rows / seconds:,.0f} | {peak / 2**20:,.0f} MiB |{same}", flush=True)
    print(f"\nchecksum of every output: {reference['rows']:,} rows, sum(new_pension) = {reference['new_pension_fen']:,} fen")


if __name__ == "__main__":
    main()
