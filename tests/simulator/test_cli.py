"""Starting the simulator: account flags and files, ``python -m``, ``manage.py smsgo_simulator``."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from django_smsgo.simulator.cli import load_accounts, parse_account

ROOT = Path(__file__).resolve().parents[2]


def test_account_flag() -> None:
    account = parse_account("shop:pa:ss:word:250")
    assert (account.username, account.password, account.points) == ("shop", "pa:ss:word", 250)


@pytest.mark.parametrize(
    ("text", "message"),
    [("shop:pw:lots", "points 'lots' must be a whole number"), ("shop", "user:password:points")],
)
def test_bad_account_flag_names_the_value(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse_account(text)


def test_accounts_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text(
        json.dumps([{"username": "a", "password": "b", "points": 3, "allowed_ips": ["10.0.0.1"]}])
    )
    [account] = load_accounts(path)
    assert (account.username, account.points, account.allowed_ips) == ("a", 3, ("10.0.0.1",))
    path.write_text(json.dumps([{"username": "a"}]))
    with pytest.raises(SystemExit, match="entry 0 is invalid"):
        load_accounts(path)


def started(command: list[str], env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        banner = "".join(process.stdout.readline() for _ in range(3))
        match = re.search(r"(http://\S+/sms_gw/)", banner)
        assert match, banner
        yield match.group(1), banner
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_python_m_serves_the_given_accounts() -> None:
    command = [sys.executable, "-m", "django_smsgo.simulator", "--port", "0", "--account", "a:b:7"]
    for base_url, banner in started(command):
        answer = requests.get(
            base_url + "query_point.asp", params={"username": "a", "password": "b"}, timeout=10
        )
        assert answer.text == "statuscode=0\nstatusstr=OK\npoint=7\n"
        assert "a (7 points)" in banner
        assert ":b:" not in banner


def test_management_command_uses_the_projects_credentials() -> None:
    command = [sys.executable, "-m", "django", "smsgo_simulator", "--port", "0"]
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    for base_url, banner in started(command, env):
        from django.conf import settings

        credentials = {
            "username": settings.SMSGO["USERNAME"],
            "password": settings.SMSGO["PASSWORD"],
        }
        answer = requests.get(base_url + "query_point.asp", params=credentials, timeout=10)
        assert answer.text.endswith("point=10000\n")
        assert settings.SMSGO["PASSWORD"] not in banner


def _options(*argv: str) -> dict[str, object]:
    from django_smsgo.simulator.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return vars(parser.parse_args(["--port", "0", *argv]))


def test_answer_flags_reach_the_settings() -> None:
    from django_smsgo.simulator.cli import build

    config = build(
        _options(
            "--strict-json",
            "--content-type",
            "text/html",
            "--rtype-case-sensitive",
            "--scheduled-state",
            "QUEUED",
            "--enroute-state",
            "SENT",
            "--report-failure-statuscode",
            "-1",
            "--report-cancelled",
            "--cancel-error-msgid",
            "code",
        )
    ).state.config
    assert (config.strict_json, config.content_type, config.rtype_case_sensitive) == (
        True,
        "text/html",
        True,
    )
    assert (config.scheduled_state, config.enroute_state) == ("QUEUED", "SENT")
    assert (config.report_failure_statuscode, config.report_cancelled) == (-1, True)
    assert config.cancel_error_msgid == "code"


def test_defaults_are_the_documents_answers() -> None:
    from django_smsgo.simulator.cli import build

    config = build(_options()).state.config
    assert (config.strict_json, config.content_type, config.cancel_error_msgid) == (
        False,
        "",
        "echo",
    )


def test_a_setting_that_cannot_be_used_stops_with_its_name() -> None:
    from django_smsgo.simulator.cli import build

    with pytest.raises(SystemExit, match="'report_failure_statuscode' 5 must be 0 to -10"):
        build(_options("--report-failure-statuscode", "5"))
