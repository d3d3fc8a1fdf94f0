"""Command line: ``python -m django_smsgo.simulator`` and ``manage.py smsgo_simulator``.

Both share :func:`add_arguments` and :func:`run`, so their flags are the same.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from .faults import Fault
from .instance import Simulator
from .records import CANCEL_ERROR_MSGIDS, Account, SimulatorConfig


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


DEFAULT_PORT = 8765
#: Used when no account is given, so that ``python -m django_smsgo.simulator`` just works.
DEFAULT_ACCOUNT = Account("demo", "demo", 10_000)


def parse_account(text: str) -> Account:
    """``user:password:points`` as an :class:`Account` (the password may contain ``:``)."""
    username, _, rest = text.partition(":")
    password, _, points = rest.rpartition(":")
    if not username or not password or not points:
        raise argparse.ArgumentTypeError(
            f"account {username or text!r}: expected user:password:points"
        )
    if not points.isdigit():
        raise argparse.ArgumentTypeError(
            f"account {username!r}: points {points!r} must be a whole number >= 0"
        )
    return Account(username, password, int(points))


def load_accounts(path: Path) -> list[Account]:
    """Accounts from a JSON file.

    The file holds a list of objects with ``username``, ``password``, ``points``
    and, optionally, ``allowed_ips`` (a list) and ``closed`` (a boolean).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"accounts file {path}: {exc}") from None
    if not isinstance(data, list):
        raise SystemExit(f"accounts file {path}: expected a JSON list of accounts")
    accounts = []
    for index, item in enumerate(data):
        try:
            accounts.append(
                Account(
                    username=str(item["username"]),
                    password=str(item["password"]),
                    points=int(item.get("points", 0)),
                    allowed_ips=tuple(item.get("allowed_ips") or ()),
                    closed=bool(item.get("closed", False)),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SystemExit(f"accounts file {path}: entry {index} is invalid ({exc!r})") from None
    return accounts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulator's flags, on any argparse parser."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default 8765; 0: any free)"
    )
    parser.add_argument(
        "--account",
        action="append",
        type=parse_account,
        default=[],
        metavar="USER:PASSWORD:POINTS",
        help="an account and its balance; repeatable (default: demo:demo:10000)",
    )
    parser.add_argument("--accounts-file", type=Path, help="JSON list of accounts")
    parser.add_argument(
        "--delivery-delay",
        type=float,
        default=2.0,
        help="seconds from due to the final state (default 2; 0: at once)",
    )
    parser.add_argument(
        "--callback-retry-delay", type=float, default=1.0, help="seconds between Phase-Two attempts"
    )
    parser.add_argument(
        "--callback-timeout",
        type=float,
        default=5.0,
        help="seconds to wait for the vendor's answer",
    )
    parser.add_argument(
        "--no-dstaddr", action="store_true", help="leave dstaddr out of Phase-Two reports"
    )
    parser.add_argument(
        "--lenient-ack",
        action="store_true",
        help="accept an acknowledgement without its final newline or with CRLF",
    )
    parser.add_argument(
        "--strict-json",
        action="store_true",
        help="answer valid, compact JSON instead of the document's examples byte for byte "
        "(whose query JSON has a trailing comma)",
    )
    parser.add_argument(
        "--stray-spaces",
        action="store_true",
        help="answer plain text with the worked examples' stray spaces",
    )
    parser.add_argument(
        "--content-type",
        default="",
        metavar="TYPE",
        help="one Content-Type for every gateway answer (default: by format)",
    )
    parser.add_argument(
        "--rtype-case-sensitive",
        action="store_true",
        help="only rtype=JSON/XML in capitals choose a format (default: any case)",
    )
    parser.add_argument(
        "--scheduled-state",
        default="SCHEDULED",
        metavar="STATE",
        help="what a query answers before dlvtime (default SCHEDULED)",
    )
    parser.add_argument(
        "--enroute-state",
        default="ENROUTE",
        metavar="STATE",
        help="what a query answers before the final state (default ENROUTE)",
    )
    parser.add_argument(
        "--report-failure-statuscode",
        type=int,
        default=0,
        metavar="CODE",
        help="statuscode of Phase-Two reports other than DELIVRD (default 0)",
    )
    parser.add_argument(
        "--report-cancelled",
        action="store_true",
        help="report a cancelled send as DELETED to its response URL",
    )
    parser.add_argument(
        "--cancel-error-msgid",
        choices=CANCEL_ERROR_MSGIDS,
        default="echo",
        help="msgid of a refused cancel: the msgid asked (echo, default) or the code",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every gateway answer"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")


def build(options: dict[str, Any]) -> Simulator:
    """A simulator configured from parsed options (not started)."""
    accounts: list[Account] = list(options.get("account") or [])
    if options.get("accounts_file"):
        accounts += load_accounts(Path(options["accounts_file"]))
    try:
        config = _config(options)
    except ValueError as exc:  # a setting that cannot be used: say which, no traceback
        raise SystemExit(f"smsgo simulator: {exc}") from None
    simulator = Simulator(accounts or [DEFAULT_ACCOUNT], config, options["host"], options["port"])
    if options.get("latency"):
        simulator.state.faults.add(Fault("latency", seconds=options["latency"]))
    return simulator


def _config(options: dict[str, Any]) -> SimulatorConfig:
    return SimulatorConfig(
        delivery_delay=options["delivery_delay"],
        callback_retry_delay=options["callback_retry_delay"],
        callback_timeout=options["callback_timeout"],
        include_dstaddr=not options["no_dstaddr"],
        lenient_ack=options["lenient_ack"],
        strict_json=options["strict_json"],
        stray_spaces=options["stray_spaces"],
        content_type=options["content_type"],
        rtype_case_sensitive=options["rtype_case_sensitive"],
        scheduled_state=options["scheduled_state"],
        enroute_state=options["enroute_state"],
        report_failure_statuscode=options["report_failure_statuscode"],
        report_cancelled=options["report_cancelled"],
        cancel_error_msgid=options["cancel_error_msgid"],
    )


def run(options: dict[str, Any], out: Writer, stop: threading.Event | None = None) -> None:
    """Start the simulator and serve until interrupted (or ``stop`` is set)."""
    logging.basicConfig(level=logging.DEBUG if options.get("verbose") else logging.WARNING)
    simulator = build(options).start()
    names = ", ".join(
        f"{a.username} ({a.points} points)" for a in simulator.state.accounts.values()
    )
    out.write(f"smsgo simulator: {simulator.base_url}\n")
    out.write(f"admin API: {simulator.admin_url}state\naccounts: {names}\n")
    out.flush()
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m django_smsgo.simulator``."""
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m django_smsgo.simulator",
        description="A local smsgo gateway for development and tests.",
    )
    add_arguments(parser)
    run(vars(parser.parse_args(argv)), sys.stdout)
