"""The example project: its settings, its system checks, and its verification page.

The project runs in subprocesses (its settings are not the suite's), with a
database and a queue folder of its own under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PROJECT = REPOSITORY / "example_project"


def project_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SMSGO_", "EXAMPLE_", "CELERY_"))
        and k not in ("DATABASE_URL",)
    }
    env.update(
        PYTHONPATH=str(REPOSITORY),
        EXAMPLE_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        EXAMPLE_BROKER_DIR=str(tmp_path / "broker"),
    )
    env.update(extra)
    return env


def manage(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT, env=project_env(tmp_path, **extra), capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip


def shell(tmp_path: Path, code: str, **extra: str) -> Any:
    """Run ``code`` in the project's shell; it prints one JSON document, returned parsed."""
    done = manage(tmp_path, "shell", "-c", code, **extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


SHOW_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "broker": settings.CELERY_BROKER_URL,
    "smsgo": settings.SMSGO,
    "apps": settings.INSTALLED_APPS,
}))
"""


def test_manage_py_check_passes_without_errors(tmp_path: Path) -> None:
    done = manage(tmp_path, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ERRORS:" not in done.stdout + done.stderr


def test_defaults_need_no_server(tmp_path: Path) -> None:
    seen = shell(tmp_path, SHOW_SETTINGS)
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["name"] == str(tmp_path / "db.sqlite3")
    assert seen["broker"] == "filesystem://"
    assert (tmp_path / "broker" / "processed").is_dir()
    assert seen["smsgo"]["API_URL"] == "http://127.0.0.1:8765/sms_gw/"
    # The backup host follows the primary, so development never reaches the real gateway.
    assert seen["smsgo"]["BACKUP_API_URL"] == seen["smsgo"]["API_URL"]
    assert seen["smsgo"]["CALLBACK_BASE_URL"] is None
    assert {"django_smsgo", "rest_framework", "verification"} <= set(seen["apps"])


def test_environment_switches_to_postgresql_and_redis(tmp_path: Path) -> None:
    seen = shell(
        tmp_path,
        SHOW_SETTINGS,
        DATABASE_URL="postgres://shop@db.internal:5432/shop",
        CELERY_BROKER_URL="redis://cache.internal:6379/4",
        SMSGO_USERNAME="shop",
        SMSGO_API_URL="https://www.smsgo.com.tw/sms_gw/",
        SMSGO_CALLBACK_BASE_URL="https://shop.example.com",
        SMSGO_CALLBACK_PREVIOUS_TOKENS="old-one,older-one",
    )
    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["name"] == "shop"
    assert seen["broker"] == "redis://cache.internal:6379/4"
    assert seen["smsgo"]["USERNAME"] == "shop"
    assert seen["smsgo"]["API_URL"] == "https://www.smsgo.com.tw/sms_gw/"
    assert seen["smsgo"]["CALLBACK_BASE_URL"] == "https://shop.example.com"
    assert seen["smsgo"]["CALLBACK_PREVIOUS_TOKENS"] == ["old-one", "older-one"]


VERIFY_A_NUMBER = """
import json, re
from django.core.management import call_command
from django.test import Client
from django_smsgo.models import Message

call_command("migrate", verbosity=0)
browser = Client()
result = {"start": browser.get("/").status_code}

bad = browser.post("/", {"phone": "12345"})
result["bad_status"] = bad.status_code
result["bad_page"] = bad.content.decode()
result["messages_after_bad"] = Message.objects.count()

sent = browser.post("/", {"phone": "0912-345-678"})
result["sent_redirect"] = sent.headers.get("Location")
message = Message.objects.get()
result["priority"] = message.priority
result["kind"] = message.kind
result["body"] = message.body
from django_smsgo.codes.models import OneTimeCode
result["codes"] = OneTimeCode.objects.count()
again = browser.post("/", {"phone": "0912-345-678"})
result["again_page"] = again.content.decode()
result["phones"] = list(message.recipients.values_list("phone", flat=True))
result["recipient_status"] = message.recipients.get().status
code = re.search(r"\\d{6}", message.body).group()

confirm = browser.get("/confirm/")
result["confirm_page"] = confirm.content.decode()
wrong = "000000" if code != "000000" else "111111"
result["wrong_page"] = browser.post("/confirm/", {"code": wrong}).content.decode()
right = browser.post("/confirm/", {"code": code}, follow=True)
result["right_page"] = right.content.decode()
result["code"] = code
print(json.dumps(result))
"""


def test_verification_page_sends_the_code_with_send_otp(tmp_path: Path, smsgo_simulator) -> None:
    seen = shell(
        tmp_path,
        VERIFY_A_NUMBER,
        SMSGO_API_URL=smsgo_simulator.base_url,
        SMSGO_USERNAME="tester",
        SMSGO_PASSWORD="s3cret-Pa55word",
        CELERY_TASK_ALWAYS_EAGER="1",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    assert seen["start"] == 200
    # A bad number is named on the page and nothing is stored.
    assert seen["bad_status"] == 200
    assert "12345" in seen["bad_page"]
    assert seen["messages_after_bad"] == 0
    # A good one is normalised, sent at high priority, and the page asks for the code.
    assert seen["sent_redirect"] == "/confirm/"
    assert seen["phones"] == ["0912345678"]
    assert seen["priority"] == "high"
    assert seen["kind"] == "transactional"
    assert seen["body"].startswith("【Example】")
    assert seen["codes"] == 1
    # A second code for the same number within the cooldown is refused on the page.
    assert "OTP_COOLDOWN" in seen["again_page"]
    assert seen["recipient_status"] == "submitted"
    assert "0912345678" in seen["confirm_page"]
    assert "Wrong code" in seen["wrong_page"]
    assert "0912345678 is verified." in seen["right_page"]
    # The gateway received exactly one message, to that number, carrying the code.
    messages = list(smsgo_simulator.state.messages.values())
    assert len(messages) == 1
    assert list(messages[0].receivers) == ["0912345678"]
    assert seen["code"] in messages[0].body


TWO_FACTOR_LOGIN = """
import json
from django.core.management import call_command
from django.contrib.auth.models import User
from django.test import Client
from two_factor.plugins.phonenumber.models import PhoneDevice

call_command("migrate", verbosity=0)
user = User.objects.create_user("mei", password="pw-not-secret-1234")
PhoneDevice.objects.create(user=user, name="default", number="+886912345678", method="sms")
browser = Client()
page = browser.post("/account/login/", {
    "login_view-current_step": "auth",
    "auth-username": "mei",
    "auth-password": "pw-not-secret-1234",
})
token_step = 'name="token-otp_token"' in page.content.decode()
print(json.dumps({"status": page.status_code, "token_step": token_step}))
"""


def test_two_factor_login_is_one_setting_away(tmp_path: Path, smsgo_simulator) -> None:
    pytest.importorskip("two_factor")
    seen = shell(
        tmp_path,
        TWO_FACTOR_LOGIN,
        EXAMPLE_TWO_FACTOR="1",
        SMSGO_API_URL=smsgo_simulator.base_url,
        SMSGO_USERNAME="tester",
        SMSGO_PASSWORD="s3cret-Pa55word",
        CELERY_TASK_ALWAYS_EAGER="1",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    assert seen == {"status": 200, "token_step": True}
    # The token went out through django-smsgo to the phone device's number.
    messages = list(smsgo_simulator.state.messages.values())
    assert [list(m.receivers) for m in messages] == [["0912345678"]]
