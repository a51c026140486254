"""What a probe may fetch: public http(s) addresses only, a page budget, a size limit and a deadline.

Everything a probe reads is hostile input. :func:`check_url` refuses other schemes and any address that
is not globally routable (loopback, private, link-local, CGNAT, multicast, reserved) unless
``[probe] allow_private_networks`` is set; the live client checks every request it sends, robots.txt
and each redirect included (:func:`guarded_session`). :class:`ProbeFetcher` spends the page budget,
refuses documents over the size limit and stops at the deadline. XML is read without entities, DTDs or
network (``sources.platforms.eventim_xml.parse_xml``); HTML by lxml, which loads nothing.

A name checked here is resolved again when the connection is made: a host whose DNS answer changes in
between (DNS rebinding) is not caught. Probe only what an operator asked for.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from aggregator.clock import Clock
from aggregator.config import ProbeSettings, Settings
from aggregator.public_addresses import is_public
from sources.base import Document, Fetcher, SourceError
from sources.http import FetchError, HttpClient, PageBudgetExceeded

Resolver = Callable[[str, int], Iterable[str]]
"""``(host, port) -> addresses``: how host names are resolved (tests pass their own)."""

_SOURCE = "probe"


class UnsafeUrl(SourceError):
    """A URL a probe must not fetch: another scheme, or a private or local address."""

    def __init__(self, url: str, reason: str) -> None:
        self.reason = reason
        super().__init__(_SOURCE, reason, url)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"//{host}", f"cannot resolve {host!r} ({exc})") from None
    return [str(info[4][0]) for info in infos]


def plain_url(text: str) -> str:
    """A URL as typed, trimmed, with ``webcal://`` (a calendar subscription) read as ``https://``."""
    url = text.strip()
    if url.lower().startswith("webcal://"):
        return "https://" + url[len("webcal://") :]
    return url


def check_url(
    url: str, *, allow_private: bool, resolve: Resolver | None, allowed_hosts: Collection[str] = ()
) -> None:
    """Raise :class:`UnsafeUrl` unless ``url`` is http(s) to public addresses only.

    ``resolve`` None checks literal addresses only (an offline replay resolves nothing);
    ``allowed_hosts`` (``name`` or ``name:port``) are let through although private.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeUrl(url, f"only http and https URLs are probed, not {parts.scheme or 'a relative URL'!r}")
    host = parts.hostname
    if not host:
        raise UnsafeUrl(url, "the URL names no host")
    allowed = {name.lower() for name in allowed_hosts}
    if allow_private or host.lower() in allowed or f"{host.lower()}:{parts.port}" in allowed:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith((".localhost", ".local", ".internal")):
            raise UnsafeUrl(url, f"{host} is a local name; set [probe] allow_private_networks") from None
        if resolve is None:
            return
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = list(resolve(host, port))
    for address in addresses:
        if not is_public(address):
            raise UnsafeUrl(
                url,
                f"{host} is {address}, not a public address; set [probe] allow_private_networks to probe it",
            )


def check_settings(url: str, settings: ProbeSettings, resolve: Resolver | None) -> None:
    """:func:`check_url` as ``[probe]`` sets it: private networks, allowed hosts."""
    check_url(
        url,
        allow_private=settings.allow_private_networks,
        resolve=resolve,
        allowed_hosts=settings.allowed_hosts,
    )


class _GuardedAdapter(HTTPAdapter):
    """Checks every request before it is sent (redirects and robots.txt included)."""

    def __init__(self, check: Callable[[str], None]) -> None:
        super().__init__()
        self._check = check

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._check(str(request.url))
        return super().send(request, *args, **kwargs)


def guarded_session(settings: ProbeSettings, resolve: Resolver = system_resolver) -> requests.Session:
    """A requests session that refuses unsafe URLs (see :func:`check_url`) on every request it sends."""
    session = requests.Session()
    adapter = _GuardedAdapter(lambda url: check_settings(url, settings, resolve))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.max_redirects = 5
    return session


class ProbeFetcher:
    """The :class:`~sources.base.Fetcher` of a probe: checked URLs, a budget, a size limit, a deadline.

    Each URL is fetched once; a second request for it gets the same document (or the same error).
    ``resolve`` None checks only literal addresses (for an offline replay).
    """

    def __init__(
        self,
        inner: Fetcher,
        settings: ProbeSettings,
        *,
        resolve: Resolver | None = system_resolver,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.settings = settings
        self.resolve = resolve
        self.clock = clock
        self.deadline = clock() + settings.max_seconds
        self.fetched: list[str] = []
        self._answers: dict[str, Document | SourceError] = {}
        inner.new_run()

    @property
    def pages_left(self) -> int:
        """Requests this probe may still make."""
        return max(self.settings.max_pages - len(self.fetched), 0)

    def new_run(self) -> None:
        """Nothing: the budget is the whole probe's, not one source run's."""

    def now(self) -> datetime:
        """The inner fetcher's now (a replay's recording day)."""
        return self.inner.now()

    def get(self, url: str) -> Document:
        """The document at ``url``; SourceError when it may not or could not be fetched."""
        answer = self._answers.get(url)
        if answer is None:
            answer = self._fetch(url)
            self._answers[url] = answer
        if isinstance(answer, SourceError):
            raise answer
        return answer

    def _fetch(self, url: str) -> Document | SourceError:
        try:
            check_settings(url, self.settings, self.resolve)
            if not self.pages_left:
                raise PageBudgetExceeded(url, self.settings.max_pages)
            if self.clock() > self.deadline:
                raise FetchError(url, f"the probe's {self.settings.max_seconds:.0f} s are up")
            self.fetched.append(url)
            document = self.inner.get(url)
        except SourceError as error:
            return error
        if len(document.body) > self.settings.max_bytes:
            return FetchError(
                url, f"{len(document.body)} bytes, over [probe] max_bytes={self.settings.max_bytes}"
            )
        return document


def guarded_client(settings: Settings, wall_clock: Clock, resolve: Resolver = system_resolver) -> HttpClient:
    """An HTTP client for URLs someone outside gave (a probe, a venue's feed): every request it sends is
    checked (:func:`guarded_session`), and ``[probe]``'s size and time limits apply, with one retry."""
    limits = settings.probe
    return HttpClient(
        replace(settings.http, timeout_seconds=limits.timeout_seconds, retries=1),
        wall_clock=wall_clock,
        session=guarded_session(limits, resolve),
        max_bytes=limits.max_bytes,
        max_seconds=limits.max_seconds,
    )
