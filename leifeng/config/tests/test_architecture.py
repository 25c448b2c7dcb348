"""The house's shape (issue #11), checked on the source so a regression fails the suite, not a review:

- every import between leifeng's packages points downward along LAYERS (core imports no app; no circles);
- no module of app code passes MAX_LINES (a module that grows splits into a package along its sections);
- every domain app has the standard file set, a policy module among them.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # leifeng/

# Bottom to top: a package may import only those before it (and itself).
LAYERS = [
    "core",
    "orgs",
    "accounts",
    "people",
    "teams",
    "notifications",
    "activities",
    "hours",
    "attendance",
    "orders",
    "home",
    "demo",
    "config",
    "testing",
]
DOMAIN_APPS = ["orgs", "accounts", "people", "teams", "notifications", "activities", "hours", "attendance", "orders"]
STANDARD_FILES = ["models.py", "services", "selectors", "policy.py", "views", "api", "tests"]
MAX_LINES = 700


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if "migrations" in rel.parts:
            continue
        yield rel, path


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "leifeng" and len(parts) > 1:
                yield node.lineno, parts[1]


def test_imports_point_downward():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for rel, path in _modules():
        src = rel.parts[0]
        if src not in rank:
            continue
        if "tests" in rel.parts:  # tests sit above everything: they may set up data of any app
            continue
        for lineno, dst in _imports(path):
            if dst == src or dst not in rank:
                continue
            if rank[dst] > rank[src]:
                upward.append(f"{rel}:{lineno} imports leifeng.{dst}")
    assert upward == []


def test_every_package_has_a_layer():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"static", "templates", "locale"} <= set(LAYERS)


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_domain_app_has_the_standard_files(app):
    base = ROOT / app
    missing = [f for f in STANDARD_FILES if not ((base / f).exists() or (base / f"{f}.py").exists())]
    assert missing == []


def test_no_module_is_too_long():
    long = []
    for rel, path in _modules():
        if rel.parts[0] in {"static", "templates", "locale"} or "tests" in rel.parts:
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            long.append(f"{rel}: {n} lines")
    assert long == []
