"""The layers of docs/architecture.md hold: import-linter checks the contracts in .importlinter (every
import, inside functions too), and every module of the apps is placed in a layer so none escapes them."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = BASE_DIR / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser


def _root_packages() -> list[str]:
    return _config()["importlinter"]["root_packages"].split()


def _layer_modules() -> set[str]:
    layers = _config()["importlinter:contract:layers"]["layers"]
    return {name.strip() for line in layers.splitlines() for name in re.split(r"[|:]", line) if name.strip()}


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(cwd / ".importlinter")],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def test_import_contracts_are_kept():
    result = _lint(BASE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_of_the_apps_lies_in_a_layer():
    graph = grimp.build_graph(*_root_packages(), cache_dir=None)
    layers = _layer_modules()
    roots = set(_root_packages())
    unplaced = sorted(
        module for module in graph.modules
        if module not in roots and not any(module == layer or module.startswith(layer + ".") for layer in layers)
    )
    assert unplaced == []


def test_an_import_from_a_layer_above_is_reported(tmp_path):
    # The check itself can fail: the same contracts on a copy of the code with one upward import.
    for package in _root_packages():
        shutil.copytree(BASE_DIR / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CONFIG, tmp_path / ".importlinter")
    rules = tmp_path / "members" / "rules.py"
    rules.write_text(rules.read_text() + "\n\ndef _upward():\n    from transfers import selectors  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "members.rules -> transfers.selectors" in result.stdout
