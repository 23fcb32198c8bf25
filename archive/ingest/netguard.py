"""URL ingest never fetches from the server's own network: every hop is checked before it connects.

A link given to ``archive ingest`` (or planted in a page staff archive) may point at, redirect to
or embed a media URL on ``127.0.0.1``, a private address, a link-local address or the cloud
metadata service; without a check the server would fetch that internal service's answer and store
it as an item. :class:`NetGuard` refuses, at every hop (the link itself, each redirect, every URL
a page or a manifest names, every fragment), any host that resolves to an address that is not
public: loopback, private (RFC 1918, ULA), link-local, shared (CGNAT), multicast, reserved,
unspecified, and the same hidden inside IPv4-mapped, 6to4, Teredo or NAT64 IPv6 addresses. Names
are resolved by the guard and the connection is made to the very address it checked, so a name
that resolves differently a second time (DNS rebinding) cannot slip past. Spellings such as
``2130706433``, ``0x7f.1`` or ``[::ffff:127.0.0.1]`` resolve to what they mean and are judged as such.

Staff can allow a host explicitly (``ARCHIVE_INGEST_ALLOW_HOSTS`` or ``archive ingest
--allow-host``): ``host`` (any port) or ``host:port``, matched against the host name as written in
the URL. Every hop that reached a non-public address because of such an entry is recorded in
:attr:`NetGuard.allowed_internal`, and ingest writes it to the audit log.

yt-dlp is made to use only :func:`guarded_request_handler`: its urllib handler whose connections go
through the guard (no ``requests``, ``curl_cffi`` or websockets handler, no ``data:``, ``ftp:`` or
``file:`` URLs).

>>> guard = NetGuard(allow=("media.example.org",))
>>> guard.check_url("http://169.254.169.254/latest/meta-data/")
Traceback (most recent call last):
archive.ingest.netguard.BlockedAddressError: refused to fetch from 169.254.169.254, port 80: it is
the cloud metadata service, ...
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BlockedAddressError", "NetGuard", "address_problem", "guarded_request_handler"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not caught by ``is_global`` in every Python version, or worth their own words.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack ...
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddressError(OSError):
    """A hop to a non-public address. An OSError so that the HTTP stack treats it as a failed
    connection and never sends a byte; ingest turns it into a DownloadError."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why the archive may not fetch from ``ip`` ("a loopback address", …), or None if public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        inner = _embedded_ipv4(ip)
        if inner is not None:
            problem = address_problem(inner)
            return f"{problem} inside an IPv6 address" if problem else None
    if ip in _METADATA:
        return "the cloud metadata service"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def _host_key(host: str) -> str:
    """A host as written, made comparable: lower case, no brackets, no trailing dot."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def parse_allow_entry(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` → (host, port or None)."""
    text = entry.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""  # a bare IPv6 address, or a name without a port
    host = _host_key(host)
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"not a host: {entry!r}") from None
    elif not _HOST_RE.match(host):
        raise ValueError(f"not a host: {entry!r}")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"not a port in {entry!r}")
    return host, (int(port) if port else None)


_HOST_RE = re.compile(r"^[a-z0-9_]([a-z0-9_.-]{0,252})$")


@dataclass
class NetGuard:
    """Checks hosts before any connection is made; records what it refused and what it let by."""

    allow: Iterable[str] = ()
    refused: list[str] = field(default_factory=list)  # sentences, in the order met
    allowed_internal: list[str] = field(default_factory=list)  # "host:port" let by the allow-list
    _allowed: frozenset[tuple[str, int | None]] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._allowed = frozenset(parse_allow_entry(e) for e in self.allow if e.strip())

    def is_allowed(self, host: str, port: int) -> bool:
        key = _host_key(host)
        return (key, None) in self._allowed or (key, port) in self._allowed

    def resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """The addresses to connect to for ``host:port``; BlockedAddressError when any of them is
        not public (a name with one private address among public ones is refused too: which one
        a client picks is not ours to choose) and the host is not allowed."""
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except socket.gaierror:
            raise  # "could not find the host": not a refusal of ours
        if not infos:
            raise OSError(f"getaddrinfo returned no address for {host}")
        allowed = self.is_allowed(host, port)
        for info in infos:
            ip = ipaddress.ip_address(info[4][0])
            problem = address_problem(ip)
            if problem is None:
                continue
            if allowed:
                with self._lock:
                    if f"{host}:{port}" not in self.allowed_internal:
                        self.allowed_internal.append(f"{host}:{port}")
                continue
            shown = host if _host_key(host) == str(ip) else f"{host} ({ip})"
            message = (
                f"refused to fetch from {shown}, port {port}: it is {problem}, and the archive "
                "does not fetch from its own network (staff can allow a host with "
                "ARCHIVE_INGEST_ALLOW_HOSTS or --allow-host)"
            )
            with self._lock:
                self.refused.append(message)
            raise BlockedAddressError(message)
        return infos

    def check_url(self, url: str) -> None:
        """Check the host of one URL (http and https only) before it is requested."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            message = (
                f"refused to fetch {parts.scheme or 'a'}: link: only http and https are fetched"
            )
            with self._lock:
                self.refused.append(message)
            raise BlockedAddressError(message)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise BlockedAddressError(f"refused to fetch {url}: bad port") from exc
        if not parts.hostname:
            raise BlockedAddressError(f"refused to fetch {url}: no host")
        self.resolve(parts.hostname, port)

    def create_connection(
        self,
        address: tuple[str, int],
        timeout: float | None = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
        source_address: tuple[str, int] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> socket.socket:
        """``socket.create_connection`` to the addresses :meth:`resolve` checked, and no other."""
        host, port = address
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in self.resolve(host, port):
            sock = socket.socket(family, kind, proto)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        assert error is not None
        raise error


def _guarded_connection(
    guard: NetGuard,
    http_class: type[http.client.HTTPConnection],
    source_address: Any,
    *a: Any,
    **k: Any,
) -> http.client.HTTPConnection:
    conn = http_class(*a, **k)
    conn._create_connection = guard.create_connection  # type: ignore[attr-defined]
    if source_address is not None:
        conn.source_address = (source_address, 0)
    return conn


def guarded_request_handler(guard: NetGuard) -> type:
    """A yt-dlp request handler class (urllib based) whose every connection passes ``guard``."""
    import urllib.request

    from yt_dlp.networking import _urllib as ytu

    class _GuardedHTTPHandler(ytu.HTTPHandler):
        def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
            # Also before any proxy sees it: a proxy would otherwise fetch the internal URL.
            try:
                guard.check_url(req.get_full_url())
            except BlockedAddressError:
                raise
            except OSError:
                pass  # an unknown host: the connection fails and says so, in urllib's words
            return super().http_request(req)

        https_request = http_request

        def http_open(self, req: urllib.request.Request) -> Any:
            conn_class = self._make_conn_class(http.client.HTTPConnection, req)
            return self.do_open(
                functools.partial(_guarded_connection, guard, conn_class, self._source_address),
                req,
            )

        def https_open(self, req: urllib.request.Request) -> Any:
            conn_class = self._make_conn_class(http.client.HTTPSConnection, req)
            return self.do_open(
                functools.partial(_guarded_connection, guard, conn_class, self._source_address),
                req,
                context=self._context,
            )

    class GuardedRH(ytu.UrllibRH):
        _SUPPORTED_URL_SCHEMES = ("http", "https")

        def __init__(self, **kwargs: Any) -> None:
            kwargs["enable_file_urls"] = False
            super().__init__(**kwargs)

        def _create_instance(
            self, proxies: Any, cookiejar: Any, legacy_ssl_support: Any = None
        ) -> Any:
            opener = urllib.request.OpenerDirector()
            for handler in (
                ytu.ProxyHandler(proxies),
                _GuardedHTTPHandler(
                    debuglevel=int(bool(self.verbose)),
                    context=self._make_sslcontext(legacy_ssl_support=legacy_ssl_support),
                    source_address=self.source_address,
                ),
                urllib.request.HTTPCookieProcessor(cookiejar),
                urllib.request.UnknownHandler(),
                urllib.request.HTTPDefaultErrorHandler(),
                urllib.request.HTTPErrorProcessor(),
                ytu.RedirectHandler(),
            ):
                opener.add_handler(handler)
            opener.addheaders = []
            return opener

    return GuardedRH


def guarded_youtube_dl(guard: NetGuard) -> type:
    """A ``yt_dlp.YoutubeDL`` whose only way onto the network is :func:`guarded_request_handler`."""
    import yt_dlp

    handler = guarded_request_handler(guard)

    class GuardedYoutubeDL(yt_dlp.YoutubeDL):
        def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
            return super().build_request_director([handler], preferences)

    return GuardedYoutubeDL
