"""Links in a text, however they are written, and the project's registered list.

Since the NCC's anti-fraud measure of 2024-11-18, a business SMS whose links
(short links above all) were not registered with the carrier in advance is
dropped. :func:`find_links` finds every link a phone would show as one, in
the text as :mod:`.normalise` reads it: with or without a scheme
(``https://…``, ``www.…``, a bare ``bit.ly/x``), behind ``hxxp``, ``[.]``,
``(dot)``, full-width letters or spaces around a dot. :func:`check_links`
refuses the first one that ``REGISTERED_LINKS`` does not cover.

What is not found, on purpose: e-mail addresses (``name@example.com``), host
names written in Chinese characters, and a bare name whose ending is not a
top-level domain (``report.pdf``). A bare name with a mixed-case ending
(``Mr.Li``) is taken for a word, not a host; written all in capitals or
small letters (``SHOP.TW``, ``shop.tw``) it is a host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import phonenumbers

from django_smsgo.conf import DEFAULT_SHORT_LINK_HOSTS
from django_smsgo.services.carrier_rules.errors import UnregisteredLinkError
from django_smsgo.services.carrier_rules.normalise import NormalisedText, normalise

# Top-level domains a bare name may end with: every country code (the phone
# number library's regions are the ISO 3166 codes; "uk" and "eu" are not
# among them) and the generic ones seen in SMS.
_GENERIC_TLDS = [
    "com",
    "net",
    "org",
    "info",
    "biz",
    "edu",
    "gov",
    "mil",
    "int",
    "name",
    "pro",
    "mobi",
    "asia",
    "tel",
    "travel",
    "app",
    "dev",
    "io",
    "ai",
    "co",
    "me",
    "tv",
    "cc",
    "ly",
    "to",
    "gl",
    "gd",
    "gg",
    "la",
    "ws",
    "xyz",
    "top",
    "site",
    "online",
    "shop",
    "store",
    "club",
    "link",
    "click",
    "live",
    "news",
    "blog",
    "cloud",
    "tech",
    "page",
    "space",
    "website",
    "fun",
    "art",
    "vip",
    "life",
    "world",
    "today",
    "email",
    "help",
    "money",
    "win",
    "bid",
    "uk",
    "eu",
]
TOP_LEVEL_DOMAINS = frozenset(
    {code.lower() for code in phonenumbers.SUPPORTED_REGIONS if code.isalpha()} | set(_GENERIC_TLDS)
)

# Where a link ends: whitespace, a quote or bracket, or a character of
# another script (a Chinese sentence that goes on right after the link).
_LINK_BODY = r"[^\s<>\"'`\[\]{}|^\u0080-\U0010ffff]*"
# Case-blind only where it must be: IGNORECASE on the whole pattern would also
# fold the non-ASCII range of _LINK_BODY onto ASCII letters (U+017F onto "s").
_WITH_SCHEME = re.compile(r"(?<![A-Za-z0-9])(?i:https?|ftp)://" + _LINK_BODY)
_WWW = re.compile(r"(?<![A-Za-z0-9.@\-_/])(?i:www)\." + _LINK_BODY)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_BARE = re.compile(
    r"(?<![A-Za-z0-9.@\-_/:])"
    rf"((?:{_LABEL}\.)+([A-Za-z]{{2,24}}))"
    r"(?![A-Za-z0-9\-@])"
    r"((?::\d{1,5})?(?:[/?#]" + _LINK_BODY + r")?)"
)
_BARE_IP = re.compile(
    r"(?<![A-Za-z0-9.@\-_/:])(\d{1,3}(?:\.\d{1,3}){3})(?=[:/])((?::\d{1,5})?" + _LINK_BODY + ")"
)
# Punctuation that ends a sentence rather than the link it follows.
_TRAILING = ".,;:!?)'\"…"


@dataclass(frozen=True)
class FoundLink:
    """One link of a text.

    ``link`` is the link as the checker reads it (``bit.ly/x``,
    ``https://shop.example.com/a``); ``host`` its lower-case host without port;
    ``path`` what follows the host (path, query); ``written`` the same stretch
    of the text as the sender wrote it, at ``start:end``.
    """

    link: str
    host: str
    path: str
    written: str
    start: int
    end: int
    #: Every host a browser or a naive parser could take the link to, when they differ.
    hosts: tuple[str, ...] = ()


def find_links(text: str) -> list[FoundLink]:
    """Every link in ``text``, in order, each once (see the module's notes for the forms)."""
    normalised = normalise(text)
    found: list[FoundLink] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_WITH_SCHEME, _WWW, _BARE_IP, _BARE):
        for match in pattern.finditer(normalised.text):
            start, end = match.start(), _trim(normalised.text, match.start(), match.end())
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            if pattern is _BARE and not _is_bare_host(match):
                continue
            link = _found(normalised, start, end)
            if link is not None:
                found.append(link)
                taken.append((start, end))
    found.sort(key=lambda link: link.start)
    return found


def link_spans(text: str) -> list[tuple[int, int]]:
    """Where the links of ``text`` stand (spans of the text as written)."""
    return [(link.start, link.end) for link in find_links(text)]


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING:
        if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
            break  # a bracket that belongs to the link, as in a wiki path
        end -= 1
    return end


def _is_bare_host(match: re.Match[str]) -> bool:
    tld = match.group(2)
    if tld.lower() not in TOP_LEVEL_DOMAINS:
        return False
    # "Mr.Li": a capitalised word after a dot, not a host; with a path it is one anyway.
    return bool(match.group(3)) or tld.islower() or tld.isupper()


def _found(normalised: NormalisedText, start: int, end: int) -> FoundLink | None:
    link = normalised.text[start:end]
    hosts = _hosts(link)
    if not hosts:
        return None
    first, last = normalised.written_span(start, end)
    host = hosts[0]
    path = _path_after_host(link)
    return FoundLink(
        link=link,
        host=host,
        path=path,
        written=normalised.written[first:last],
        start=first,
        end=last,
        hosts=tuple(hosts),
    )


def _with_scheme(link: str) -> str:
    return link if "://" in link else "http://" + link


def _hosts(link: str) -> list[str]:
    """The hosts the link may lead to: as a browser reads it and as a plain URL parser does.

    They differ for tricks such as ``https://good.example\\@bad.example``
    (a browser reads ``\\`` as ``/``; a parser takes ``bad.example`` after
    the ``@``); the link counts as registered only when every one is.
    """
    url = _with_scheme(link)
    hosts: list[str] = []
    for candidate in (url.replace("\\", "/"), url):
        try:
            host = urlsplit(candidate).hostname
        except ValueError:
            host = None
        if host:
            host = unquote(host).rstrip(".").lower()
            if host and host not in hosts:
                hosts.append(host)
    return hosts


def _path_after_host(link: str) -> str:
    parts = urlsplit(_with_scheme(link).replace("\\", "/"))
    rest = parts.path
    if parts.query:
        rest += "?" + parts.query
    return rest


# --------------------------------------------------------------------------- the registered list


@dataclass(frozen=True)
class RegisteredLink:
    """One entry of ``REGISTERED_LINKS``.

    ``shop.example.com``: that host, any path. ``*.example.com``: the host and
    every host under it. ``shop.example.com/promo``: that host, paths starting
    with ``/promo``. A scheme in the entry is ignored.
    """

    host: str
    path_prefix: str = ""
    subdomains: bool = False

    @classmethod
    def parse(cls, entry: str) -> RegisteredLink:
        """Read one entry; raise ``ValueError`` naming it when it has no host."""
        text = entry.strip()
        text = re.sub(r"^[A-Za-z][A-Za-z0-9+.\-]*://", "", text)
        subdomains = text.startswith("*.")
        if subdomains:
            text = text[2:]
        host, slash, path = text.partition("/")
        host = host.rstrip(".").lower()
        if not host or not re.fullmatch(r"[a-z0-9.\-]+(?::\d+)?", host):
            raise ValueError(
                f"REGISTERED_LINKS entry {entry!r} is not a host, '*.host' or 'host/path'."
            )
        host = host.split(":", 1)[0]
        return cls(host=host, path_prefix=(slash + path) if slash else "", subdomains=subdomains)

    def covers_host(self, host: str) -> bool:
        """True when ``host`` is this entry's host (or under it, for ``*.`` entries)."""
        return host == self.host or (self.subdomains and host.endswith("." + self.host))

    def covers(self, link: FoundLink) -> bool:
        """True when ``link`` (every host it may lead to) is covered by this entry."""
        hosts = link.hosts or (link.host,)
        if not all(self.covers_host(host) for host in hosts):
            return False
        return not self.path_prefix or (link.path or "/").startswith(self.path_prefix)


def parse_registered_links(entries: Iterable[str]) -> tuple[RegisteredLink, ...]:
    """``REGISTERED_LINKS`` read into entries; ``ValueError`` names the first bad one."""
    return tuple(RegisteredLink.parse(entry) for entry in entries)


def is_short_link(link: FoundLink, short_hosts: Iterable[str]) -> bool:
    """True when ``link`` goes to one of ``short_hosts`` (or a host under one)."""
    hosts = link.hosts or (link.host,)
    wanted = [h.strip().lower() for h in short_hosts if h.strip()]
    return any(host == s or host.endswith("." + s) for host in hosts for s in wanted)


def check_links(
    text: str,
    *,
    registered: Sequence[str] | None,
    short_hosts: Iterable[str] = DEFAULT_SHORT_LINK_HOSTS,
    extra: Iterable[str] = (),
) -> list[FoundLink]:
    """Refuse the first link of ``text`` (or of ``extra``, e.g. a WAP push URL) not registered.

    ``registered=None`` means links are not checked (the rule is off) and
    nothing is refused. Otherwise every link must be covered by an entry of
    ``registered``; a link to one of ``short_hosts`` is named as a short link.
    Returns the links found; raises :class:`UnregisteredLinkError`.
    """
    links = find_links(text)
    for value in extra:
        if value:
            links.extend(find_links(value) or [_as_link(value)])
    if registered is None:
        return links
    entries = parse_registered_links(registered)
    for link in links:
        if not any(entry.covers(link) for entry in entries):
            raise UnregisteredLinkError(
                link.link, written=link.written, short=is_short_link(link, short_hosts)
            )
    return links


def _as_link(value: str) -> FoundLink:
    """A URL given on its own (a WAP push URL) that the text finder did not read as a link."""
    hosts = _hosts(value.strip())
    return FoundLink(
        link=value.strip(),
        host=hosts[0] if hosts else "",
        path=_path_after_host(value.strip()),
        written=value,
        start=0,
        end=len(value),
        hosts=tuple(hosts) or ("",),
    )
