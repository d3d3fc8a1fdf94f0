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


#: The integrations' extras, and the Django lines their libraries support
#: (django-two-factor-auth stops at 5.2; its tests skip where it is missing).
INTEGRATIONS = {
    "testing": ("4.2", "5.2", "6"),
    "phonenumber": ("4.2", "5.2", "6"),
    "two-factor": ("4.2", "5.2"),
    "otp": ("4.2", "5.2", "6"),
    "allauth": ("4.2", "5.2", "6"),
    "django-sms": ("4.2", "5.2", "6"),
    "beat": ("4.2", "5.2", "6"),
}


def suite_on(django_line: str, requirement: str) -> Callable[[nox.Session], None]:
    """A session that runs the suite, integrations included, with ``requirement`` installed.

    One virtualenv per Django line holds every integration library that line
    supports, so each library is tested for real on each line, without a
    session (and an install) per library.
    """
    extras = ",".join(["test", *(e for e, lines in INTEGRATIONS.items() if django_line in lines)])

    def suite(session: nox.Session) -> None:
        session.install("-e", f".[{extras}]", requirement)
        session.run("python", "-m", "pytest", "-q", "-m", "not browser", *session.posargs)

    suite.__doc__ = f"The test suite and the integrations on {requirement}."
    return suite


for django_line, python, requirement in MATRIX:
    nox.session(name=f"django-{django_line}", python=interpreter(python))(
        suite_on(django_line, requirement)
    )
