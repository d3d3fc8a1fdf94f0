"""The package's shape: who may import whom, no import circles, one writer for every state.

Read from the code itself (its ASTs), so a new import that runs back up a
layer, or a status written outside :mod:`django_smsgo.services.states`, fails
here before anyone has to find it by reading. ``docs/architecture.rst``
draws the same layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "django_smsgo"

#: Each layer, and the layers below it that it may import (itself always).
LAYERS: dict[str, set[str]] = {
    # the top: entry points
    "entry": {"codes", "services", "backends", "base", "client", "simulator"},
    # the one-time code service: an app of its own on top of the core's services
    # (the core learns of its tables only through what it registers)
    "codes": {"services", "backends", "base", "client"},
    "services": {"backends", "base", "client"},
    "backends": {"base", "client"},
    "base": {"client"},  # models, reasons, conf, signals, outcomes
    "client": set(),  # the gateway protocol, plain Python (and exceptions.py)
    "simulator": {"outcomes"},  # a stand-in gateway: knows nothing of the app
}

ENTRY = {
    "admin",
    "api",
    "views",
    "urls",
    "management",
    "tasks",
    "checks",
    "apps",
    "integrations",
    "log_filters",
}
BASE = {"models", "reasons", "conf", "signals", "outcomes", "migrations", "events"}


def layer_of(module: str) -> str:
    """The layer of a ``django_smsgo...`` module name."""
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else ""
    if first in ("client", "exceptions", "version"):
        return "client"
    if first in BASE:
        return "base"
    if first in ("services", "backends", "simulator"):
        return first
    if first == "codes":
        return "codes"
    if first in ENTRY or first in ("testing", ""):
        return "entry"  # "": the package root, whose send_sms() is the services'
    raise AssertionError(f"{module}: which layer is it in? Add it to tests/test_architecture.py")


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    type_checking: bool


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield module_name(path), path


def imports_of(name: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                if not is_package:
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, base] if base else anchor)
            # "from django_smsgo.services import dispatch" names a module; "from
            # django_smsgo.models import Message" a name of the module models.
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target.startswith("django_smsgo"):
                yield Import(name, target, node.lineno, id(node) in guarded)


def resolve(target: str, modules: set[str]) -> str | None:
    """The module a dotted import name refers to (a module, or the module defining a name)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def import_graph() -> list[Import]:
    modules = dict(package_modules())
    names = set(modules)
    edges = []
    for name, path in modules.items():
        for found in imports_of(name, path):
            target = resolve(found.target, names)
            if target is not None and target != name:
                edges.append(Import(name, target, found.line, found.type_checking))
    return edges


def test_no_import_runs_back_up_a_layer() -> None:
    wrong = []
    for edge in import_graph():
        source, target = layer_of(edge.source), layer_of(edge.target)
        allowed = LAYERS[source] | {source}
        if target == "base" and edge.target == "django_smsgo.outcomes" and source == "simulator":
            continue
        if target not in allowed and not edge.type_checking:
            wrong.append(f"{edge.source}:{edge.line} ({source}) imports {edge.target} ({target})")
    assert wrong == []


def test_the_import_graph_has_no_circle() -> None:
    graph: dict[str, set[str]] = {}
    for edge in import_graph():
        if not edge.type_checking:
            graph.setdefault(edge.source, set()).add(edge.target)
    circles = _strongly_connected(graph)
    assert [sorted(c) for c in circles if len(c) > 1] == [], circles


def test_not_even_the_type_checker_sees_a_circle() -> None:
    """Imports under ``TYPE_CHECKING`` count too: a circle there is a circle of ideas
    (the admin's actions and views type against ``admin.console.ConsoleAdmin``,
    not the class that calls them)."""
    graph: dict[str, set[str]] = {}
    for edge in import_graph():
        graph.setdefault(edge.source, set()).add(edge.target)
    circles = _strongly_connected(graph)
    assert [sorted(c) for c in circles if len(c) > 1] == [], circles


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the strongly connected components of ``graph``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            found.append(component)

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


# --- one writer for every state -------------------------------------------------------------

STATE_COLUMNS = {"status", "state"}
WRITERS = "django_smsgo.services.states"


def state_writes(path: Path) -> Iterator[str]:
    """Every place in ``path`` that changes a status or state column of a stored row."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            keywords = {k.arg for k in node.keywords}
            if method in ("update", "bulk_update") and keywords & STATE_COLUMNS:
                yield f"line {node.lineno}: .{method}({', '.join(sorted(keywords))})"
            if method in ("save", "bulk_update"):
                for keyword in node.keywords:
                    if keyword.arg in ("update_fields", "fields") and STATE_COLUMNS & {
                        elt.value
                        for elt in getattr(keyword.value, "elts", [])
                        if isinstance(elt, ast.Constant)
                    }:
                        yield f"line {node.lineno}: .{method}({keyword.arg}=[...status...])"
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _assigned_then_saved(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = " ".join(node.value.upper().split())
            if "UPDATE " in text and any(f'"{c.upper()}" =' in text for c in STATE_COLUMNS):
                yield f"line {node.lineno}: SQL that sets a status"


def _assigned_then_saved(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[str]:
    """``row.status = ...`` followed by ``row.save()`` in the same function (a model write;
    a result object's ``status`` is never saved)."""
    assigned: dict[str, int] = {}
    saved: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in STATE_COLUMNS
                    and isinstance(target.value, ast.Name)
                ):
                    assigned[target.value.id] = node.lineno
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "save"
            and isinstance(node.func.value, ast.Name)
        ):
            saved.add(node.func.value.id)
    for name in sorted(set(assigned) & saved):
        yield f"line {assigned[name]}: {name}.status/state = ... then {name}.save()"


def test_only_the_state_machines_write_status_columns() -> None:
    found = {}
    for name, path in package_modules():
        if name.startswith(WRITERS) or name.startswith("django_smsgo.simulator"):
            continue  # the writers; the simulator's own in-memory gateway
        writes = list(state_writes(path))
        if writes:
            found[name] = writes
    assert found == {}


@pytest.mark.parametrize(
    "source",
    [
        'Recipient.objects.filter(pk=1).update(status="failed")',
        "def f(recipient):\n    recipient.status = 'delivered'\n    recipient.save()",
        'recipient.save(update_fields=["status"])',
        'cursor.execute(\'UPDATE "django_smsgo_batch" SET "state" = %s\')',
    ],
)
def test_the_writer_check_sees_each_kind_of_write(tmp_path: Path, source: str) -> None:
    module = tmp_path / "module.py"
    module.write_text(source + "\n", encoding="utf-8")
    assert list(state_writes(module))
