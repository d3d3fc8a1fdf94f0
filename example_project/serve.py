"""``make serve``: the example site running, until Ctrl-C.

Starts the gateway simulator, migrates ``example_project/db.sqlite3`` (or
``DATABASE_URL``), starts a Celery worker with beat and the development server,
creates (or resets) the staff user ``demo`` with a new password printed on
screen, and waits. Ctrl-C stops every process it started.

Ports: ``SERVE_PORT`` (default 8000) and ``SIMULATOR_PORT`` (default 8765);
a busy port is replaced by a free one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from stack import (
    HERE,
    Stack,
    StackError,
    free_port,
    port_is_free,
    project_environment,
    setup_django,
    sigterm_as_exit,
)

STAFF_USERNAME = "demo"


def pick_port(variable: str, default: int) -> int:
    port = int(os.environ.get(variable) or default)
    return port if port_is_free(port) else free_port()


def ensure_staff_user(password: str) -> None:
    """The superuser ``demo`` with ``password`` (created, or its password reset)."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=STAFF_USERNAME)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()


def run(workdir: Path) -> None:
    simulator_port = pick_port("SIMULATOR_PORT", 8765)
    web_port = pick_port("SERVE_PORT", 8000)
    simulator_api = f"http://127.0.0.1:{simulator_port}/sms_gw/"
    env = project_environment(
        workdir,
        api_url=simulator_api,
        backup_api_url=simulator_api,
        callback_base_url=f"http://127.0.0.1:{web_port}",
    )
    # The persistent database of the example project, not a temporary one.
    env["EXAMPLE_SQLITE_PATH"] = os.environ.get("EXAMPLE_SQLITE_PATH") or str(HERE / "db.sqlite3")
    env["EXAMPLE_BROKER_DIR"] = os.environ.get("EXAMPLE_BROKER_DIR") or str(HERE / ".broker")
    setup_django(env)
    from django.core.management import call_command

    password = secrets.token_urlsafe(9)
    with Stack(workdir, env) as stack:
        call_command("migrate", interactive=False, verbosity=0)
        ensure_staff_user(password)
        simulator_url = stack.start_simulator(simulator_port, delivery_delay=2.0)
        stack.start_worker(beat=True)
        origin = stack.start_web(web_port)
        print(
            f"""
The example site is running.

  site (phone verification)  {origin}/
  admin (SMS console)        {origin}/admin/
      login: {STAFF_USERNAME}   password: {password}
  REST API                   {origin}/api/sms/messages/   schema: {origin}/api/sms/schema/
  gateway simulator          {simulator_url}   admin API: {simulator_url[:-8]}/_admin/state

Numbers ending in 91-98 fail in different ways, 99 never becomes final
(docs/simulator.rst). Logs: {workdir / "logs"}. Ctrl-C stops everything.
""",
            flush=True,
        )
        while True:
            stack.check_alive()
            time.sleep(1)


def main() -> int:
    # Logs and beat's schedule file; the database and the queue stay in the project.
    workdir = Path(tempfile.mkdtemp(prefix="smsgo-serve-"))
    try:
        with sigterm_as_exit():
            run(workdir)
    except (KeyboardInterrupt, SystemExit):
        # Ctrl-C or SIGTERM: the way to stop it, not a failure.
        print("\nstopped: simulator, worker and web server", flush=True)
    except StackError as exc:
        print(f"\nserve failed: {exc}\nlogs kept in {workdir / 'logs'}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
