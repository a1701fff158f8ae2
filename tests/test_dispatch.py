"""The one place that chooses between the compiled and the Python implementations
(:mod:`neardup.dispatch`); that both give the same values is tests/test_kernels.py's."""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path

import pytest

from neardup import dispatch, kernels

SRC = Path(dispatch.__file__).parent
_NUMBA = importlib.util.find_spec("numba") is not None


@pytest.mark.parametrize("name", sorted(dispatch.OPERATIONS))
def test_every_operation_names_two_functions(name) -> None:
    compiled_ref, python_ref = dispatch.OPERATIONS[name]
    compiled, python = dispatch._resolve(compiled_ref), dispatch._resolve(python_ref)
    assert callable(compiled) and callable(python)
    assert compiled is not python


def test_no_module_chooses_a_path_itself() -> None:
    """Only kernels (which defines it) and dispatch call ``kernels.available()``."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name in ("kernels.py", "dispatch.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "available"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "kernels"
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not found, f"use neardup.dispatch instead of kernels.available() at {found}"


def test_forced_python_runs_the_python_implementations() -> None:
    before = os.environ.get("NEARDUP_NO_JIT")
    with dispatch.forced("python"):
        assert not dispatch.compiled()
        assert kernels.path().startswith("Python path")
        _, python_ref = dispatch.OPERATIONS["collapse_whitespace"]
        assert dispatch.implementation("collapse_whitespace") is dispatch._resolve(python_ref)
    assert os.environ.get("NEARDUP_NO_JIT") == before  # restored


@pytest.mark.skipif(not _NUMBA, reason="the compiled path needs numba (pip install -e '.[test]')")
def test_forced_compiled_runs_the_compiled_implementations(monkeypatch) -> None:
    """Even where NEARDUP_NO_JIT is set (the second pass of the test suite)."""
    monkeypatch.setenv("NEARDUP_NO_JIT", "1")
    with dispatch.forced("compiled"):
        assert dispatch.compiled()
        assert kernels.path() == "compiled loops (numba)"
        compiled_ref, _ = dispatch.OPERATIONS["collapse_whitespace"]
        assert dispatch.implementation("collapse_whitespace") is dispatch._resolve(compiled_ref)
    assert os.environ["NEARDUP_NO_JIT"] == "1"


def test_forced_compiled_without_numba_says_so(monkeypatch) -> None:
    monkeypatch.setattr(kernels, "_numba_installed", lambda: False)
    with pytest.raises(RuntimeError, match="needs numba"), dispatch.forced("compiled"):
        pass
    with pytest.raises(ValueError, match="path must be one of"), dispatch.forced("numba"):
        pass
