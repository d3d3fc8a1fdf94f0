"""How many send requests a second the bundled simulator answers (latency off).

Starts ``python -m django_smsgo.simulator`` in its own process, then sends with
several client processes, each over one keep-alive connection, and prints
requests/s and the connections the simulator counted. Usage::

    .venv/bin/python benchmarks/simulator_throughput.py [--requests 6000] [--clients 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import re
import subprocess
import sys
import time
from urllib.parse import urlencode, urlsplit

ACCOUNT = ("bench", "bench-password")


def client(base_url: str, count: int, offset: int) -> int:
    """Send ``count`` SMS over one connection; returns how many were accepted."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    accepted = 0
    for i in range(count):
        query = urlencode(
            {
                "username": ACCOUNT[0],
                "password": ACCOUNT[1],
                "dstaddr": f"09{(offset + i) % 100_000_000:08d}",
                "smbody": f"benchmark {offset + i}",
                "encoding": "ASCII",
            }
        )
        connection.request("GET", f"{parts.path}sendsms.aspx?{query}")
        answer = connection.getresponse().read()
        accepted += b"statuscode=0\n" in answer
    connection.close()
    return accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=4)
    options = parser.parse_args()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_smsgo.simulator",
            "--port",
            "0",
            "--delivery-delay",
            "0",
            "--account",
            f"{ACCOUNT[0]}:{ACCOUNT[1]}:{options.requests * 10}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        match = re.search(r"(http://\S+/sms_gw/)", server.stdout.readline())
        assert match, "the simulator did not start"
        base_url = match.group(1)
        client(base_url, 50, 0)  # warm-up
        per_client = options.requests // options.clients
        jobs = [(base_url, per_client, 1000 + n * per_client) for n in range(options.clients)]
        with multiprocessing.Pool(options.clients) as pool:
            started = time.perf_counter()
            accepted = sum(pool.starmap(client, jobs))
            elapsed = time.perf_counter() - started
        parts = urlsplit(base_url)
        connection = http.client.HTTPConnection(parts.netloc, timeout=30)
        connection.request("GET", "/_admin/state")
        state = json.loads(connection.getresponse().read())
        total = per_client * options.clients
        print(f"send requests:       {total} ({accepted} accepted)")
        print(f"client connections:  {options.clients}")
        print(f"connections opened:  {state['connections_opened']} (incl. warm-up and this query)")
        print(f"elapsed:             {elapsed:.2f} s")
        print(f"requests/s:          {total / elapsed:.0f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
