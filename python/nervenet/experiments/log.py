"""The JSON-lines log of an experiment: a header line naming the experiment
(what runs and the run seed), then one line per finished trial, written and
flushed as each trial finishes. Opening an existing log resumes it: its
finished trials are kept (not run again), a line cut short by an
interruption is dropped, and a log of a different experiment is refused.

>>> import json, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "t.jsonl")
>>> log = TrialLog(path, {"function": "f", "seed": 0})
>>> log.open()
{}
>>> log.append({"trial": 0, "seed": 5, "metrics": {"x": 1.0}, "seconds": 0.1}); log.close()
>>> sorted(TrialLog(path, {"function": "f", "seed": 0}).open())
[0]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any, Optional, Union

from ..errors import ConfigError

__all__ = ["TrialLog", "first_difference"]


def first_difference(a: Any, b: Any, path: str = "") -> Optional[str]:
    """The first dotted key at which two JSON values differ, with both
    values (None when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                return f"{where} ({'absent' if key not in a else json.dumps(a[key])} there, " \
                       f"{'absent' if key not in b else json.dumps(b[key])} here)"
            found = first_difference(a[key], b[key], where)
            if found is not None:
                return found
        return None
    if a != b:
        return f"{path or 'the value'} ({json.dumps(a)} there, {json.dumps(b)} here)"
    return None


class TrialLog:
    """``path``'s trials for the experiment ``header`` describes (a
    JSON-able dict): :meth:`open` returns the finished ones by trial index
    and readies the file for :meth:`append`."""

    def __init__(self, path: Union[str, "os.PathLike[str]"], header: dict[str, Any]) -> None:
        self.path = Path(path)
        self.header = json.loads(json.dumps(header))  # as it reads back: tuples are lists
        self._file: Optional[IO[str]] = None

    def open(self) -> dict[int, dict[str, Any]]:
        """The successful trials already in the file (a failed one is run
        again); creates the file with its header if there is none."""
        finished: dict[int, dict[str, Any]] = {}
        if self.path.is_dir():
            raise ConfigError(f"the log {self.path} is a folder; name a file")
        if self.path.exists() and self.path.stat().st_size > 0:
            raw = self.path.read_bytes()
            complete = raw[: raw.rfind(b"\n") + 1]  # a last line without its newline was cut short
            lines = complete.decode("utf-8", errors="replace").splitlines()
            try:
                header = json.loads(lines[0])["experiment"] if lines else None
            except (ValueError, KeyError, TypeError):
                raise ConfigError(f"{self.path} is not a nervenet experiment log (its first line is not a "
                                  "header); give another log file") from None
            if header is not None and header != self.header:
                raise ConfigError(f"{self.path} holds the trials of a different experiment: "
                                  f"{first_difference(header, self.header)}; give another log file, or delete "
                                  "it to start over")
            for number, line in enumerate(lines[1:], start=2):
                try:
                    record = json.loads(line)
                    trial = int(record["trial"])
                except (ValueError, KeyError, TypeError):
                    raise ConfigError(f"{self.path}, line {number}: not a trial record") from None
                if record.get("error") is None:
                    finished[trial] = record
            with open(self.path, "r+b") as f:
                f.truncate(len(complete))
            if not lines:
                self._write_header()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write_header()
        self._file = open(self.path, "a", encoding="utf-8")
        return finished

    def _write_header(self) -> None:
        self.path.write_text(json.dumps({"experiment": self.header}) + "\n", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        """Writes one trial's line and flushes it to the file."""
        assert self._file is not None, "open() first"
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
