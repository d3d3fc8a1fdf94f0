"""The command line of a real ``celery worker`` of the test project (tests and benchmarks)."""

from __future__ import annotations

import sys


def worker_command(
    name: str, *, concurrency: int = 1, loglevel: str = "WARNING", queue: str | None = None
) -> list[str]:
    """``celery -A tests.celery_app worker`` with a prefork pool and no cluster chatter."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.celery_app",
        "--quiet",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        loglevel,
    ]
    if queue is not None:
        command += ["--queues", queue]
    return command
