"""``manage.py smsgo_jobs``: the periodic jobs without Celery, in real processes.

A fresh project in inline mode (no broker): a retry that comes due and a
dispatch killed mid-way are both finished by a running ``smsgo_jobs``, which
stops cleanly on SIGINT or SIGTERM. ``--once`` (for cron) runs what is due and
exits.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_smsgo.models import BalanceSnapshot, JobRun
from django_smsgo.simulator.instance import Simulator
from tests.example.project import Project, wait_until

SETTINGS = {
    "USERNAME": "tester",
    "PASSWORD": "s3cret-Pa55word",
    "DISPATCH": "inline",
    "SEND_RETRY_BACKOFF": 1,
    "ENQUEUE_SWEEP_AGE": 1,
}


@pytest.fixture
def project(tmp_path: Path, smsgo_simulator: Simulator) -> Iterator[Project]:
    made = Project(tmp_path).create({**SETTINGS, "API_URL": smsgo_simulator.base_url})
    made.manage("migrate")
    try:
        yield made
    finally:
        made.stop_all()


def sent(simulator: Simulator) -> int:
    return len([r for r in simulator.requests if r["endpoint"] == "sendsms.aspx"])


def status_counts(project: Project) -> dict[str, int]:
    return dict(
        project.shell_json(
            "import json; from django_smsgo.models import Recipient\n"
            "print(json.dumps(Recipient.objects.status_counts()))"
        )
    )


def start_jobs(project: Project) -> Any:
    process = project.start(
        "manage.py", "smsgo_jobs", "--sweep-every", "1", "--poll-every", "3600",
        "--balance-every", "3600", log_name="smsgo_jobs.log",
    )  # fmt: skip
    wait_until(lambda: "smsgo_jobs: running" in project.log("smsgo_jobs.log"), "smsgo_jobs started")
    return process


def test_a_retry_that_comes_due_is_sent_by_the_running_jobs(
    project: Project, smsgo_simulator: Simulator
) -> None:
    # The gateway cannot take the first request (-10: surely not sent).
    smsgo_simulator.fault("code", "sendsms.aspx", count=1, code=-10)
    project.shell("from django_smsgo import send_sms; send_sms('0912345678', 'Hello')")
    assert status_counts(project) == {"queued": 1}
    assert smsgo_simulator.messages == []

    jobs = start_jobs(project)
    wait_until(lambda: len(smsgo_simulator.messages) == 1, "the retry sent")
    wait_until(lambda: status_counts(project) == {"submitted": 1}, "the recipient submitted")

    assert project.stop(jobs, signal.SIGINT) == 0
    log = project.log("smsgo_jobs.log")
    assert "smsgo_jobs: stopped." in log
    assert "Traceback" not in log
    assert sent(smsgo_simulator) == 2  # the refused request and the retry


def test_a_dispatch_killed_mid_way_is_finished_and_nothing_is_sent_twice(
    project: Project, smsgo_simulator: Simulator
) -> None:
    numbers = [f"09{n:08d}" for n in range(13_000_000, 13_000_100)]  # two requests of 50
    # A short lease, so the sweeper declares the dead sender's batch uncertain soon;
    # one request in flight, so the second batch is still unclaimed when the sender dies.
    with (project.dir / "mysite" / "settings.py").open("a", encoding="utf-8") as handle:
        handle.write('SMSGO["CLAIM_LEASE"] = 3\nSMSGO["DISPATCH_CONNECTIONS"] = 1\n')
    # The first request is carried out but its answer takes long: the sender dies meanwhile.
    smsgo_simulator.fault("slow", "sendsms.aspx", count=1, seconds=10)
    (project.dir / "numbers.txt").write_text("\n".join(numbers) + "\n", encoding="utf-8")
    sender = project.start(
        "manage.py", "smsgo_send", "--csv", "numbers.txt", "-m", "Hello", "--no-wait",
        log_name="smsgo_send.log",
    )  # fmt: skip
    # The simulator takes the send (a message exists) before it waits to answer.
    wait_until(lambda: len(smsgo_simulator.messages) == 1, "the first request taken")
    assert project.stop(sender, signal.SIGKILL) == -signal.SIGKILL

    jobs = start_jobs(project)
    wait_until(
        lambda: status_counts(project) == {"uncertain": 50, "submitted": 50},
        "the rest sent, the dead sender's batch uncertain",
    )
    assert project.stop(jobs, signal.SIGTERM) == 0
    assert "smsgo_jobs: stopped." in project.log("smsgo_jobs.log")
    assert len(smsgo_simulator.messages) == 2  # one per batch: nothing sent again
    assert smsgo_simulator.duplicates() == {"pairs": 0, "extra_sends": 0}


@pytest.mark.django_db(transaction=True)
def test_once_runs_what_is_due_then_nothing_until_the_interval_is_over(
    gateway: Simulator,
) -> None:
    out = StringIO()
    call_command("smsgo_jobs", "--once", stdout=out)
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [
        "sweep",
        "poll",
        "balance",
    ]
    assert BalanceSnapshot.objects.get().points == 10_000
    runs = {run.name: run for run in JobRun.objects.all()}
    assert set(runs) == {"sweep", "poll", "balance"}
    assert all(run.succeeded and run.finished_at for run in runs.values())
    assert "smsgo_jobs --once on " in runs["sweep"].runner

    again = StringIO()
    call_command("smsgo_jobs", "--once", stdout=again)
    assert again.getvalue().strip() == "No job is due."
    assert BalanceSnapshot.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_once_exits_non_zero_when_a_job_fails(gateway: Simulator, configure: Any) -> None:
    configure(PASSWORD="wrong-password")
    with pytest.raises(CommandError, match="A job failed"):
        call_command(
            "smsgo_jobs", "--once", "--only", "balance", stdout=StringIO(), stderr=StringIO()
        )
    run = JobRun.objects.get(name="balance")
    assert not run.succeeded
    assert "-2" in run.summary


@pytest.mark.django_db
def test_intervals_must_be_positive() -> None:
    with pytest.raises(CommandError, match="more than 0"):
        call_command("smsgo_jobs", "--once", "--poll-every", "0")
