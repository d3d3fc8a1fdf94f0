"""CPU per send request of the client's transport, against a bare ``http.client`` loop.

Starts the bundled simulator (``python -m django_smsgo.simulator``) in its own
process, so that only the client's CPU is measured (``time.process_time()``
of this single-threaded process), then sends N ``sendsms.aspx`` requests over
one keep-alive connection in each way, several rounds in turn, and keeps each
way's best round:

* ``http.client``: a bare ``HTTPConnection`` loop, the same query, the body read
  and nothing parsed: the baseline;
* ``transport``: the client's transport alone (connect/reuse check, write,
  read; no answer parsing);
* ``send_prepared``: ``SmsgoClient.send_prepared()`` on a request validated
  beforehand: transport, answer parsing and the result;
* ``requests``: a ``requests.Session`` loop, for reference, when installed.

Usage::

    .venv/bin/python benchmarks/bench_client.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django_smsgo.client import SmsgoClient

ACCOUNT = ("bench", "bench-password")
REPO = Path(__file__).resolve().parent.parent


def start_simulator(points: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_smsgo.simulator",
            "--port",
            "0",
            "--delivery-delay",
            "3600",
            "--account",
            f"{ACCOUNT[0]}:{ACCOUNT[1]}:{points}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None
    match = re.search(r"(http://\S+/sms_gw/)", process.stdout.readline())
    if not match:
        process.kill()
        raise SystemExit("the simulator did not start")
    return process, match.group(1)


def params(index: int) -> dict[str, str]:
    return {
        "dstaddr": f"09{index % 100_000_000:08d}",
        "encoding": "ASCII",
        "smbody": "benchmark",
    }


def bare_loop(base_url: str, count: int) -> Callable[[], None]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)

    def run() -> None:
        for index in range(count):
            query = urlencode({"username": ACCOUNT[0], "password": ACCOUNT[1], **params(index)})
            connection.request("GET", f"{parts.path}sendsms.aspx?{query}")
            answer = connection.getresponse().read()
            assert b"statuscode=0" in answer, answer

    return run


def transport_loop(client: SmsgoClient, count: int) -> Callable[[], None]:
    transport = client._transport

    def run() -> None:
        for index in range(count):
            answer = transport.request(client.api_url, "sendsms.aspx", params(index))
            assert b"statuscode=0" in getattr(answer, "body", b""), answer

    return run


def send_prepared_loop(client: SmsgoClient, count: int) -> Callable[[], None]:
    prepared = [
        client.validate_send(params(index)["dstaddr"], "benchmark") for index in range(count)
    ]

    def run() -> None:
        for one in prepared:
            client.send_prepared(one)

    return run


def requests_loop(base_url: str, count: int) -> Callable[[], None] | None:
    try:
        import requests
    except ImportError:
        return None
    session = requests.Session()

    def run() -> None:
        for index in range(count):
            query = {"username": ACCOUNT[0], "password": ACCOUNT[1], **params(index)}
            answer = session.get(base_url + "sendsms.aspx", params=query, timeout=30)
            assert b"statuscode=0" in answer.content

    return run


def cpu_seconds(run: Callable[[], None]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    count = options.requests
    process, base_url = start_simulator(points=count * options.rounds * 10 + 1000)
    client = SmsgoClient(*ACCOUNT, api_url=base_url, backup_api_url=None)
    try:
        ways: dict[str, Callable[[], None]] = {
            "http.client": bare_loop(base_url, count),
            "transport": transport_loop(client, count),
            "send_prepared": send_prepared_loop(client, count),
        }
        reference = requests_loop(base_url, count)
        if reference is not None:
            ways["requests"] = reference
        for run in ways.values():  # warm-up: connections open, caches filled
            run()
        best = {name: float("inf") for name in ways}
        for _ in range(options.rounds):
            for name, run in ways.items():
                best[name] = min(best[name], cpu_seconds(run))
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)
    baseline = best["http.client"] / count
    print(f"CPU per send request, best of {options.rounds} rounds of {count} (client process):")
    for name, seconds in best.items():
        per_request = seconds / count
        print(
            f"  {name:<14} {per_request * 1e3:7.3f} ms   "
            f"{per_request / baseline:5.2f} x bare http.client"
        )


if __name__ == "__main__":
    main()
