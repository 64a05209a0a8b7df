"""Server-side request forgery protection for every outgoing HTTP request.

Input URLs and webhook targets come from API callers, so a request must never
reach this machine, its private network or a cloud metadata service unless the
operator allowed that network (``REELSMITH_ALLOW_NETWORKS``).

The check lives in the network backend, below httpx: the backend resolves the
host name itself, checks every address it got, and connects to a checked
address. Checking a name and letting the socket layer resolve it again later
would leave room for DNS rebinding. TLS still verifies the certificate against
the host name, because httpcore hands that name to ``start_tls`` separately.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Sequence

import anyio
import httpcore
import httpx

from reelsmith.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# NAT64 gateways translate this prefix to the IPv4 address in its last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedAddress(Exception):
    """A connection was refused because it would reach a private or local address."""

    def __init__(self, ip: IPAddress) -> None:
        super().__init__(f"{ip} is a private or local address")
        self.ip = ip


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that traffic to ``ip`` actually ends up at, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _is_public(ip: IPAddress) -> bool:
    # fec0::/10 (deprecated site-local) still routes inside some networks; Python counts it global.
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    return ip.is_global and not (ip.is_multicast or ip.is_unspecified or ip.is_reserved or site_local)


def check_ip(ip: IPAddress, allowed: Sequence[IPNetwork]) -> None:
    """Raise :class:`BlockedAddress` unless ``ip`` is public or inside an allowed network.

    IPv6 forms that carry an IPv4 address (``::ffff:127.0.0.1``, NAT64, 6to4)
    are judged by that IPv4 address, since that is where the packets go.
    """
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    candidates = [ip] if embedded is None else [ip, embedded]
    if any(candidate in network for candidate in candidates for network in allowed):
        return
    # Mapped and NAT64 addresses are not public themselves; only what they carry counts.
    if embedded is not None and (ip.ipv4_mapped is not None or ip in _NAT64):
        candidates = [embedded]
    if not all(_is_public(candidate) for candidate in candidates):
        raise BlockedAddress(ip)


def _parse_ip(text: str) -> IPAddress:
    # getaddrinfo may append a zone ("fe80::1%eth0"); the zone does not change the class.
    return ipaddress.ip_address(text.split("%", 1)[0])


def blocked_cause(exc: BaseException) -> BlockedAddress | None:
    """The :class:`BlockedAddress` behind ``exc`` (itself, a cause or a context), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, BlockedAddress):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore backend that only connects to addresses :func:`check_ip` accepts."""

    def __init__(self, allowed: Sequence[IPNetwork]) -> None:
        self._allowed = tuple(allowed)
        self._inner = httpcore.AnyIOBackend()

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from exc
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no addresses")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve ``host``, refuse if any address is blocked, then connect to a checked one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        addresses = await self._resolve(host, port, timeout)
        # Every address must pass: a name that mixes public and private answers is an attack.
        for address in addresses:
            check_ip(_parse_ip(address), self._allowed)
        last_error: Exception | None = None
        for address in addresses:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                return await self._inner.connect_tcp(address, port, remaining, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never allowed: a Unix socket is always local."""
        raise httpcore.ConnectError("Unix sockets are not allowed for outgoing requests")

    async def sleep(self, seconds: float) -> None:
        """Delegates to anyio (httpcore sleeps between connection retries)."""
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on :class:`GuardedBackend`."""

    def __init__(self, allowed: Sequence[IPNetwork]) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits()
        # httpx 0.28 builds the pool in __init__ without a way to pass a backend,
        # so the pool is replaced with one built the same way plus the backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed),
        )


def guarded_client(settings: Settings, *, timeout: float | None = None) -> httpx.AsyncClient:
    """An httpx client that refuses private and local addresses and follows no redirects.

    Proxies from the environment are ignored (a proxy would connect on our
    behalf, unchecked). A refused connection raises :class:`BlockedAddress`
    out of the request call; :func:`blocked_cause` finds it inside wrapped errors.
    """
    return httpx.AsyncClient(
        transport=_GuardedTransport(settings.allowed_networks),
        trust_env=False,
        follow_redirects=False,
        timeout=timeout if timeout is not None else settings.fetch_timeout_seconds,
    )
