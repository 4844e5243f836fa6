"""The Python API itself: check, compile, evaluate on small batches, pickling, exact
aggregate partial sums, duplicate keys, `pol.run`, and errors as exceptions (never a crash)."""

import decimal
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pol
from conftest import GUANGDONG, ROOT, generate, ledger_of, pol_cli, spoil

REJECTED = ROOT / "policies/rejected/adjustment_above_per_record_cap.pol"


@pytest.fixture(scope="module")
def kernel():
    return pol.compile(GUANGDONG)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """2,000 records with bad rows, and `pol run`'s output and ledger over them."""
    d = tmp_path_factory.mktemp("small")
    path = d / "small.parquet"
    pq.write_table(spoil(pq.read_table(generate(d / "clean.parquet", 2000))), path)
    out = d / "out.parquet"
    pol_cli("run", GUANGDONG, "--input", path, "--output", out, "--max-errors", "10%")
    return {"input": path, "output": out, "ledger": d / "out.errors.csv"}


def test_check_gives_the_verdict_and_diagnostics_of_pol_check(monkeypatch):
    # Paths are shown relative to the working folder, as the CLI shows them.
    monkeypatch.chdir(ROOT)
    ok = pol.check(GUANGDONG)
    assert ok.ok and ok.verdict.startswith("compliant against ") and ok.diagnostics == []
    assert ok.framework.endswith("policies/national/pension_adjustment.pol")
    bad = pol.check(REJECTED.relative_to(ROOT))
    assert not bad.ok and bad.verdict.startswith("not compliant")
    assert all(code.startswith(("C", "E")) for code in bad.codes) and bad.codes
    cli = pol_cli("check", REJECTED.relative_to(ROOT), check=False)
    assert cli.returncode == 1
    assert bad.render() in cli.stdout
    assert {d["line"] for d in bad.diagnostics} and all(d["file"].endswith(".pol") for d in bad.diagnostics)


def test_compile_errors_are_exceptions_with_their_codes(tmp_path):
    with pytest.raises(pol.CompileError) as e:
        pol.compile(REJECTED)
    assert e.value.codes == pol.check(REJECTED).codes
    broken = tmp_path / "broken.pol"
    broken.write_text("rule one() -> Int = \n")
    with pytest.raises(pol.CompileError) as e:
        pol.compile(broken)
    assert e.value.codes and e.value.codes[0].startswith("E")
    with pytest.raises(pol.PolError, match="cannot read"):
        pol.compile(tmp_path / "missing.pol")
    with pytest.raises(pol.PolError, match="no rule named"):
        pol.compile(GUANGDONG, rules=["no_such_rule"])
    with pytest.raises(pol.PolError, match="engine"):
        pol.compile(GUANGDONG, engine="gpu")
    with pytest.raises(pol.CompileError):
        pol.compile(GUANGDONG, as_of="1990-01-01")


def test_the_schema_describes_inputs_outputs_and_aggregates(kernel):
    s = kernel.schema
    fields = {i["field"]: i for i in s["inputs"]}
    assert fields["person_id"]["key"] and fields["monthly_pension"]["type"] == "money"
    assert fields["birth_date"]["domain"] == ["1900-01-01", "2009-12-31"] and fields["contribution"]["domain"] == ["0", "720"]
    assert [o["name"] for o in s["outputs"]] == ["pension_adjustment", "new_pension", "挂钩调整", "倾斜调整"]
    assert all(o["arrow"] == "Decimal128(18, 2)" for o in s["outputs"])
    assert [a["text"] for a in s["aggregates"]] == ["aggregate sum(result) <= national_ratio * sum(r.monthly_pension)"]
    assert kernel.key_fields == ["person_id"]


def test_the_result_starts_with_the_columns_of_pol_runs_output(kernel, small):
    expected = pq.read_schema(small["output"])
    width = kernel.output_width
    assert kernel.result_schema.names[:width] == expected.names
    assert [f.type for f in kernel.result_schema][:width] == expected.types
    assert kernel.result_schema.names[width:] == ["pol_row", "pol_status", "pol_rule", "pol_column", "pol_message", "pol_ids"]


def test_a_batch_evaluates_as_pol_run_evaluates_the_file(kernel, small):
    batch = pq.read_table(small["input"]).combine_chunks().to_batches()[0]
    keys = pa.Table.from_batches([kernel.keys(batch)])
    groups = {}
    for r in keys.to_pylist():
        groups.setdefault(r["pol_key_0"], []).append(r["pol_row"])
    dups = kernel.duplicates([([k], rows) for k, rows in groups.items() if len(rows) > 1])
    assert len(dups) > 0
    result = kernel(batch, duplicates=dups)
    assert result.num_rows == batch.num_rows
    ok = result.filter(pa.compute.equal(result["pol_status"], "ok"))
    expected = pq.read_table(small["output"])
    assert pa.Table.from_batches([ok]).select(expected.schema.names).cast(expected.schema).equals(expected)
    failed = result.filter(pa.compute.not_equal(result["pol_status"], "ok")).to_pylist()
    mine = [{"row": r["pol_row"], "person_id": r["pol_ids"][0], "code": r["pol_status"], "rule": r["pol_rule"], "column": r["pol_column"], "message": r["pol_message"]} for r in failed]
    assert mine == ledger_of(small["ledger"])
    assert {m["code"] for m in mine} == {"V0001", "V0002", "V0005"}
    # Failed rows are null in every output column.
    assert all(r["new_pension"] is None and r["person_id"] is None for r in failed)


def test_partial_sums_add_up_to_the_sums_of_the_whole(kernel, small):
    batch = pq.read_table(small["input"]).combine_chunks().to_batches()[0]
    whole = kernel.aggregates(batch)
    parts = [kernel.aggregates(batch.slice(o, 700), first_row=o + 1) for o in range(0, batch.num_rows, 700)]
    assert [tuple(map(sum, zip(*column))) for column in zip(*parts)] == whole
    assert all(isinstance(v, int) for pair in whole for v in pair)
    assert kernel.check_aggregates(parts) == kernel.check_aggregates([whole])
    [agg] = kernel.check_aggregates([whole])
    assert agg["holds"] and decimal.Decimal(agg["lhs"]) <= decimal.Decimal(agg["rhs"])
    # The sums are exact in fen: the left side is the sum of the increases over the rows that evaluated.
    result = kernel(batch)
    fen = sum(int(v * 100) for v in result["pension_adjustment"].to_pylist() if v is not None)
    assert decimal.Decimal(agg["lhs_sum"]) * 100 == fen
    with pytest.raises(pol.PolError, match="aggregate sums"):
        kernel.check_aggregates([[(1, 2), (3, 4)]])
    with pytest.raises(pol.PolError, match="128 bits"):
        kernel.check_aggregates([[(2**126, 0)], [(2**126, 0)]])


def test_decide_fails_as_pol_run_fails(kernel, small):
    batch = pq.read_table(small["input"]).combine_chunks().to_batches()[0]
    _, sums = kernel.evaluate(batch)
    ledger = len(ledger_of(small["ledger"]))
    assert kernel.decide([sums], batch.num_rows, ledger, "10%")["failures"] == []
    [why] = kernel.decide([sums], batch.num_rows, ledger)["failures"]
    assert f"{ledger} of {batch.num_rows} rows are in the error ledger, more than --max-errors 0 allows" == why
    assert "none of the 5 rows reached the output" in kernel.decide([sums], 5, 5, "100%")["failures"]


def test_a_kernel_pickles_by_its_source_and_evaluates_alike(kernel, small):
    batch = pq.read_table(small["input"]).combine_chunks().to_batches()[0]
    copy = pickle.loads(pickle.dumps(kernel))
    assert repr(copy) == repr(kernel)
    assert copy(batch).equals(kernel(batch))
    assert len(pickle.dumps(kernel)) < 200_000
    dups = kernel.duplicates([([1], [1, 2]), ([5], [9])])
    assert len(dups) == 2 and dups.groups() == [([1], [1, 2])]
    assert pickle.loads(pickle.dumps(dups)).groups() == dups.groups()


def test_the_interpreter_gives_the_same_bytes(kernel, small):
    batch = pq.read_table(small["input"]).combine_chunks().to_batches()[0]
    interp = pol.compile(GUANGDONG, engine="interp")
    assert interp(batch).equals(kernel(batch))


def test_wrong_schemas_and_null_columns_are_errors_or_ledger_rows_never_a_crash(kernel):
    with pytest.raises(pol.SchemaError) as e:
        kernel(pa.record_batch({"person_id": pa.array([1, 2], pa.int64())}))
    assert any("monthly_pension" in p for p in e.value.problems)
    clean = pq.read_table(generate_small()).combine_chunks().to_batches()[0]
    as_float = clean.set_column(clean.schema.get_field_index("monthly_pension"), "monthly_pension", clean["monthly_pension"].cast(pa.float64()))
    with pytest.raises(pol.SchemaError, match="floating point"):
        kernel(as_float)
    # A column of nulls the kernel does not need to read for every row, and one it does.
    nulls = clean.set_column(clean.schema.get_field_index("hukou"), "hukou", pa.nulls(clean.num_rows, pa.string()))
    all_null_pension = clean.set_column(clean.schema.get_field_index("monthly_pension"), "monthly_pension", pa.nulls(clean.num_rows, clean["monthly_pension"].type))
    result = kernel(all_null_pension)
    assert set(result["pol_status"].to_pylist()) == {"V0001"}
    assert kernel(nulls).num_rows == clean.num_rows
    for wrong in [None, 3, "text", pa.table({"a": [1]})]:
        with pytest.raises((pol.PolError, TypeError)):
            kernel(wrong)
    with pytest.raises(pol.PolError, match="rows"):
        kernel(clean, rows=pa.array([1], pa.int64()))
    with pytest.raises(pol.PolError, match="1-based"):
        kernel(clean, first_row=0)


_SMALL = {}


def generate_small():
    if "p" not in _SMALL:
        import tempfile
        from pathlib import Path

        _SMALL["p"] = generate(Path(tempfile.mkdtemp()) / "p.parquet", 100)
    return _SMALL["p"]


def test_run_is_the_cli_run(small, tmp_path):
    out = tmp_path / "out.parquet"
    summary = pol.run(GUANGDONG, small["input"], out, max_errors="10%", threads=2)
    assert summary["rows_in"] == 2000 and summary["output_written"]
    assert pq.read_table(out).equals(pq.read_table(small["output"]))
    with pytest.raises(pol.RunFailed) as e:
        pol.run(GUANGDONG, small["input"], tmp_path / "strict.parquet")
    assert e.value.summary["rows_in_ledger"] > 0 and "more than --max-errors 0 allows" in e.value.failures[0]
    assert not (tmp_path / "strict.parquet").exists()
    with pytest.raises(pol.PolError):
        pol.run(GUANGDONG, tmp_path / "missing.parquet", tmp_path / "x.parquet")


def test_explain_is_pol_explain():
    code, name, text = pol.explain("V0005")
    assert code == "V0005" and text
    assert pol.explain("X9999") is None
