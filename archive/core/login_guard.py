"""What keeps log-in safe under concurrency: who the client is, and how many hashes run at once.

* **Client address.** The address a log-in is counted against is the connection's own peer. A
  ``X-Forwarded-For`` header is believed only when that peer is one of the proxies the archive was
  told to trust (``ARCHIVE_TRUSTED_PROXIES``: addresses or CIDR blocks, none by default), and then
  only its right-most address that is not itself a trusted proxy: everything to the left of that
  was written by the client and proves nothing. An IPv6 client is counted by its /64 network,
  since one machine usually holds a whole /64.
* **Verification slots.** An Argon2 verification with the default parameters takes 64 MiB of
  memory for a moment. :func:`verification_slot` lets at most ``ARCHIVE_LOGIN_VERIFY_CONCURRENCY``
  (default 2) run at once in this process; the others wait their turn, so a burst of log-ins
  cannot exhaust the server's memory.

>>> client_address("203.0.113.9", "198.51.100.7", parse_trusted(""))
'203.0.113.9'
>>> client_address("10.0.0.2", "198.51.100.7, 10.0.0.1", parse_trusted("10.0.0.0/8"))
'198.51.100.7'
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from archive.core.errors import ConfigError

__all__ = [
    "DEFAULT_VERIFY_CONCURRENCY",
    "PROXY_KEY_HEADER",
    "ProxyNetworks",
    "address_bucket",
    "client_address",
    "parse_trusted",
    "verification_slot",
]

DEFAULT_VERIFY_CONCURRENCY = 2
ProxyNetworks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def parse_trusted(text: str | None) -> ProxyNetworks:
    """The trusted proxies of ``ARCHIVE_TRUSTED_PROXIES`` (comma-separated addresses or CIDR
    blocks); ConfigError naming the entry that is neither."""
    networks = []
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"ARCHIVE_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR block"
            ) from None
    return tuple(networks)


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = (text or "").strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: ProxyNetworks
) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


PROXY_KEY_HEADER = "X-Archive-Proxy-Key"


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    trusted: ProxyNetworks,
    *,
    proxy_key: str | None = None,
    presented_key: str | None = None,
) -> str:
    """The address to count a log-in against.

    With a ``proxy_key`` (``ARCHIVE_PROXY_KEY``) a trusted peer must also present it
    (``presented_key``, the request's ``X-Archive-Proxy-Key``): a trusted address alone proves
    nothing when any local process can connect from 127.0.0.1. Without it the header is ignored.

    ``peer`` is the connection's own address (``None`` when the server does not say, as Streamlit
    does for a loopback connection: counted as ``127.0.0.1``). ``forwarded_for`` is the
    ``X-Forwarded-For`` header (several headers joined with commas), used only when ``peer`` is a
    trusted proxy, and then read from the right: each trusted proxy in turn hands over to the hop
    before it, and the first hop that is not a trusted proxy is the client. A hop that is not an
    address at all ends the walk at the last trusted one.
    """
    current = _ip(peer) or ipaddress.ip_address("127.0.0.1")
    if not forwarded_for or not _trusted(current, trusted):
        return str(current)
    if proxy_key and not hmac.compare_digest(
        (presented_key or "").encode("utf-8", "replace"), proxy_key.encode("utf-8", "replace")
    ):
        return str(current)
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        address = _ip(hop)
        if address is None:
            break
        current = address
        if not _trusted(current, trusted):
            break
    return str(current)


def address_bucket(address: str) -> str:
    """What a client address is counted as: itself for IPv4, its /64 network for IPv6."""
    parsed = _ip(address)
    if parsed is None:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


# -- verification slots -----------------------------------------------------------------------
_slots_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


def _semaphore(cap: int) -> threading.BoundedSemaphore:
    global _slots
    cap = max(1, int(cap))
    with _slots_lock:
        # One semaphore for the process; a changed setting (tests) replaces it for new callers.
        if _slots is None or _slots[0] != cap:
            _slots = (cap, threading.BoundedSemaphore(cap))
        return _slots[1]


@contextmanager
def verification_slot(cap: int = DEFAULT_VERIFY_CONCURRENCY) -> Iterator[None]:
    """Hold one of the process's ``cap`` password-verification slots (waiting for one if need be)."""
    slots = _semaphore(cap)
    with slots:
        yield
