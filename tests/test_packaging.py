"""What ``pip`` gets: an sdist without stray tests, extras that bring a broker's client,
and a Django range and classifiers that match the versions the test matrix runs."""

from __future__ import annotations

import ast
import configparser
import tarfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPOSITORY = Path(__file__).resolve().parents[1]
SETUP = configparser.ConfigParser()
SETUP.read(REPOSITORY / "setup.cfg", encoding="utf-8")


def requirements(value: str) -> list[Requirement]:
    lines = [line.split("#")[0].strip() for line in value.splitlines()]
    return [Requirement(line) for line in lines if line]


def matrix() -> list[tuple[str, str, str]]:
    """``MATRIX`` of noxfile.py: (Django line, Python, requirement)."""
    tree = ast.parse((REPOSITORY / "noxfile.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MATRIX":
            return ast.literal_eval(node.value)
    raise AssertionError("noxfile.py has no MATRIX")


@pytest.fixture(scope="module")
def sdist_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    build_meta = pytest.importorskip("setuptools.build_meta")  # Python 3.12+ venvs lack it

    out = tmp_path_factory.mktemp("sdist")
    name = build_meta.build_sdist(str(out))
    with tarfile.open(out / name) as archive:
        return [member.split("/", 1)[1] for member in archive.getnames() if "/" in member]


def test_the_sdist_ships_no_tests_but_docs_changelog_and_license(sdist_names: list[str]) -> None:
    assert not [name for name in sdist_names if name.startswith("tests/")]
    for needed in ("LICENSE", "CHANGELOG.rst", "README.rst", "docs/quickstart.rst"):
        assert needed in sdist_names
    assert "django_smsgo/migrations/0001_initial.py" in sdist_names
    assert not [name for name in sdist_names if name.endswith((".pyc", ".sqlite3"))]


def test_the_broker_extras_bring_their_clients() -> None:
    extras = SETUP["options.extras_require"]
    redis = requirements(extras["redis"])
    # celery[redis] brings redis-py and what kombu's Redis transport imports (packaging).
    assert [(r.name, r.extras) for r in redis] == [("celery", {"redis"})]
    assert [r.name for r in requirements(extras["rabbitmq"])] == ["celery"]  # py-amqp is kombu's


def test_the_django_range_is_the_tested_matrix() -> None:
    (django,) = [
        r for r in requirements(SETUP["options"]["install_requires"]) if r.name == "Django"
    ]
    allowed: SpecifierSet = django.specifier
    for line, _python, requirement in matrix():
        tested = Requirement(f"Django{requirement.removeprefix('Django')}").specifier
        first = {"4.2": "4.2.0", "5.2": "5.2.0", "6": "6.0.0"}[line]
        assert first in tested, line
        assert first in allowed, line
    for untested in ("5.0.0", "5.1.4", "7.0.0", "4.1.0"):
        assert untested not in allowed, untested
    classifiers = SETUP["metadata"]["classifiers"]
    for line, python, _requirement in matrix():
        version = "6.0" if line == "6" else line
        assert f"Framework :: Django :: {version}" in classifiers
        assert f"Programming Language :: Python :: {python}" in classifiers
    assert "Framework :: Django :: 5.0" not in classifiers
    assert "Framework :: Django :: 5.1" not in classifiers
