"""Which hosts and addresses Visnyk may fetch from, and in plain words why not.

Three rules, pure (no DNS, no I/O; `bot.news.network` applies the address rule when it connects):

- **Configured hosts** — the hosts of the configured feed URLs and `[ingest] page_hosts` (where
  `*.example.ua` is example.ua and any subdomain of it) — are the operator's word: they may be on
  any address, private ones included (an intranet feed, the tests' fake web on 127.0.0.1).
- **Any other host** may be fetched only on a public address: never loopback, private (with
  carrier-grade NAT 100.64/10), link-local (with the cloud metadata service 169.254.169.254),
  multicast, reserved, unspecified or documentation addresses, nor IPv4-mapped, NAT64, 6to4 or
  Teredo forms of those. That covers an editor's `/post` and every redirect of a feed.
- **Article pages for summaries** come only from *trusted* hosts: the configured ones, and the
  hosts the configured feeds were last served from after their redirects (learned at run time:
  real sites move http://site to https://www.site). A learned host widens where pages may come
  from, not which addresses are allowed: it stays subject to the public-address rule.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from bot.urls import checked

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


class Refusal(enum.Enum):
    """Why a URL was not fetched; `words` says it for a log line or an error message."""

    NOT_WEB = "not_web"  # not a valid http(s) URL (file:, javascript:, a port of 99999…)
    LOOPBACK = "loopback"  # this machine
    PRIVATE = "private"  # a private network: 10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10
    LINK_LOCAL = "link_local"  # 169.254/16 (cloud metadata) and fe80::/10
    NOT_PUBLIC = "not_public"  # multicast, reserved, unspecified, documentation addresses
    UNTRUSTED = "untrusted"  # an article page on a host no configured feed comes from

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    Refusal.NOT_WEB: "not an http(s) address",
    Refusal.LOOPBACK: "a loopback address (this machine)",
    Refusal.PRIVATE: "a private network address",
    Refusal.LINK_LOCAL: "a link-local address",
    Refusal.NOT_PUBLIC: "not a public address",
    Refusal.UNTRUSTED: "not a host the feeds come from",
}


class Refused(Exception):
    """A fetch not made, on purpose; `refusal` says why, the message says it in words."""

    def __init__(self, refusal: Refusal, url: str, address: str | None = None) -> None:
        where = f"{url} ({address})" if address else url
        super().__init__(f"refused: {where} is {refusal.words}")
        self.refusal, self.url, self.address = refusal, url, address


def _embedded(ip: Address) -> Address:
    """The IPv4 address inside an IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address
    return ip


def _kind(ip: Address) -> Refusal | None:
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    kinds = (
        (ip.is_loopback, Refusal.LOOPBACK),
        (ip.is_link_local, Refusal.LINK_LOCAL),
        (ip.is_unspecified or ip.is_multicast or ip.is_reserved, Refusal.NOT_PUBLIC),
        # 10/8, 172.16/12, 192.168/16, fc00::/7, and the documentation and benchmarking ranges,
        # which `ipaddress` counts as private too.
        (ip in _SHARED or ip in _LOCAL_NAT64 or site_local or ip.is_private, Refusal.PRIVATE),
        (not ip.is_global, Refusal.NOT_PUBLIC),
    )
    return next((refusal for hit, refusal in kinds if hit), None)


def address_refusal(address: str) -> Refusal | None:
    """None for a public address; otherwise what kind of address it is (also for non-addresses)."""
    try:
        ip: Address = ipaddress.ip_address(address)
    except ValueError:
        return Refusal.NOT_PUBLIC
    inner = _embedded(ip)
    if inner is ip or ip in _NAT64:  # NAT64 (IPv6-only networks): the IPv4 address decides
        return _kind(inner)
    return _kind(inner) or _kind(ip)  # IPv4-mapped addresses are refused whatever they hold


def host_of(url: str) -> str:
    """The URL's host as the HTTP client connects to it: lower case, IDNA, IPv6 unbracketed."""
    try:
        host = urlsplit(checked(url) or url).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".")


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Hosts:
    """The configured hosts, and the hosts the feeds were served from (learned as they come).

    Shared by the ingester (which learns) and the HTTP client's connections (which ask only
    `configured`); one per process."""

    def __init__(self, feed_urls: Iterable[str], page_hosts: Iterable[str] = ()) -> None:
        exact = {host_of(url) for url in feed_urls}
        suffixes = []
        for pattern in page_hosts:
            name = pattern.strip().lower().rstrip(".")
            if name.startswith("*."):
                exact.add(name[2:])
                suffixes.append(name[1:])  # ".example.ua"
            else:
                exact.add(name)
        exact.discard("")
        self._exact = frozenset(exact)
        self._suffixes = tuple(suffixes)
        self._learned: dict[str, str] = {}  # feed URL → the host it was last served from

    def configured(self, host: str) -> bool:
        """Whether the operator named this host (it may then be on any address)."""
        host = host.lower().rstrip(".").strip("[]")
        return host in self._exact or host.endswith(self._suffixes)

    def trusted(self, host: str) -> bool:
        """Whether article pages may be fetched from this host."""
        host = host.lower().rstrip(".").strip("[]")
        return self.configured(host) or host in self._learned.values()

    def learn(self, feed_url: str, served_from: str) -> None:
        """The feed at `feed_url` came from `served_from` (its URL after redirects)."""
        host = host_of(served_from)
        if host and not self.configured(host):
            self._learned[feed_url] = host
        else:
            self._learned.pop(feed_url, None)

    def open_refusal(self, url: str) -> Refusal | None:
        """Why `url` may not be fetched by a feed's redirect or an editor's /post, if it can be
        told without DNS (a name's addresses are checked when the connection is made)."""
        if checked(url) is None:
            return Refusal.NOT_WEB
        host = host_of(url)
        if self.configured(host) or not _literal(host):
            return None
        return address_refusal(host)

    def page_refusal(self, url: str) -> Refusal | None:
        """Why an article page at `url` (or a redirect on its way) may not be fetched for a
        summary: not on a trusted host, or not fetchable at all."""
        refusal = self.open_refusal(url)
        if refusal is None and not self.trusted(host_of(url)):
            return Refusal.UNTRUSTED
        return refusal
