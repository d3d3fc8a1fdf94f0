"""The package installed as a new user installs it: a fresh virtualenv, a built wheel, no extras.

Without Celery the app sends in-process (``DISPATCH = "auto"``); asking for
Celery without it is an error that names the fix, before anything is stored;
the REST API without DRF names its extra; ``[redis]`` brings what a Redis
worker imports. The wheel is built from this checkout; its dependencies come
through pip as usual (its cache keeps this quick).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_smsgo.simulator.instance import Simulator
from tests.example.project import REPOSITORY, Project

pytestmark = pytest.mark.isolated

#: What a checkout holds besides its sources: never part of what pip builds.
LEFTOVERS = (
    ".git",
    ".venv",
    ".nox",
    "build",
    "dist",
    "*.egg-info",
    "_build",
    "__pycache__",
    "*.sqlite3",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
)


class Virtualenv:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = str(root / "venv" / "bin" / "python")

    def pip(self, *args: str) -> None:
        done = subprocess.run(
            [self.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    def run(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, "-c", code], capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout, as ``pip wheel .`` makes it.

    Built from a copy of the tree without its build leftovers: setuptools
    reuses a ``build/`` folder, which may hold files the tree no longer has.
    """
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "django-smsgo"
    shutil.copytree(REPOSITORY, source, ignore=shutil.ignore_patterns(*LEFTOVERS))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--wheel-dir", str(out), str(source)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (built,) = out.glob("django_smsgo-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Virtualenv:
    """A new virtualenv with the wheel installed, no extras."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=300)
    env = Virtualenv(root)
    env.pip(str(wheel))
    return env


@pytest.fixture
def project(venv: Virtualenv, tmp_path: Path, smsgo_simulator: Simulator) -> Iterator[Project]:
    made = Project(tmp_path, venv.python, from_checkout=False)
    try:
        yield made
    finally:
        made.stop_all()


def settings_for(simulator: Simulator, **extra: object) -> dict[str, object]:
    return {
        "USERNAME": "tester",
        "PASSWORD": "s3cret-Pa55word",
        "API_URL": simulator.base_url,
        **extra,
    }


def recipient_statuses(project: Project) -> dict[str, int]:
    return dict(
        project.shell_json(
            "import json; from django_smsgo.models import Recipient\n"
            "print(json.dumps(Recipient.objects.status_counts()))"
        )
    )


def test_without_celery_a_send_goes_out_in_process(
    venv: Virtualenv, project: Project, smsgo_simulator: Simulator
) -> None:
    assert venv.run("import celery").returncode != 0, "celery must not be installed"
    project.create(settings_for(smsgo_simulator))
    project.manage("migrate")
    check = project.manage("check")
    assert "smsgo.E022" not in check.stdout + check.stderr
    status = project.shell(
        "from django_smsgo import send_sms\n"
        "m = send_sms('0912345678', 'Hello')\n"
        "m.refresh_from_db(); print(m.status)"
    )
    assert status.split()[-1] == "submitted"
    sent = project.manage("smsgo_send", "0922333444", "-m", "Hi there")
    assert "is submitted" in sent.stdout
    assert recipient_statuses(project) == {"submitted": 2}
    assert len(smsgo_simulator.messages) == 2


def test_without_celery_asking_for_celery_is_refused_before_storing(
    project: Project, smsgo_simulator: Simulator
) -> None:
    project.create(settings_for(smsgo_simulator))
    project.manage("migrate")
    with (project.dir / "mysite" / "settings.py").open("a", encoding="utf-8") as handle:
        handle.write('SMSGO["DISPATCH"] = "celery"\n')
    check = project.manage("check", check=False)
    assert check.returncode != 0
    assert "smsgo.E022" in check.stderr
    assert 'pip install "django-smsgo[celery]"' in check.stderr
    refused = project.manage("smsgo_send", "0912345678", "-m", "Hello", check=False)
    assert refused.returncode != 0
    assert "Celery is not installed" in refused.stderr
    assert "Traceback" not in refused.stderr
    with sqlite3.connect(project.dir / "db.sqlite3") as database:
        (count,) = database.execute("SELECT COUNT(*) FROM django_smsgo_message").fetchone()
    assert count == 0
    assert smsgo_simulator.requests == []


def test_the_api_without_drf_names_its_extra(project: Project, smsgo_simulator: Simulator) -> None:
    project.create(settings_for(smsgo_simulator))
    urls = project.dir / "mysite" / "urls.py"
    urls.write_text(
        urls.read_text(encoding="utf-8").replace(
            "]\n", '    path("smsgo/api/", include("django_smsgo.api.urls")),\n]\n'
        ),
        encoding="utf-8",
    )
    check = project.manage("check", check=False)
    assert check.returncode != 0
    last_line = check.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured"), check.stderr
    assert 'pip install "django-smsgo[drf]"' in last_line


def test_the_redis_extra_brings_what_a_redis_worker_imports(venv: Virtualenv, wheel: Path) -> None:
    venv.pip(f"{wheel}[redis]")
    done = venv.run("import celery, redis, kombu.transport.redis; print('ok')")
    assert done.stdout.strip() == "ok", done.stderr
