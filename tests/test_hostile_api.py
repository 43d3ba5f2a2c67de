"""The public API under hostile arguments (see ``tests/hostile_api.py``):
every call succeeds or raises a ``NervenetError``. The walk runs in child
processes limited to ``MEMORY_LIMIT`` bytes of address space; a child that
dies is an offence (its last line names the call), and the walk resumes
after it, so one run lists every offence."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import queue
import sys
import tempfile
import threading
from pathlib import Path

import nervenet as nv

#: the address space a child may use: an allocation past it is a crash or an
#: error, and allocation sizes come from the arguments, so only a size check
#: before allocating (or fallible allocation) keeps the child alive.
MEMORY_LIMIT = 6 << 30

#: seconds one call may take (the slowest good call takes well under one)
CALL_TIMEOUT = 20

WALKER = Path(__file__).with_name("hostile_api.py")
# the folder holding the nervenet these tests import (the source tree, or site-packages where installed): the
# child runs in a temporary folder, where a relative PYTHONPATH would find another copy
PACKAGE_PARENT = str(Path(nv.__file__).resolve().parents[1])


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _child_lines(start: int, env: dict[str, str], cwd: str):
    """Runs the walker from ``start``; yields its JSON lines as they come, then
    ``{"exit": status, "stderr": ...}``. A call that takes longer than
    ``CALL_TIMEOUT`` seconds kills the child and yields ``{"hung": True}``."""
    child = subprocess.Popen([sys.executable, str(WALKER), str(start)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=cwd, preexec_fn=_limit)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout] + [lines.put(None)], daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=CALL_TIMEOUT)
        except queue.Empty:
            child.kill()
            child.wait()
            yield {"hung": True}
            return
        if line is None:
            break
        if line.startswith("{"):
            yield json.loads(line)
    child.wait()
    yield {"exit": child.returncode, "stderr": child.stderr.read()[-300:]}


def run_walk() -> tuple[int, list[dict]]:
    """Runs the walk to the end, restarting after crashes and hangs. Returns
    the number of calls made and the offences."""
    env = dict(os.environ, NERVENET_NUM_THREADS="2", PYTHONPATH=PACKAGE_PARENT)
    start, offences, calls, last = 0, [], 0, None
    cwd = tempfile.mkdtemp(prefix="nv-hostile-")  # hostile paths such as "x" are written here
    while True:
        for line in _child_lines(start, env, cwd):
            if "offence" in line:
                offences.append(line)
            elif "i" in line:
                calls, last = calls + 1, line
            elif line.get("done"):
                return calls, offences
            elif last is None:
                raise AssertionError(f"the walker failed to start: {line}")
            else:
                why = f"hung (no answer in {CALL_TIMEOUT} s)" if "hung" in line else \
                    f"process died (status {line['exit']}): {line['stderr'].strip()}"
                offences.append({**last, "offence": last["i"], "error": why})
                start = last["i"] + 1
                break


def test_every_public_call_under_hostile_arguments_succeeds_or_raises_a_nervenet_error() -> None:
    calls, offences = run_walk()
    assert calls > 1000
    assert not offences, f"{len(offences)} of {calls} calls broke the rule:\n" + "\n".join(
        f"{o['call']}({o['param']}={o['value']}): {o['error']}" for o in offences)
