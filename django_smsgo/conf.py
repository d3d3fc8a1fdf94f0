"""The app's settings: one ``SMSGO`` dict in the project's settings, defaults here.

``from django_smsgo.conf import smsgo_settings`` and read attributes
(``smsgo_settings.USERNAME``). Values are read from ``settings.SMSGO`` on first
access and cached; the cache is dropped when a test changes ``SMSGO`` with
``override_settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from django_smsgo.client.gateway_client import PRIMARY_API_URL

#: Short-link services: named as such when a link to one is refused (``SHORT_LINK_HOSTS``).
DEFAULT_SHORT_LINK_HOSTS = (
    "0rz.tw",
    "bit.ly",
    "buff.ly",
    "cutt.ly",
    "g.co",
    "goo.gl",
    "is.gd",
    "lihi.cc",
    "lihi1.cc",
    "lihi2.cc",
    "lihi3.cc",
    "lnkd.in",
    "ow.ly",
    "pse.is",
    "ppt.cc",
    "rb.gy",
    "rebrand.ly",
    "reurl.cc",
    "s.id",
    "shorturl.at",
    "t.co",
    "t.ly",
    "tiny.cc",
    "tinyurl.com",
    "v.gd",
    "x.co",
)

DEFAULTS: dict[str, Any] = {
    # Account credentials. The password travels in the query string of every
    # request (the gateway only speaks GET) and is kept out of every log line.
    "USERNAME": "",
    "PASSWORD": "",
    # The gateway. BACKUP_API_URL is used only when the primary surely did not
    # take the request (connect failure, or the explicit -10 "send fail"). None:
    # no failover. The vendor's backup host speaks only plain HTTP, so it is
    # not the default: the password would travel in clear text on failover.
    "API_URL": PRIMARY_API_URL,
    "BACKUP_API_URL": None,
    # Plain http:// gateway URLs off this machine are refused unless this is
    # True (the password travels in the query string of every request).
    "ALLOW_PLAIN_HTTP": False,
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 30.0,
    # Where SMS go: the real gateway, the console or an in-memory outbox.
    "BACKEND": "django_smsgo.backends.gateway.GatewayBackend",
    # Public origin the gateway can reach (e.g. "https://example.com"); None
    # means no Phase-Two reports and no replies: statuses come from polling.
    "CALLBACK_BASE_URL": None,
    # Secret from which callback URLs are signed; previous secrets stay valid
    # while a rotation is under way.
    "CALLBACK_TOKEN": "",
    "CALLBACK_PREVIOUS_TOKENS": [],
    "CALLBACK_ALLOWED_IPS": None,
    "CALLBACK_TRUSTED_PROXY_HEADER": None,
    # Sending.
    "DEFAULT_ENCODING": None,  # None: choose ASCII, BIG5 or UCS2 from the text
    "DUPLICATE_WINDOW": 600,  # seconds; 0 disables the duplicate guard
    "OVERRIDE_RECIPIENTS": None,  # staging: send everything to these numbers
    "REPLY_DAYS": 3,
    # Taiwan's carrier rules and the duties of marketing SMS (docs/taiwan.rst).
    # Each rule is off until the project sets it; the rules change, so each
    # names its source and date.
    # 簡訊實名制: carriers block business SMS that do not name the sender, since
    # 2025-11-01 (vendor notices). None: off; "require": refuse a text without
    # SENDER_TAG; "prefix": put SENDER_TAG in front of a text without it.
    "SENDER_TAG": "",  # e.g. "【好物商店】", as registered with the carriers
    "SENDER_TAG_MODE": None,
    "SENDER_TAG_KINDS": ["transactional", "marketing"],
    # NCC anti-fraud measure of 2024-11-18 (press reports): links and phone
    # numbers in business SMS must be registered with the carrier in advance.
    # None: not checked; a list: every link must be covered (hosts,
    # "*.host", "host/path" prefixes), every number listed.
    "REGISTERED_LINKS": None,
    "REGISTERED_NUMBERS": None,
    "SHORT_LINK_HOSTS": list(DEFAULT_SHORT_LINK_HOSTS),  # named as such in refusals
    "LINK_CHECK_KINDS": ["transactional", "marketing"],
    # Marketing SMS are not delivered in these ranges of Asia/Taipei time (a
    # shop's practice, not a law): e.g. [("21:00", "09:00")]. A send inside is
    # held to the window's end through the gateway's dlvtime; a send_at
    # inside is moved there ("move") or refused ("refuse").
    "QUIET_HOURS": None,
    "QUIET_HOURS_SCHEDULED": "move",
    # Personal Data Protection Act art. 20: marketing offers a free way to
    # refuse further marketing and stops at once on refusal. The footer is
    # appended to marketing texts as written (e.g. " 退訂回覆STOP").
    "OPT_OUT_FOOTER": "",
    # A reply that is exactly one of these words (case, width, spaces,
    # punctuation and emoji aside) opts out of, or back into, marketing SMS.
    "OPT_OUT_KEYWORDS": ["STOP", "STOPALL", "UNSUBSCRIBE", "退訂", "取消", "取消訂閱", "拒收"],
    "OPT_IN_KEYWORDS": ["START", "UNSTOP", "SUBSCRIBE", "訂閱", "恢復訂閱"],
    # Points per kind and Taipei day/month, e.g. {"marketing": {"day": 5000,
    # "month": 80000}}; None: no caps. A warning signal at this share of a cap.
    "POINTS_BUDGET": None,
    "POINTS_BUDGET_WARNING": 0.8,
    # Dispatch: "celery" (workers), "inline" (this process, no broker) or
    # "auto" (Celery when it is installed, else inline).
    "DISPATCH": "auto",
    "CLAIM_LEASE": 300,  # seconds a worker may hold a claimed batch
    "DISPATCH_TASKS": 1,  # tasks sharing the batches of one large message
    # Requests one dispatch run keeps in flight, each on its own connection.
    "DISPATCH_CONNECTIONS": 2,
    "SEND_RETRY_MAX": 5,
    "SEND_RETRY_BACKOFF": 10,  # seconds, doubled on each retry
    "QUEUE": None,  # Celery queue for normal messages (None: the default)
    "PRIORITY_QUEUES": {"high": None, "normal": None, "low": None},
    "ENQUEUE_SWEEP_AGE": 120,  # seconds a message may stay queued before re-enqueue
    # Polling.
    "POLL_MIN_AGE": 60,
    "POLL_BATCH_SIZE": 50,
    "POLL_MAX_AGE": 3 * 24 * 3600,
    # Writes of answers one polling run keeps going at once on PostgreSQL,
    # each on a database connection of its own (1: the caller's connection).
    "POLL_WRITERS": 2,
    # Balance.
    "LOW_BALANCE_THRESHOLD": 100,
    # The periodic jobs (manage.py smsgo_jobs; smsgo_doctor expects a run of
    # each within twice its interval, whoever runs it: smsgo_jobs or beat).
    "SWEEP_INTERVAL": 60,  # seconds: the sweeper, and due retries in inline mode
    "POLL_INTERVAL": 300,  # seconds: status polling
    "BALANCE_INTERVAL": 1800,  # seconds: the balance refresh
    # REST API (django_smsgo.api). Who sees which messages: a dotted path to a
    # callable (request) -> QuerySet[Message]; None: staff with view_message
    # see all, everyone else their own.
    "API_MESSAGE_QUERYSET": None,
    "API_SEND_THROTTLE_RATE": "60/min",  # per user on POST messages/; None: no limit
    "API_MAX_RECIPIENTS": 10_000,  # numbers per POST messages/ (estimate too)
    # One-time codes (send_otp / verify_otp, the django_smsgo.codes app).
    "OTP_LENGTH": 6,  # digits
    "OTP_VALIDITY": 300,  # seconds a code can be used (and the SMS may wait)
    "OTP_MAX_ATTEMPTS": 5,  # wrong guesses before the code is dead
    "OTP_COOLDOWN": 60,  # seconds between two codes to one number
    # Send caps: (sends, window in seconds) pairs per number, per caller key
    # (e.g. the client's IP address) and for the whole site.
    "OTP_NUMBER_CAPS": [(5, 3600), (10, 86400)],
    "OTP_KEY_CAPS": [(10, 3600), (30, 86400)],
    "OTP_GLOBAL_CAPS": [],
    # Points codes may spend per Taipei day / calendar month (None: no budget).
    "OTP_DAILY_BUDGET": None,
    "OTP_MONTHLY_BUDGET": None,
    # The text: a template with {sender}, {code}, {minutes}, {digits}; None is
    # the built-in one in the active language. SENDER_TAG wins over OTP_SENDER_TAG.
    "OTP_MESSAGE_TEMPLATE": None,
    "OTP_SENDER_TAG": "",
    "OTP_SHOW_NUMBER_DIGITS": 0,  # last digits of the number in the text (0: none)
    # A cache alias (Redis, Memcached) that refuses floods before the database.
    "OTP_CACHE": None,
}


class SmsgoSettings:
    """Attribute access over ``settings.SMSGO`` with :data:`DEFAULTS` underneath."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._cache is None:
            configured = getattr(settings, "SMSGO", {}) or {}
            unknown = set(configured) - set(DEFAULTS)
            if unknown:
                from django.core.exceptions import ImproperlyConfigured

                raise ImproperlyConfigured(
                    f"Unknown SMSGO setting(s): {', '.join(sorted(unknown))}. "
                    f"Known settings are: {', '.join(sorted(DEFAULTS))}."
                )
            self._cache = {**DEFAULTS, **configured}
        return self._cache

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown SMSGO setting {name!r}")
        return self.user_settings[name]

    def reload(self) -> None:
        self._cache = None


smsgo_settings = SmsgoSettings()


@receiver(setting_changed)
def _reload_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "SMSGO":
        smsgo_settings.reload()
