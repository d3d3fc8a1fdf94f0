"""Fuzz the REST API with schemathesis: no 5xx and no answer outside the schema, on any input.

Run from the repository root::

    .venv/bin/python tests/api/run_schemathesis.py [--max-examples N] [--seed S] [-- st options]

It migrates a fresh SQLite database in a temporary directory, starts the
bundled gateway simulator and a threaded WSGI server with the API at
``/smsgo/api/``, creates a user holding every permission of the app, and runs
``st run`` against ``/smsgo/api/schema/`` with HTTP basic authentication. The
exit status is schemathesis' own: non-zero on any failed check. The whole run
is bounded (``--max-examples`` per operation, and a hard timeout).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "fuzzer"
PASSWORD = "fuzzer-password-not-secret"
HARD_TIMEOUT = 170  # seconds by default: the run must fit in CI's three minutes
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "ignored_auth",
    ]
)


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30, help="cases per operation")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis random seed")
    parser.add_argument(
        "--timeout", type=int, default=HARD_TIMEOUT, help="seconds before the run is stopped"
    )
    return parser.parse_args(argv), extra


def start_gateway() -> Any:
    from django_smsgo.simulator.instance import Simulator
    from django_smsgo.simulator.records import Account, SimulatorConfig

    settings_module = __import__("tests.settings", fromlist=["SMSGO"])
    account = Account(settings_module.SMSGO["USERNAME"], settings_module.SMSGO["PASSWORD"], 10**9)
    config = SimulatorConfig(delivery_delay=0.0, callback_retry_delay=0.0, callback_timeout=5.0)
    return Simulator([account], config).start()


def prepare_django(database: Path, gateway_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.api.fuzz_settings"
    os.environ["SMSGO_FUZZ_DATABASE"] = str(database)
    os.environ["SMSGO_FUZZ_GATEWAY"] = gateway_url
    import django

    django.setup()
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command

    import tests.celery_app  # noqa: F401 (the project's Celery app, eager here)

    call_command("migrate", verbosity=0, interactive=False)
    user = User.objects.create_user(USERNAME, password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_smsgo"))


def start_server() -> tuple[Any, str]:
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    return server, f"http://127.0.0.1:{port}"


def run_schemathesis(origin: str, options: argparse.Namespace, extra: list[str]) -> int:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    command = [
        st,
        "run",
        f"{origin}/smsgo/api/schema/?format=json",
        "--url",
        origin,
        "--auth",
        f"{USERNAME}:{PASSWORD}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(options.max_examples),
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
        *(["--seed", str(options.seed)] if options.seed is not None else []),
        *extra,
    ]
    print("$", " ".join(command), flush=True)
    try:
        return subprocess.run(command, timeout=options.timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        print(f"schemathesis did not finish within {options.timeout} s", file=sys.stderr)
        return 2


def main(argv: list[str]) -> int:
    options, extra = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory(prefix="smsgo-fuzz-") as workdir:
        gateway = start_gateway()
        server = None
        try:
            prepare_django(Path(workdir) / "fuzz.sqlite3", gateway.base_url)
            server, origin = start_server()
            return run_schemathesis(origin, options, extra)
        finally:
            if server is not None:
                server.shutdown()
            gateway.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
