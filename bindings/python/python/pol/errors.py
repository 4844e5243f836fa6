"""The exceptions of the `pol` package. Every one is a `PolError`."""

import json


class PolError(Exception):
    """A usage mistake, an unreadable file, or a batch or run that cannot be evaluated."""


class CompileError(PolError):
    """A file that does not check (or compile): `diagnostics` as `pol check --format json`
    gives them, `codes` their codes, and the message rendered as `pol check` prints it."""

    def __init__(self, text, diagnostics_json="[]"):
        super().__init__(text)
        self.diagnostics = json.loads(diagnostics_json)
        self.codes = [d["code"] for d in self.diagnostics]


class SchemaError(PolError):
    """Columns that cannot be read as the record's fields: `problems` lists every one."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)


class RunFailed(PolError):
    """A run that failed as `pol run` fails (exit 1): too many ledger rows, no output, or a
    broken aggregate requirement. `summary` is the run's summary (or `result` the engine's
    result, with its output and ledger), `failures` why."""

    def __init__(self, message, summary=None, result=None):
        super().__init__(message)
        self.summary = summary
        self.result = result
        source = summary if summary is not None else {}
        self.failures = list(source.get("failures", [])) if isinstance(source, dict) else []
        if result is not None:
            self.failures = list(result.failures)
