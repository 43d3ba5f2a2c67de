"""Docstrings point to things that exist: every Sphinx reference
(``:func:`...```, ``:class:`...``` ...) in the package resolves, from the
class, module or package it is written in, or the package root."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any, Iterator

import nervenet as nv

REFERENCE = re.compile(r":(?:func|meth|class|mod|attr|data|exc):`~?([\w.]+)`")


def _docstrings() -> Iterator[tuple[str, list[Any], str]]:
    """(where, the scopes its names are read in, docstring) for every
    module, class, function and method of the package."""
    for info in pkgutil.walk_packages(nv.__path__, "nervenet."):
        module = importlib.import_module(info.name)
        package = importlib.import_module(info.name.rpartition(".")[0]) if "." in info.name else nv
        scopes = [module, package, nv]
        yield info.name, scopes, module.__doc__ or ""
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__ or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            yield f"{info.name}.{name}", [obj, *scopes], obj.__doc__ or ""
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if isinstance(member, (property, staticmethod, classmethod)) or inspect.isfunction(member):
                        yield f"{info.name}.{name}.{attr}", [obj, *scopes], member.__doc__ or ""


def _resolves(target: str, scopes: list[Any]) -> bool:
    parts = target.lstrip(".").split(".")
    starts = [(nv, parts[1:])] if parts[0] == "nervenet" else [(scope, parts) for scope in scopes]
    for start, rest in starts:
        obj: Any = start
        for i, part in enumerate(rest):
            if hasattr(obj, part):
                obj = getattr(obj, part)
                continue
            if inspect.ismodule(obj):  # a submodule not imported by its package
                try:
                    obj = importlib.import_module(f"{obj.__name__}.{part}")
                    continue
                except ImportError:
                    pass
            break
        else:
            return True
    return False


def test_every_docstring_reference_resolves() -> None:
    missing = sorted({f"{where}: {target}" for where, scopes, doc in _docstrings()
                      for target in REFERENCE.findall(doc)
                      if not target.startswith(("sklearn.", "numpy.", "torch.")) and not _resolves(target, scopes)})
    assert missing == []
