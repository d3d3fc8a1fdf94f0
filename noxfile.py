"""The Django-version matrix: ``nox`` runs the suite once per supported Django line."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

# Django 6 needs Python 3.12+; each line runs on the oldest Python it supports
# beside the newest one we have.
MATRIX = [
    ("4.2", "3.11", "Django>=4.2,<5.0"),
    ("5.2", "3.12", "Django>=5.2,<6.0"),
    ("6", "3.13", "Django>=6.0,<7.0"),
]


def interpreter(version: str) -> str:
    """The interpreter for ``version``: installed under pyenv, else whatever PATH holds.

    pyenv's shims on PATH answer only for the versions selected globally, so the
    installed versions are looked up first.
    """
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    if candidates:
        return candidates[-1]
    return shutil.which(f"python{version}") or f"python{version}"


def suite_on(requirement: str) -> Callable[[nox.Session], None]:
    """A session that runs the suite with ``requirement`` installed."""

    def suite(session: nox.Session) -> None:
        session.install("-e", ".[test]", requirement)
        session.run("python", "-m", "pytest", "-q", "-m", "not browser", *session.posargs)

    suite.__doc__ = f"The test suite on {requirement}."
    return suite


for django_line, python, requirement in MATRIX:
    nox.session(name=f"django-{django_line}", python=interpreter(python))(suite_on(requirement))


# The integrations: each library's tests, with that library really installed,
# on every Django line the library supports (its own classifiers and
# requirements; django-two-factor-auth stops at 5.2).
INTEGRATIONS = {
    # extra: (test files, Django lines)
    "phonenumber": (["tests/integrations/test_phonenumber.py"], ["4.2", "5.2", "6"]),
    "two-factor": (["tests/integrations/test_two_factor.py"], ["4.2", "5.2"]),
    "otp": (
        ["tests/integrations/test_otp.py", "tests/test_app_migrations.py"],
        ["4.2", "5.2", "6"],
    ),
    "allauth": (["tests/integrations/test_allauth.py"], ["4.2", "5.2", "6"]),
    "django-sms": (["tests/integrations/test_django_sms.py"], ["4.2", "5.2", "6"]),
    "beat": (["tests/integrations/test_beat.py"], ["4.2", "5.2", "6"]),
}
LINES = {line: (python, requirement) for line, python, requirement in MATRIX}


def integration_on(extra: str, files: list[str], requirement: str) -> Callable[[nox.Session], None]:
    """A session that runs one integration's tests with its library installed."""

    def integration(session: nox.Session) -> None:
        session.install("-e", f".[test,{extra}]", requirement)
        session.run(
            "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *files, *session.posargs
        )

    integration.__doc__ = f"The {extra} integration on {requirement}."
    return integration


for extra, (files, lines) in INTEGRATIONS.items():
    for django_line in lines:
        python, requirement = LINES[django_line]
        nox.session(name=f"integration-{extra}-django-{django_line}", python=interpreter(python))(
            integration_on(extra, files, requirement)
        )
