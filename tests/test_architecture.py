"""The layers of docs/architecture.md are true to the code: the import rules hold (lint-imports), every module the
doc names exists, and the README's layout table names every top-level module of the server."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
README = (ROOT / "README.md").read_text()


def top_level_modules() -> set[str]:
    package = ROOT / "chatserver"
    names = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    names |= {p.parent.name for p in package.glob("*/__init__.py")}
    return names


def test_the_import_rules_hold():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint).exists():
        pytest.skip("import-linter is not installed: pip install -e '.[test]'")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"Contracts: \d+ kept, 0 broken", result.stdout), result.stdout[-2000:]


def test_every_module_the_architecture_doc_names_exists():
    named = set(re.findall(r"`(chatserver/[\w/]+?(?:\.py)?)/?`", ARCHITECTURE))
    assert len(named) > 10, "the pattern is out of date"
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_the_readme_layout_names_every_top_level_module():
    layout = README[README.index("## Layout"):]
    layout = layout[:layout.find("\n## ", 5)]
    missing = sorted(name for name in top_level_modules() if f"`chatserver/{name}" not in layout)
    assert not missing, f"README's layout table does not name: {missing}"
