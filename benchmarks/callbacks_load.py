"""Delivery reports per second through gunicorn on PostgreSQL, beside a one-UPDATE baseline.

Builds a throw-away project around ``django_smsgo`` in a temporary directory,
seeds ``--recipients`` submitted recipients in batches of 50, and sends every
recipient's DELIVRD report ``--copies`` times (the gateway re-sends reports,
so duplicates are part of the load), shuffled, from ``--clients`` threads over
keep-alive connections on loopback. The same requests go, in each
round, to both (the order alternates: baseline first in odd rounds, smsgo
first in even ones)

* ``baseline``: a minimal Django view that runs one ``UPDATE`` (the
  recipient found by an index, its indexed ``status`` changed) and answers
  the acknowledgement, and
* ``smsgo``: the app's delivery-report view (token check, validation, the
  report row, the recipient lock and change, the acknowledgement after commit).

Every answer is checked to be the exact acknowledgement; after each smsgo
round the database is checked for lost reports (a recipient not delivered, an
acknowledged request without its row) and doubled ones (two applied changes
for one recipient). Bounded in requests and in time. Usage::

    .venv/bin/python benchmarks/callbacks_load.py \\
        [--database-url postgres://postgres@127.0.0.1:5432/smsgo_callbacks_bench] \\
        [--recipients 1500] [--copies 2] [--clients 8] [--workers 2] [--threads 4] [--rounds 3]

The database named in ``--database-url`` is dropped and created again.
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
ACK = "magicid=tccrd_sms_gateway_rpack\nmsgid={msgid}\n"
BATCH_SIZE = 50

SETTINGS = """
import dj_database_url

SECRET_KEY = "benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
TIME_ZONE = "Asia/Taipei"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django_smsgo",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "bench_project.urls"
DATABASES = {{"default": dj_database_url.parse({database_url!r}, conn_max_age=600)}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "root": {{"handlers": [], "level": "ERROR"}}}}
SMSGO = {{
    "USERNAME": "bench",
    "PASSWORD": "bench-password",
    "CALLBACK_BASE_URL": "http://127.0.0.1",
    "CALLBACK_TOKEN": "benchmark-callback-token-0123456789abcdef",
}}
"""

URLS = """
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from django_smsgo.models import Recipient

ACK = "magicid=tccrd_sms_gateway_rpack\\nmsgid={msgid}\\n"


@csrf_exempt
def baseline(request: HttpRequest, batch_id: int) -> HttpResponse:
    # The least a callback view can do: one UPDATE that finds the recipient by
    # an index and changes its indexed status (as a real report must), then
    # the answer.
    Recipient.objects.filter(batch_id=batch_id, phone=request.GET["dstaddr"]).update(
        status=Recipient.Status.DELIVERED, gateway_status=request.GET["statusstr"]
    )
    return HttpResponse(ACK.format(msgid=request.GET["msgid"]), content_type="text/plain")


urlpatterns = [
    path("smsgo/", include("django_smsgo.urls")),
    path("baseline/<int:batch_id>/", baseline),
]
"""

WSGI = """
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_project.settings")
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""


@dataclass
class Request:
    smsgo_path: str
    baseline_path: str
    msgid: str


@dataclass
class RoundResult:
    target: str
    sent: int
    acknowledged: int
    wrong: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0


def write_project(directory: Path, database_url: str) -> None:
    package = directory / "bench_project"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        textwrap.dedent(SETTINGS.format(database_url=database_url))
    )
    (package / "urls.py").write_text(textwrap.dedent(URLS))
    (package / "wsgi.py").write_text(textwrap.dedent(WSGI))


def recreate_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def create_tables() -> None:
    """The contrib apps by migration, the app's tables from its models as they are now."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "contenttypes", verbosity=0)
    call_command("migrate", "auth", verbosity=0)
    with connection.schema_editor() as editor:
        for model in apps.get_app_config("django_smsgo").get_models():
            editor.create_model(model)


def seed(recipients: int, copies: int, seed_value: int) -> tuple[list[Request], list[Request]]:
    """Submitted recipients to report on; returns (load requests, warm-up requests)."""
    from django.utils import timezone

    from django_smsgo.models import Batch, Message, Recipient
    from django_smsgo.services.callback_urls import report_url

    def make(count: int, first_phone: int, label: str) -> list[Request]:
        made: list[Request] = []
        for start in range(0, count, BATCH_SIZE):
            phones = [
                f"09{first_phone + start + i:08d}" for i in range(min(BATCH_SIZE, count - start))
            ]
            message = Message.objects.create(
                body=f"{label} {start}",
                body_hash=f"{label}-{start}",
                encoding="ASCII",
                status=Message.Status.SUBMITTED,
                recipient_count=len(phones),
            )
            msgid = str(10**14 + first_phone + start)
            batch = Batch.objects.create(
                message=message,
                state=Batch.State.SUBMITTED,
                msgid=msgid,
                submitted_at=timezone.now(),
            )
            Recipient.objects.bulk_create(
                Recipient(
                    message=message,
                    phone=phone,
                    batch=batch,
                    status=Recipient.Status.SUBMITTED,
                    submitted_at=timezone.now(),
                )
                for phone in phones
            )
            url = report_url(batch)
            assert url is not None
            for phone in phones:
                query = urlencode(
                    {"msgid": msgid, "statuscode": "0", "statusstr": "DELIVRD", "dstaddr": phone}
                )
                made.append(
                    Request(
                        f"{urlsplit(url).path}?{query}", f"/baseline/{batch.pk}/?{query}", msgid
                    )
                )
        return made

    load = make(recipients, 0, "load") * copies
    random.Random(seed_value).shuffle(load)
    warm_up = make(200, 50_000_000, "warm-up")
    return load, warm_up


def reset_state() -> None:
    from django_smsgo.models import DeliveryReport, Message, Recipient

    DeliveryReport.objects.all().delete()
    Recipient.objects.update(
        status=Recipient.Status.SUBMITTED, gateway_status="", gateway_statuscode=None, final_at=None
    )
    Message.objects.update(status=Message.Status.SUBMITTED, completed_at=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(
    directory: Path, port: int, workers: int, threads: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(directory), str(REPO)]),
        "DJANGO_SETTINGS_MODULE": "bench_project.settings",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "bench_project.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=directory,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start within 30 s")


def run_round(
    target: str, port: int, requests: list[Request], clients: int, max_seconds: float
) -> RoundResult:
    """Send every request once from ``clients`` threads; count exact acknowledgements."""
    work: queue.SimpleQueue[Request] = queue.SimpleQueue()
    for request in requests:
        work.put(request)
    counts = {"sent": 0, "acknowledged": 0, "wrong": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sent = acknowledged = wrong = 0
        while time.monotonic() < deadline:
            try:
                request = work.get_nowait()
            except queue.Empty:
                break
            path = request.smsgo_path if target == "smsgo" else request.baseline_path
            try:
                connection.request("GET", path)
                answer = connection.getresponse()
                body = answer.read().decode()
                ok = answer.status == 200 and body == ACK.format(msgid=request.msgid)
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            sent += 1
            acknowledged += ok
            wrong += not ok
        connection.close()
        with lock:
            counts["sent"] += sent
            counts["acknowledged"] += acknowledged
            counts["wrong"] += wrong

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return RoundResult(target, counts["sent"], counts["acknowledged"], counts["wrong"], seconds)


def check_smsgo_round(result: RoundResult, recipients: int) -> tuple[int, int, int]:
    """(lost, doubled, rows) after a smsgo round."""
    from django.db.models import Count

    from django_smsgo.models import DeliveryReport, Recipient

    delivered = Recipient.objects.filter(
        status=Recipient.Status.DELIVERED, message__body__startswith="load"
    ).count()
    rows = DeliveryReport.objects.filter(phone__lt="0950000000").count()
    doubled = (
        DeliveryReport.objects.filter(outcome=DeliveryReport.Outcome.APPLIED)
        .values("recipient")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    lost = (recipients - delivered) + max(0, result.acknowledged - rows)
    return lost, doubled, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/smsgo_callbacks_bench"
    )
    parser.add_argument("--recipients", type=int, default=1500)
    parser.add_argument("--copies", type=int, default=2, help="arrivals of each report")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="per round")
    parser.add_argument("--seed", type=int, default=5)
    options = parser.parse_args()
    if not 1 <= options.recipients <= 100_000 or not 1 <= options.copies <= 4:
        raise SystemExit("--recipients must be 1..100000 and --copies 1..4")

    with tempfile.TemporaryDirectory(prefix="smsgo-bench-") as tmp:
        directory = Path(tmp)
        write_project(directory, options.database_url)
        sys.path[:0] = [str(directory), str(REPO)]
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench_project.settings"
        recreate_database(options.database_url)
        import django

        django.setup()
        create_tables()
        load, warm_up = seed(options.recipients, options.copies, options.seed)
        port = free_port()
        server = start_gunicorn(directory, port, options.workers, options.threads)
        try:
            run_round("baseline", port, warm_up, options.clients, options.max_seconds)
            run_round("smsgo", port, warm_up, options.clients, options.max_seconds)
            results: dict[str, list[RoundResult]] = {"baseline": [], "smsgo": []}
            problems = 0
            for number in range(1, options.rounds + 1):
                order = ("baseline", "smsgo") if number % 2 else ("smsgo", "baseline")
                for target in order:
                    reset_state()
                    result = run_round(target, port, load, options.clients, options.max_seconds)
                    results[target].append(result)
                    line = (
                        f"round {number} {target:8} {result.sent} requests, "
                        f"{result.acknowledged} acknowledged, {result.wrong} not, "
                        f"{result.seconds:.2f} s, {result.per_second:.0f}/s"
                    )
                    if target == "smsgo":
                        lost, doubled, rows = check_smsgo_round(result, options.recipients)
                        problems += lost + doubled + result.wrong
                        line += f"; reports stored {rows}, lost {lost}, doubled {doubled}"
                    print(line, flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)

    ratios = [
        smsgo.per_second / baseline.per_second
        for smsgo, baseline in zip(results["smsgo"], results["baseline"], strict=True)
    ]
    rates = {target: [r.per_second for r in rounds] for target, rounds in results.items()}
    print("ratios: " + ", ".join(f"{ratio:.3f}" for ratio in ratios))
    print(
        f"median: baseline {statistics.median(rates['baseline']):.0f}/s, "
        f"smsgo {statistics.median(rates['smsgo']):.0f}/s, "
        f"ratio {statistics.median(ratios):.2f} "
        f"({options.recipients} recipients x {options.copies} arrivals, {options.clients} clients, "
        f"gunicorn {options.workers} workers x {options.threads} threads)"
    )
    if problems:
        raise SystemExit(f"{problems} lost, doubled or unacknowledged reports")


if __name__ == "__main__":
    main()
