"""A config dict written as TOML text (Python reads TOML, tomllib, but does
not write it): the top level's plain values first, then one ``[table]``
per table, nested tables as ``[a.b]``; tables inside arrays are inline.

>>> print(to_toml({"loss": {"name": "softmax"}, "network": {"hidden": [16, 8], "seed": 3}}), end="")
[loss]
name = "softmax"
<BLANKLINE>
[network]
hidden = [16, 8]
seed = 3
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["to_toml"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)  # the shortest text that reads back as the same float
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"TOML cannot hold {type(v).__name__} {v!r}")


def _tables(table: dict[str, Any], path: list[str], out: list[str]) -> None:
    plain = {k: v for k, v in table.items() if not isinstance(v, dict) and v is not None}
    if path and (plain or not any(isinstance(v, dict) for v in table.values())):
        out.append("[" + ".".join(_key(p) for p in path) + "]")
    out.extend(f"{_key(k)} = {_value(v)}" for k, v in plain.items())
    if plain or (path and not any(isinstance(v, dict) for v in table.values())):
        out.append("")
    for k, v in table.items():
        if isinstance(v, dict):
            _tables(v, [*path, k], out)


def to_toml(document: dict[str, Any]) -> str:
    """``document`` (strings, numbers, booleans, arrays, tables; None
    values are left out) as TOML text that ``tomllib`` reads back equal."""
    out: list[str] = []
    _tables(document, [], out)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
