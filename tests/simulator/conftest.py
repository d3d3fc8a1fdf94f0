"""Fixtures for the simulator's own tests: the plugin's fixtures, a gateway caller, a vendor."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from django_smsgo.simulator import Account, Simulator
from django_smsgo.simulator.pytest_plugin import (  # noqa: F401 - fixtures
    smsgo_simulator,
    smsgo_simulator_config,
    smsgo_simulator_factory,
)

USERNAME = "vendor"
PASSWORD = "vendor-Pa55word"
POINTS = 1000


@pytest.fixture
def smsgo_simulator_accounts() -> list[Account]:
    return [Account(USERNAME, PASSWORD, POINTS)]


Call = Callable[..., requests.Response]


@pytest.fixture
def call(smsgo_simulator: Simulator) -> Iterator[Call]:  # noqa: F811 - the fixture
    """``call("sendsms.aspx", dstaddr=..., smbody=...)``: a GET with the account's credentials."""
    session = requests.Session()

    def do(endpoint: str, method: str = "GET", **params: Any) -> requests.Response:
        params = {"username": USERNAME, "password": PASSWORD, **params}
        params = {k: v for k, v in params.items() if v is not None}
        url = smsgo_simulator.base_url + endpoint
        if method == "POST":
            return session.post(url, data=params, timeout=10)
        return session.get(url, params=params, timeout=10)

    yield do
    session.close()


def plain(response: requests.Response) -> dict[str, str]:
    """A plain ``key=value`` answer as a dict (strict: every line must be key=value)."""
    lines = response.text.split("\n")
    assert lines[-1] == "", f"answer must end with \\n: {response.text!r}"
    return dict(line.split("=", 1) for line in lines[:-1])


@dataclass
class Vendor:
    """A tiny vendor web site that records the gateway's calls and answers as told."""

    server: ThreadingHTTPServer
    received: list[dict[str, str]] = field(default_factory=list)
    raw_paths: list[str] = field(default_factory=list)
    #: Builds the answer body from the query; the default is the correct acknowledgement.
    answer: Callable[[dict[str, str]], bytes] = lambda q: (
        f"magicid=tccrd_sms_gateway_rpack\nmsgid={q.get('msgid')}\n".encode()
    )
    status: int = 200
    content_type: str = "text/plain"
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def vendor() -> Iterator[Vendor]:
    holder: dict[str, Vendor] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site = holder["vendor"]
            query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            with site.lock:
                site.received.append(query)
                site.raw_paths.append(self.path)
            body = site.answer(query)
            self.send_response(site.status)
            self.send_header("Content-Type", site.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["vendor"] = Vendor(server)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield holder["vendor"]
    server.shutdown()
    server.server_close()
