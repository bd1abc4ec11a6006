"""The shape of the house, as ARCHITECTURE.md draws it: every module under app/ is named there,
imports run one way, routes hold no engine, no address takes another's request, and modules stay
small."""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, APIRouter
from starlette.routing import Mount

from app.config import Settings
from app.main import create_app
from tests.harness import ROOT

DOC = ROOT / "ARCHITECTURE.md"

# Each module's layer, by its dotted name or a package's. A new module goes in one here, and gets
# its line in ARCHITECTURE.md.
ENTRY = ("app.main", "app.house", "app.cli", "app.cli_posters")
ROUTES = ("app.routes", "app.deps")
SERVICES = (
    "app.runner",
    "app.auth",
    "app.teams",
    "app.flow_copies",
    "app.results_links",
    "app.posters",
    "app.exports",
    "app.demo",
    "app.program",
    "app.program_text",
)
FOUNDATIONS = (
    "app.views",
    "app.team_record",
    "app.screens",
    "app.templating",
    "app.realtime",
    "app.batcher",
    "app.memory",
    "app.models",
    "app.db",
    "app.flows",
    "app.glossary",
    "app.codes",
    "app.errors",
    "app.security",
    "app.ratelimits",
    "app.i18n",
    "app.config",
)
STORAGE = ("app.db", "sqlalchemy", "sqlmodel")

MAX_LINES = 400
DATA_MODULES = {"app/posters/sample.py"}  # the built-in sample posters: data, not logic


def modules(top: str) -> list[Path]:
    return sorted((ROOT / top).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def dotted(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported(path: Path) -> set[str]:
    """Every module a file imports (`from app import auth` counts as app.auth)."""
    found: set[str] = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer(name: str) -> str:
    for label, prefixes in (
        ("entry", ENTRY),
        ("routes", ROUTES),
        ("services", SERVICES),
        ("foundations", FOUNDATIONS),
    ):
        if within(name, prefixes):
            return label
    return "app" if name == "app" else "?"


APP_MODULES = modules("app")


@pytest.mark.parametrize("path", APP_MODULES, ids=relative)
def test_every_module_has_a_layer(path: Path) -> None:
    assert layer(dotted(path)) != "?", (
        f"{relative(path)} is in no layer: add it to tests/test_architecture.py and ARCHITECTURE.md"
    )


def test_every_module_under_app_is_named_in_architecture_md() -> None:
    named = set(re.findall(r"`(app/[\w./]*)`", DOC.read_text(encoding="utf-8")))
    packages = {n for n in named if n.endswith("/") and n != "app/"}
    missing = [
        relative(p)
        for p in APP_MODULES
        if relative(p) != "app/__init__.py"
        and relative(p) not in named
        and not any(relative(p).startswith(package) for package in packages)
    ]
    assert not missing, f"ARCHITECTURE.md does not name {', '.join(missing)}"
    gone = sorted(n for n in named if not (ROOT / n).exists())
    assert not gone, f"ARCHITECTURE.md names what is not there: {', '.join(gone)}"


@pytest.mark.parametrize("path", APP_MODULES, ids=relative)
def test_imports_run_one_way(path: Path) -> None:
    """routes -> runner and services -> read side and foundations; never back."""
    here = layer(dotted(path))
    ours = {name for name in imported(path) if name.startswith("app.")}
    if here in ("services", "foundations", "app"):
        upward = sorted(n for n in ours if layer(n) in ("routes", "entry"))
        assert not upward, f"{relative(path)} ({here}) imports {', '.join(upward)}"
    if here in ("foundations", "app"):
        sideways = sorted(n for n in ours if layer(n) == "services")
        assert not sideways, f"{relative(path)} ({here}) imports {', '.join(sideways)}"


@pytest.mark.parametrize("path", modules("exercises"), ids=relative)
def test_an_exercise_imports_nothing_of_the_app(path: Path) -> None:
    app = sorted(n for n in imported(path) if n == "app" or n.startswith("app."))
    assert not app, f"{relative(path)} imports {', '.join(app)}"


ROUTE_MODULES = [p for p in APP_MODULES if layer(dotted(p)) == "routes"]


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=relative)
def test_routes_hold_no_engine_and_no_database_session(path: Path) -> None:
    storage = sorted(n for n in imported(path) if within(n, STORAGE))
    assert not storage, f"{relative(path)} imports {', '.join(storage)}"
    engines = [
        node.lineno
        for node in ast.walk(tree(path))
        if isinstance(node, ast.Attribute) and node.attr in ("engine", "reader")
    ]
    assert not engines, f"{relative(path)} reaches for the engine or reader on lines {engines}"


def test_no_two_routes_can_take_the_same_request(tmp_path: Path) -> None:
    """Every address is literal but for its parameters, so the order the routers are included in
    does not matter: no route's address pattern matches another route's address."""
    routers = [
        module.router
        for module in (importlib.import_module(dotted(p)) for p in ROUTE_MODULES)
        if isinstance(getattr(module, "router", None), APIRouter)
    ]
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="")  # type: ignore[call-arg]
    api = create_app(settings).other_asgi_app
    assert len([r for r in api.routes if not isinstance(r, Mount)]) == len(routers)  # all included
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    assert {"/runs/{run_id}/next", "/runs/{run_id}/edit", "/p/{code}/answer"} <= {r.path for r in routes}
    for route in routes:
        example = re.sub(r"\{[^}]+\}", "x1", route.path)
        for other in routes:
            if other is not route and other.methods & route.methods:
                assert not other.path_regex.match(example), (
                    f"{' '.join(sorted(other.methods))} {other.path} also takes {example} ({route.path})"
                )


@pytest.mark.parametrize("path", APP_MODULES + modules("exercises"), ids=relative)
def test_no_module_is_over_400_lines(path: Path) -> None:
    if relative(path) in DATA_MODULES:
        pytest.skip("data, not logic")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{relative(path)} has {lines} lines; split it by responsibility"
