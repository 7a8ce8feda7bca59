"""Imports flow one way: pages -> dashboard.ui / services -> domain, charts, reports -> db.

An ast walk over the source (nothing is imported), so a forbidden import fails here even
when it sits in a function body or under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Rule:
    name: str
    sources: tuple[str, ...]  # files or folders, relative to the repo root
    forbidden: tuple[str, ...]  # top-level packages (a prefix match on dotted names)
    exclude: tuple[str, ...] = ()


RULES = [
    Rule("pages never touch the database", ("pages",), ("sqlalchemy", "db")),
    Rule("db knows nothing of the app or the UI", ("db",), ("dashboard", "streamlit")),
    Rule("only dashboard/ui imports streamlit", ("dashboard",), ("streamlit",), ("dashboard/ui",)),
    Rule(
        "domain, charts and reports are pure",
        ("dashboard/domain", "dashboard/charts", "dashboard/reports"),
        ("db", "sqlalchemy"),
    ),
    # The timeline once took its status sentences from the PDF report's model: a page's
    # words come from dashboard/domain (plain_words, workings), as the report's do.
    Rule("pages take words from the domain, not the reports", ("pages",), ("dashboard.reports",)),
]


def _absolute(node: ast.ImportFrom, filename: str) -> str:
    """`from ..x import y` in dashboard/services/a.py -> `dashboard.x`."""
    if node.level == 0:
        return node.module or ""
    package = list(Path(filename).parent.parts)
    if node.level > 1:
        package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return (
        name in {"import_module", "__import__"}
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def imported_modules(source: str, filename: str = "<string>") -> list[tuple[int, str]]:
    """Every module name a source imports, with its line, wherever the import sits.

    `from x.y import z` yields both `x.y` and `x.y.z` (z may be a submodule); relative
    imports are resolved against the file's folder; `importlib.import_module("x")` and
    `__import__("x")` with a literal name count too.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, filename)
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{a.name}".lstrip(".")) for a in node.names)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found.append((node.lineno, node.args[0].value))
    return found


def violations(source: str, forbidden: tuple[str, ...], filename: str = "<string>") -> list[str]:
    """Lines of `source` that import any of `forbidden` (a package or its submodules)."""
    by_line: dict[int, str] = {}
    for lineno, name in imported_modules(source, filename):
        if lineno not in by_line and any(
            name == package or name.startswith(package + ".") for package in forbidden
        ):
            by_line[lineno] = f"{filename}:{lineno}: imports {name}"
    return [by_line[n] for n in sorted(by_line)]


def python_files(rule: Rule) -> list[Path]:
    files: list[Path] = []
    for src in rule.sources:
        path = ROOT / src
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
    excluded = [ROOT / e for e in rule.exclude]
    return [f for f in files if not any(f.is_relative_to(e) for e in excluded)]


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_import_rule(rule: Rule) -> None:
    problems: list[str] = []
    for path in python_files(rule):
        rel = path.relative_to(ROOT).as_posix()
        problems.extend(violations(path.read_text(encoding="utf-8"), rule.forbidden, rel))
    assert not problems, f"{rule.name}:\n" + "\n".join(problems)


def test_rules_cover_existing_code() -> None:
    """The walk must see the packages it guards (a renamed folder must not go unchecked)."""
    assert python_files(RULES[1]), "no module found under db/"
    assert python_files(RULES[2]), "no module found under dashboard/"


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy",
        "import sqlalchemy.orm as orm",
        "from sqlalchemy import select",
        "from sqlalchemy.orm import Session",
        "import db",
        "import db.models",
        "from db import models",
        "from db.models import Couple",
        "import os, db.queries",
        "def f():\n    from db.engine import make_engine\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from db.models import User\n",
        "import importlib\nimportlib.import_module('db.models')\n",
        "__import__('sqlalchemy')",
    ],
)
def test_checker_catches_a_violation(source: str) -> None:
    assert violations(source, ("sqlalchemy", "db"), "pages/bad.py")


@pytest.mark.parametrize(
    "source",
    [
        "import dashboard.services.couples",
        "from dashboard.ui import widgets",
        "import dbm",
        "import sqlalchemy_utils_lookalike",
        "from . import db",  # pages/db.py would be pages.db, not the db package
        "from .db import x",
        "x = 'import db'",
    ],
)
def test_checker_allows_clean_imports(source: str) -> None:
    assert violations(source, ("sqlalchemy", "db"), "pages/ok.py") == []


def test_checker_resolves_relative_imports() -> None:
    assert violations("from ..db import models", ("dashboard.db",), "dashboard/ui/x.py")
    assert violations("from .. import ui", ("dashboard.ui",), "dashboard/domain/x.py")
    assert not violations("from . import scoring", ("db",), "dashboard/domain/x.py")


def test_checker_reports_file_and_line() -> None:
    source = "import os\n\nfrom streamlit import session_state\n"
    assert violations(source, ("streamlit",), "db/models.py") == [
        "db/models.py:3: imports streamlit"
    ]


def ui_import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Which of `sources`' modules (one package's: dashboard.ui, dashboard.services)
    each one imports, at module level or inside a function (an import moved into a
    function body to dodge a circle is still a circle)."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, source in sources.items():
        for _, imported in imported_modules(source, name.replace(".", "/") + ".py"):
            if imported in graph and imported != name:
                graph[name].add(imported)
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports, as the modules in order (first repeated at the end), or []."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str]:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return []
        for imported in sorted(graph[name]):
            cycle = visit(imported, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return []

    for name in sorted(graph):
        cycle = visit(name, [])
        if cycle:
            return cycle
    return []


def test_ui_modules_import_one_way() -> None:
    """dashboard/ui modules import each other in one direction: the login form, single
    sign-on and the shared widgets once imported each other in a circle, which only
    worked by importing inside functions and broke with any reordering."""
    sources = {
        f"dashboard.ui.{path.stem}": path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "dashboard" / "ui").glob("*.py"))
        if path.stem != "__init__"
    }
    graph = ui_import_graph(sources)
    assert graph["dashboard.ui.widgets"], "the walk must see widgets' own ui imports"
    cycle = import_cycle(graph)
    assert not cycle, "dashboard/ui modules import in a circle: " + " -> ".join(cycle)


def _package_sources(package: str) -> dict[str, str]:
    return {
        f"dashboard.{package}.{path.stem}": path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "dashboard" / package).glob("*.py"))
        if path.stem != "__init__"
    }


def test_services_import_one_way() -> None:
    """dashboard/services modules import each other in one direction. The caseload review
    (services.review) reads supervision reviews for its flags and attention list, so
    supervision (which files a review against the attention key) never imports review:
    the two once imported each other, each needing a piece of the other."""
    graph = ui_import_graph(_package_sources("services"))
    assert "dashboard.services.supervision" in graph["dashboard.services.review"], (
        "the walk must see review's import of supervision"
    )
    assert "dashboard.services.review" not in graph["dashboard.services.supervision"]
    cycle = import_cycle(graph)
    assert not cycle, "dashboard/services modules import in a circle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    ("sources", "cycle"),
    [
        (
            {
                "dashboard.ui.a": "from dashboard.ui import b\n",
                "dashboard.ui.b": "def f():\n    from dashboard.ui.a import x\n",
            },
            ["dashboard.ui.a", "dashboard.ui.b", "dashboard.ui.a"],
        ),
        (
            {
                "dashboard.ui.auth": "from dashboard.ui import sso\n",
                "dashboard.ui.sso": "def f():\n    from dashboard.ui.widgets import md_text\n",
                "dashboard.ui.widgets": "from dashboard.ui.auth import verified_actor\n",
            },
            ["dashboard.ui.auth", "dashboard.ui.sso", "dashboard.ui.widgets", "dashboard.ui.auth"],
        ),
        (
            {
                "dashboard.ui.auth": "from dashboard.ui.literal import md_text\n",
                "dashboard.ui.literal": "import re\n",
                "dashboard.ui.widgets": "from dashboard.ui import auth, literal\n",
            },
            [],
        ),
    ],
    ids=["function-level import", "the old three-way circle", "one direction"],
)
def test_cycle_checker(sources: dict[str, str], cycle: list[str]) -> None:
    assert import_cycle(ui_import_graph(sources)) == cycle
