"""The doctor's checks of what talks to the gateway and back: settings, account, callbacks, HTTPS.

The account is checked with one balance query (nothing is sent); the
callback URL with a signed probe that must come back to this site's database.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from django.core.checks import ERROR, run_checks

from django_smsgo.conf import smsgo_settings
from django_smsgo.exceptions import (
    AuthorizationError,
    GatewayError,
    SmsgoConfigurationError,
    TransportError,
)
from django_smsgo.management.doctor.findings import Finding

GATEWAY_BACKEND = "django_smsgo.backends.gateway.GatewayBackend"


# --- configuration ----------------------------------------------------------------------------


def check_configuration(timeout: float) -> list[Finding]:
    """The app's system checks (errors fail, warnings warn) and whether a send could go out."""
    from django_smsgo.services.sending import check_ready

    try:
        check_ready()
    except SmsgoConfigurationError as exc:
        return [
            Finding(
                "settings",
                Finding.FAIL,
                f"every send is refused: {exc}",
                "Fix the setting named above (docs/settings.rst).",
            )
        ]
    messages = [m for m in run_checks() if (m.id or "").startswith("smsgo.")]
    errors = [m for m in messages if m.level >= ERROR]
    if errors:
        return [
            Finding(
                "settings",
                Finding.FAIL,
                "; ".join(f"{m.id}: {m.msg}" for m in errors),
                "; ".join(str(m.hint) for m in errors if m.hint) or "See docs/checks.rst.",
            )
        ]
    warned = sorted({str(m.id) for m in messages})
    if warned:
        return [
            Finding(
                "settings",
                Finding.PASS,
                f"a send can go out (system check warnings: {', '.join(warned)}; "
                "manage.py check shows them)",
            )
        ]
    return [Finding("settings", Finding.PASS, "a send can go out; no system check complains")]


# --- account ----------------------------------------------------------------------------------


def check_account(timeout: float) -> list[Finding]:
    """One balance query: the credentials, the IP lock and the points (nothing is sent)."""
    from django_smsgo.services.balance import refresh_balance

    if smsgo_settings.BACKEND != GATEWAY_BACKEND:
        return [
            Finding(
                "account",
                Finding.WARN,
                f"BACKEND is {smsgo_settings.BACKEND}: no SMS reaches the gateway",
                "Fine for development and tests; remove SMSGO['BACKEND'] to send for real.",
            )
        ]
    try:
        snapshot = refresh_balance()
    except SmsgoConfigurationError as exc:
        return [Finding("account", Finding.FAIL, str(exc), "Fix the setting named above.")]
    except AuthorizationError as exc:
        return [
            Finding(
                "account",
                Finding.FAIL,
                f"the gateway refused the account {smsgo_settings.USERNAME!r}: {exc}",
                "Check SMSGO['USERNAME'] and SMSGO['PASSWORD'], and this server's IP address "
                "in the IP lock of the smsgo member area.",
            )
        ]
    except GatewayError as exc:
        return [Finding("account", Finding.FAIL, f"the gateway refused the balance query: {exc}")]
    except TransportError as exc:
        return [
            Finding(
                "account",
                Finding.FAIL,
                f"the gateway could not be asked: {exc}",
                f"Check SMSGO['API_URL'] ({smsgo_settings.API_URL}) and that this server "
                "reaches it.",
            )
        ]
    threshold = int(smsgo_settings.LOW_BALANCE_THRESHOLD or 0)
    summary = f"account {smsgo_settings.USERNAME!r} accepted; balance {snapshot.points:,} points"
    if snapshot.points < threshold:
        return [
            Finding(
                "account",
                Finding.WARN,
                f"{summary}, below LOW_BALANCE_THRESHOLD ({threshold})",
                "Top up the account in the smsgo member area.",
            )
        ]
    return [Finding("account", Finding.PASS, summary)]


# --- callbacks --------------------------------------------------------------------------------


def check_callbacks(timeout: float) -> list[Finding]:
    """A signed probe through ``CALLBACK_BASE_URL`` must land in this site's database."""
    from django_smsgo.services import callback_probe

    base = smsgo_settings.CALLBACK_BASE_URL
    if base is None:
        return [
            Finding(
                "callbacks",
                Finding.WARN,
                "CALLBACK_BASE_URL is not set: no delivery reports or replies arrive; statuses "
                "come from polling only",
                "Set it to the public origin of this site (e.g. 'https://example.com'), and keep "
                "the periodic poll job running.",
            )
        ]
    if not smsgo_settings.CALLBACK_TOKEN:
        return [Finding("callbacks", Finding.FAIL, "CALLBACK_TOKEN is empty", "Set it (E005).")]
    nonce = callback_probe.new_nonce()
    url = str(callback_probe.probe_url(nonce))
    shown = f"{str(base).rstrip('/')}{urlsplit(url).path.rsplit('/', 2)[0]}/…"
    try:
        status, body = _get(url, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return [
            Finding(
                "callbacks",
                Finding.FAIL,
                f"nothing answered at {base} ({type(exc).__name__}): the gateway's reports "
                "cannot arrive",
                f"Start the web server where CALLBACK_BASE_URL points ({base}), or set "
                "CALLBACK_BASE_URL to the address this site is served at.",
            )
        ]
    try:
        if callback_probe.arrived(nonce):
            return [
                Finding(
                    "callbacks",
                    Finding.PASS,
                    f"CALLBACK_BASE_URL {base} reaches this site (signed probe {shown} came back)",
                )
            ]
    finally:
        callback_probe.forget(nonce)
    return [_wrong_server(str(base), status, body)]


def _get(url: str, timeout: float) -> tuple[int, str]:
    """GET ``url`` without following redirects (the gateway does not); status and body."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.netloc, timeout=timeout)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return response.status, response.read(4096).decode("utf-8", "replace")
    finally:
        connection.close()


def _wrong_server(base: str, status: int, body: str) -> Finding:
    from django_smsgo.services.callback_probe import ANSWER

    if status == 200 and body.startswith(ANSWER.split("{")[0]):
        seen = "a django-smsgo site with another database answered"
    elif status in (301, 302, 303, 307, 308):
        seen = f"the server answered a redirect (HTTP {status}); the gateway does not follow it"
    elif status == 404:
        seen = "the server answered 404: it is another site, or django_smsgo.urls is not included"
    else:
        seen = f"the server answered HTTP {status}, and the probe never reached this site"
    return Finding(
        "callbacks",
        Finding.FAIL,
        f"CALLBACK_BASE_URL {base} does not reach this site: {seen}; every delivery report "
        "would go there",
        "Point CALLBACK_BASE_URL at this site's own address and port (the one runserver or "
        "gunicorn listens on, or the proxy in front of it), with django_smsgo.urls included.",
    )


def check_https(timeout: float) -> list[Finding]:
    """Where the password and the callback tokens would travel in clear text."""
    from django_smsgo.backends.gateway import is_loopback, plain_http_urls

    found = []
    for name, url in plain_http_urls():
        local = is_loopback(url)
        found.append(
            Finding(
                "https",
                Finding.WARN if local or smsgo_settings.ALLOW_PLAIN_HTTP else Finding.FAIL,
                f"{name} {url} is plain HTTP: the password travels in clear text"
                + (" (on this machine only)" if local else ""),
                "Use https:// for the real gateway (the default API_URL is).",
            )
        )
    base = smsgo_settings.CALLBACK_BASE_URL
    if base is not None and urlsplit(str(base)).scheme != "https":
        found.append(
            Finding(
                "https",
                Finding.WARN,
                f"CALLBACK_BASE_URL {base} is plain HTTP: callback tokens and replies travel "
                "readable",
                "Serve the site over HTTPS in production (docs/security.rst).",
            )
        )
    if not found:
        found.append(Finding("https", Finding.PASS, "gateway and callbacks over HTTPS"))
    return found
