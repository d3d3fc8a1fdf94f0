"""The transport's phases against real loopback servers: reuse checks, the pool, sends in flight."""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from django_smsgo.client import PendingSend, transport
from django_smsgo.client import connections as connections_module
from django_smsgo.client.connections import Connection
from django_smsgo.exceptions import (
    AnswerLostError,
    GatewayHTTPError,
    GatewayUnreachableError,
    SendFailedError,
    UncertainOutcomeError,
)
from tests.client.conftest import BASE, KeepAliveServer, base_url

SEND_OK = b"msgid=555\nstatuscode=0\nstatusstr=OK\npoint=1\n"
SEND_FAIL = b"msgid=-1\nstatuscode=-10\nstatusstr=Send Fail\npoint=0\n"
BALANCE = b"statuscode=0\npoint=7\n"


class ScriptedServer:
    """A raw HTTP server: reads each request head, then runs ``script(conn, index)``.

    ``script`` returns False to close the connection. Counts requests and connections.
    """

    def __init__(self, script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.release = threading.Event()
        self.closed = threading.Semaphore(0)  # released each time a connection is closed
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{BASE}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._converse(conn)
        finally:
            conn.close()
            self.closed.release()

    def _converse(self, conn: socket.socket) -> None:
        index = 0
        while True:
            data = b""
            while b"\r\n\r\n" not in data:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
            self.requests.append(data)
            try:
                if not self.script(self, conn, index):
                    return
            except OSError:
                return
            index += 1

    def close(self) -> None:
        self.release.set()
        self.sock.close()


def answer(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + extra
        + b"\r\n"
        + body
    )


@pytest.fixture
def scripted() -> Iterator:
    servers: list[ScriptedServer] = []

    def start(script) -> ScriptedServer:
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_a_connection_the_server_closed_while_idle_is_not_reused(scripted, make_client):
    def answer_then_close(server, conn, index):
        # Keep-alive promised (HTTP/1.1, no "Connection: close"), then closed:
        # the client must notice before it writes the next request.
        conn.sendall(answer(SEND_OK if b"sendsms.aspx" in server.requests[-1] else BALANCE))
        return False

    server = scripted(answer_then_close)
    client = make_client(server.url)
    assert client.balance() == 7
    assert server.closed.acquire(timeout=5)  # closed while idle, before the next request
    assert client.send("0912345678", "hi").msgid == "555"
    assert (len(server.requests), server.connections) == (2, 2)


def test_junk_received_while_idle_discards_the_connection(scripted, make_client):
    junk_sent = threading.Event()

    def answer_then_junk(server, conn, index):
        conn.sendall(answer(BALANCE))
        if index == 0:
            server.release.wait(0.2)  # later, while the connection is idle
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nunasked")
            junk_sent.set()
        return True

    server = scripted(answer_then_junk)
    client = make_client(server.url)
    assert client.balance() == 7
    assert junk_sent.wait(5)
    assert client.balance() == 7
    assert (len(server.requests), server.connections) == (2, 2)


def test_an_idle_connection_past_the_limit_is_retired(monkeypatch, make_client):
    server = KeepAliveServer(BALANCE)
    try:
        client = make_client(server.url)
        assert client.balance() == 7
        monkeypatch.setattr(connections_module, "IDLE_LIMIT", 0.0)
        assert client.balance() == 7
    finally:
        server.close()
    assert len(set(server.ports)) == 2


def test_a_reused_connection_that_takes_no_byte_is_replaced_and_the_request_sent_once(
    make_client,
):
    server = KeepAliveServer(BALANCE)
    ours, theirs = socket.socketpair()
    try:
        client = make_client(server.url)
        # An idle connection that looks fine (nothing to read) but takes no
        # write: the zero-byte write proves nothing left, so the request goes
        # on a fresh connection instead.
        ours.shutdown(socket.SHUT_WR)
        pool = client._transport.pool(client.api_url)
        stale = Connection(ours)
        stale.idle_since = connections_module.time.monotonic()
        pool._idle.append(stale)
        pool._open += 1
        assert client.balance() == 7
    finally:
        server.close()
        theirs.close()
    assert len(server.ports) == 1


def test_a_redirect_is_not_followed(primary, backup, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(
        b"", status=302, headers={"Location": base_url(backup) + "sendsms.aspx"}
    )
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    with pytest.raises(GatewayHTTPError) as caught:
        make_client(base_url(primary), base_url(backup)).send("0912345678", "hi")
    assert caught.value.status == 302
    assert backup.log == []


def test_a_chunked_answer_and_an_answer_until_close_are_read(scripted, make_client):
    def chunked(server, conn, index):
        body = SEND_OK
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % 10
            + body[:10]
            + b"\r\n"
            + b"%x\r\n" % (len(body) - 10)
            + body[10:]
            + b"\r\n0\r\n\r\n"
        )
        return True

    server = scripted(chunked)
    client = make_client(server.url)
    assert client.send("0912345678", "hi").msgid == "555"
    assert client.send("0912345678", "hi").msgid == "555"
    assert server.connections == 1

    def until_close(server, conn, index):
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + SEND_OK)
        return False

    server = scripted(until_close)
    assert make_client(server.url).send("0912345678", "hi").msgid == "555"


def test_an_oversized_answer_is_perhaps_sent(scripted, make_client):
    server = scripted(lambda s, conn, i: conn.sendall(answer(b"x" * (2 << 20))) or False)
    with pytest.raises(UncertainOutcomeError):
        make_client(server.url).send("0912345678", "hi")


def test_a_write_broken_half_way_is_perhaps_sent(make_client):
    # A request larger than the client's largest send buffer (4 MiB on Linux)
    # plus the server's small receive window, to a server that reads a little
    # and resets: bytes had left when the write broke.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def read_a_little_then_reset() -> None:
        conn, _ = listener.accept()
        conn.recv(1000)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    thread = threading.Thread(target=read_a_little_then_reset, daemon=True)
    thread.start()
    client = make_client(f"http://127.0.0.1:{listener.getsockname()[1]}{BASE}")
    pairs = [(str(10**14 + i), f"09{i:08d}") for i in range(200_000)]
    try:
        with pytest.raises(AnswerLostError) as caught:
            client.query_bulk(pairs, batch_size=len(pairs))
    finally:
        listener.close()
        thread.join(5)
    assert "while the request was written" in caught.value.detail


def test_several_sends_in_flight_on_separate_connections(make_client):
    server = KeepAliveServer(SEND_OK)
    try:
        client = make_client(server.url)
        prepared = [client.validate_send(f"09123456{i:02d}", "hi") for i in range(3)]
        pending = [client.start_send(one) for one in prepared]
        assert all(isinstance(one, PendingSend) for one in pending)
        assert len({one.fileno() for one in pending}) == 3
        selector = selectors.DefaultSelector()
        for one in pending:
            selector.register(one.fileno(), selectors.EVENT_READ, one)
        results = []
        while len(results) < 3:
            for key, _ in selector.select(timeout=5):
                selector.unregister(key.fd)
                results.append(key.data.result())
        selector.close()
        assert sorted(r.numbers[0] for r in results) == ["0912345600", "0912345601", "0912345602"]
        assert [one.result() for one in pending] == [one.result() for one in pending]
        assert all(one.fileno() == -1 for one in pending)
        # The three connections went back to the pool and are reused.
        assert client.send("0912345678", "again").msgid == "555"
    finally:
        server.close()
    assert len(server.ports) == 4
    assert len(set(server.ports)) == 3


def test_a_send_fail_read_by_result_goes_to_the_backup(primary, backup, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_OK)
    client = make_client(base_url(primary), base_url(backup))
    pending = client.start_send(client.validate_send("0912345678", "hi"))
    assert pending.api_url == base_url(primary)
    assert backup.log == []  # written, not read yet: nothing on the backup
    assert pending.result().api_url == base_url(backup)
    assert (len(primary.log), len(backup.log)) == (1, 1)


def test_start_send_goes_to_the_backup_when_the_primary_is_unreachable(
    refused_url, backup, make_client
):
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    client = make_client(refused_url, base_url(backup))
    pending = client.start_send(client.validate_send("0912345678", "hi"))
    assert pending.api_url == base_url(backup)
    # The backup said -10 too: both surely did not send; the primary's error is reported.
    with pytest.raises(GatewayUnreachableError):
        pending.result()


def test_start_send_raises_only_when_surely_not_sent(refused_url, make_client):
    client = make_client(refused_url, "http://gateway.invalid/sms_gw/")
    with pytest.raises(GatewayUnreachableError) as caught:
        client.start_send(client.validate_send("0912345678", "hi"))
    assert caught.value.api_url == refused_url


def test_start_send_wants_a_prepared_send(primary, make_client):
    with pytest.raises(TypeError, match="PreparedSend"):
        make_client(base_url(primary)).start_send("0912345678")  # type: ignore[arg-type]


def test_the_pool_bounds_connections_per_host(backup, make_client):
    server = KeepAliveServer(SEND_OK)
    try:
        client = make_client(server.url, base_url(backup), pool_size=2, connect_timeout=0.2)
        held = [client.start_send(client.validate_send("0912345678", "hi")) for _ in range(2)]
        with pytest.raises(GatewayUnreachableError, match="in use") as caught:
            client.start_send(client.validate_send("0912345678", "hi"))
        assert caught.value.may_have_reached_gateway is False
        assert backup.log == []  # our own pool was full: not a reason to use the backup
        assert [one.result().msgid for one in held] == ["555", "555"]
        assert client.send("0912345678", "hi").msgid == "555"
    finally:
        server.close()
    assert len(server.ports) == 3  # the refused third send never reached the server
    assert len(set(server.ports)) == 2


def test_threads_share_one_client(make_client):
    server = KeepAliveServer(BALANCE)
    client = make_client(server.url, pool_size=3)
    results: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(20):
            value = client.balance()
            with lock:
                results.append(value)

    threads = [threading.Thread(target=work) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        server.close()
    assert results == [7] * 120
    assert len(set(server.ports)) <= 3


def test_send_fail_then_backup_send_fail_through_result(primary, backup, make_client):
    primary.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    backup.expect_request(BASE + "sendsms.aspx").respond_with_data(SEND_FAIL)
    client = make_client(base_url(primary), base_url(backup))
    pending = client.start_send(client.validate_send("0912345678", "hi"))
    with pytest.raises(SendFailedError) as caught:
        pending.result()
    assert caught.value.api_url == base_url(primary)


def test_an_abandoned_send_is_perhaps_sent_and_frees_its_connection(make_client):
    server = KeepAliveServer(SEND_OK)
    try:
        client = make_client(server.url, pool_size=1, connect_timeout=0.2)
        pending = client.start_send(client.validate_send("0912345678", "hi"))
        pending.abandon()
        with pytest.raises(AnswerLostError) as caught:
            pending.result()
        assert caught.value.may_have_reached_gateway is True
        assert pending.fileno() == -1
        assert client.send("0912345678", "hi").msgid == "555"  # the slot came free
    finally:
        server.close()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0912345678,0922333444",
        "2612080911590000,2612080911590001",
        "hello world",
        "簡訊測試 ok",
        "a+b&c=d%e/f?g#h",
        "https://example.com/smsgo/callback/?x=1&y=2",
        "tilde~dot.dash-under_score",
        "2026/12/08 09:30:00",
        "\r\n\t",
    ],
)
def test_the_query_is_urlencode_byte_for_byte(value: str) -> None:
    params = {"username": "user name", "password": "p@ss,word", "field": value}
    assert transport._encoded_query(params) == urlencode(params)
