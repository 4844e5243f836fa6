"""Pol from Python.

`check` and `compile` read files as the `pol` command does; a compiled `Kernel` evaluates
`pyarrow.RecordBatch`es of records with the same results as `pol run`, and pickles by its source,
so that Spark (`pol.spark`) and Ray (`pol.ray`) workers run the same kernel. `run` is `pol run`.
"""

import json
import os

from . import errors
from ._pol import Duplicates, Kernel, __version__, compile, explain
from ._pol import _check, _run
from .errors import CompileError, PolError, RunFailed, SchemaError

__all__ = [
    "Check",
    "CompileError",
    "Duplicates",
    "Kernel",
    "PolError",
    "RunFailed",
    "SchemaError",
    "check",
    "compile",
    "errors",
    "explain",
    "run",
]


class Check:
    """The verdict on a file, as `pol check` gives it."""

    def __init__(self, file, verdict, diagnostics, rendered, framework):
        self.file = file
        #: `compliant against …`, `ok`, `not compliant (2 errors) against …`, `3 errors`.
        self.verdict = verdict
        #: A list of dicts: code, message, file, line, column, label, help, notes, framework.
        self.diagnostics = diagnostics
        #: The framework file a scheme was checked against.
        self.framework = framework
        self._rendered = rendered

    @property
    def ok(self):
        return not self.diagnostics

    @property
    def codes(self):
        return [d["code"] for d in self.diagnostics]

    def render(self):
        """The diagnostics as `pol check` prints them."""
        return self._rendered

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return f"<pol.Check {self.file}: {self.verdict}>"


def check(file, framework=None):
    """Checks a file as `pol check` does (a scheme against its framework, for compliance)."""
    verdict, diagnostics, rendered, against = _check(os.fspath(file), None if framework is None else os.fspath(framework))
    return Check(os.fspath(file), verdict, diagnostics, rendered, against)


def run(
    scheme,
    input,
    output,
    *,
    framework=None,
    binding=None,
    as_of=None,
    rules=(),
    keep=(),
    errors=None,
    summary_json=None,
    threads=None,
    engine="jit",
    batch_rows=None,
    max_errors="0",
    warn_aggregates=False,
    input_table=None,
    input_query=None,
    output_table=None,
):
    """`pol run` in this process, with the same options: returns the run's summary (a dict);
    a run that fails as the CLI's exits 1 raises `RunFailed` (its `summary` says why)."""
    args = [os.fspath(scheme), "--input", os.fspath(input), "--output", os.fspath(output)]
    options = {
        "--framework": framework,
        "--binding": binding,
        "--as-of": as_of,
        "--errors": errors,
        "--summary-json": summary_json,
        "--threads": threads,
        "--batch-rows": batch_rows,
        "--input-table": input_table,
        "--input-query": input_query,
        "--output-table": output_table,
    }
    for flag, value in options.items():
        if value is not None:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    for rule in rules:
        args += ["--rule", rule]
    for column in keep:
        args += ["--keep", column]
    args += ["--engine", engine, "--max-errors", str(max_errors)]
    if warn_aggregates:
        args.append("--warn-aggregates")
    code, summary = _run(args)
    summary = None if summary is None else json.loads(summary)
    if code == 0:
        return summary
    if code == 1 and summary is not None:
        raise RunFailed("the run failed: " + "; ".join(summary.get("failures", [])), summary=summary)
    raise PolError(f"pol run exited with {code} (the messages above say why)")
