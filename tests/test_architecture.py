"""Architecture rules: the layering (import-linter, setup.cfg) and the size of modules and classes."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is not installed (pip install -e '.[test]')"
    result = subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


MAX_MODULE_LINES = 400
MAX_PUBLIC_METHODS = 20


def _modules() -> list[Path]:
    return sorted(p for top in ("engine", "storage", "web") for p in (ROOT / top).rglob("*.py"))


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these by concern (at most {MAX_MODULE_LINES} lines): {long}"


def test_no_class_has_over_20_public_methods():
    big = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                public = [
                    f.name
                    for f in node.body
                    if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not f.name.startswith("_")
                ]
                if len(public) > MAX_PUBLIC_METHODS:
                    big[f"{path.relative_to(ROOT)}:{node.name}"] = len(public)
    assert not big, f"split these classes (at most {MAX_PUBLIC_METHODS} public methods): {big}"
