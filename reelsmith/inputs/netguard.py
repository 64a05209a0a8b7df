"""Server-side request forgery protection for every outgoing HTTP request.

Input URLs and webhook targets come from API callers, so a request must never
reach this machine, its private network or a cloud metadata service unless the
operator allowed that network (``REELSMITH_ALLOW_NETWORKS``).

One guard judges every address, at creation and at connection alike:

- :func:`host_address` reads a URL host the way the resolver would when it is an
  address in any notation (``2130706433``, ``0x7f.1``, ``127.1``, ``[::ffff:7f00:1]``,
  a trailing dot) or a ``localhost`` name, so that creation refuses what the
  connection would refuse;
- :func:`reached_addresses` finds the IPv4 address that IPv4-mapped, IPv4-compatible,
  NAT64, 6to4 and Teredo addresses carry, since that is where the packets go;
- :func:`blocking_rule` looks the address up in the special-purpose tables below.

The check at connection lives in the network backend, below httpx: the backend
resolves the host name itself, checks every address it got, and connects to a
checked address. Checking a name and letting the socket layer resolve it again
later would leave room for DNS rebinding. TLS still verifies the certificate
against the host name, because httpcore hands that name to ``start_tls`` separately.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import anyio
import httpcore
import httpx

from reelsmith.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class _Range:
    """One row of the tables: ``blocked`` False marks a globally reachable part of a blocked range."""

    network: IPNetwork
    name: str
    blocked: bool = True


def _range(cidr: str, name: str, blocked: bool = True) -> _Range:
    return _Range(ipaddress.ip_network(cidr), name, blocked)


# The IANA IPv4 Special-Purpose Address Registry
# (https://www.iana.org/assignments/iana-ipv4-special-registry), every entry that is not globally
# reachable, plus multicast (IANA IPv4 Multicast Address Space Registry). Python's is_global is
# not enough: before its 2024 fix (in 3.11.7, say) it misses most of 192.0.0.0/24 (192.0.0.192 is
# Oracle Cloud's metadata service), and what it covers changes between versions.
_IPV4 = (
    _range("0.0.0.0/8", "this network"),
    _range("10.0.0.0/8", "private use"),
    _range("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    _range("127.0.0.0/8", "loopback"),
    _range("169.254.0.0/16", "link local (cloud metadata)"),
    _range("172.16.0.0/12", "private use"),
    # The whole block, although the registry calls the PCP and TURN anycast addresses (192.0.0.9,
    # 192.0.0.10) globally reachable: what answers them is a server of this machine's own network.
    _range("192.0.0.0/24", "IETF protocol assignments"),
    _range("192.0.2.0/24", "documentation"),
    _range("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    _range("192.168.0.0/16", "private use"),
    _range("198.18.0.0/15", "benchmarking"),
    _range("198.51.100.0/24", "documentation"),
    _range("203.0.113.0/24", "documentation"),
    _range("224.0.0.0/4", "multicast"),
    _range("240.0.0.0/4", "reserved"),
    _range("255.255.255.255/32", "limited broadcast"),
    # Not in the registries, but a cloud platform's own endpoint that answers only its machines.
    _range("168.63.129.16/32", "Azure platform endpoint"),
)

# Only 2000::/3 is global unicast (IANA IPv6 Address Space); anything else is refused (see
# blocking_rule) unless it carries an IPv4 address that is judged instead (reached_addresses).
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

# The IANA IPv6 Special-Purpose Address Registry
# (https://www.iana.org/assignments/iana-ipv6-special-registry), every entry that is not globally
# reachable, plus the ranges outside 2000::/3 named so that refusals say which they are.
_IPV6 = (
    _range("::/128", "unspecified"),
    _range("::1/128", "loopback"),
    _range("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    _range("100::/64", "discard only"),
    # Not globally reachable, apart from the entries below it. Its anycast addresses for PCP, TURN and
    # DNS-SD (2001:1::1-3) stay refused: what answers them is a server of this machine's own network.
    _range("2001::/23", "IETF protocol assignments"),
    _range("2001::/32", "Teredo, judged by the IPv4 addresses it carries", False),
    _range("2001:2::/48", "benchmarking"),
    _range("2001:3::/32", "AMT", False),
    _range("2001:4:112::/48", "AS112", False),
    _range("2001:10::/28", "deprecated ORCHID"),
    _range("2001:20::/28", "ORCHIDv2", False),
    _range("2001:30::/28", "drone remote ID", False),
    _range("2001:db8::/32", "documentation"),
    _range("2002::/16", "6to4, judged by the IPv4 address it carries", False),
    _range("3fff::/20", "documentation"),
    _range("5f00::/16", "segment routing SIDs"),
    _range("fc00::/7", "unique local"),
    _range("fe80::/10", "link local"),
    # Deprecated site-local addresses still route inside some networks.
    _range("fec0::/10", "site local"),
    _range("ff00::/8", "multicast"),
)

# Ways to write an IPv4 address as IPv6: packets go to the IPv4 address in the last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

_LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
# One part of a numeric host as inet_aton reads it: hex, octal (a leading 0) or decimal.
_INET_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


class BlockedAddress(Exception):
    """A connection was refused because it would reach a private or local address.

    ``ip`` is the address as written or resolved, ``reached`` the refused address it leads to
    (the IPv4 address inside an IPv4-mapped one, say) and ``rule`` the range that refuses it.
    """

    def __init__(self, ip: IPAddress, reached: IPAddress | None = None, rule: str = "") -> None:
        self.ip = ip
        self.reached = ip if reached is None else reached
        self.rule = rule or "not public"
        super().__init__(f"{ip} is a private or local address: {self._why}")

    @property
    def _why(self) -> str:
        return self.rule if self.reached == self.ip else f"it reaches {self.reached}: {self.rule}"

    @property
    def detail(self) -> str:
        """The address and why it is refused, e.g. ``127.0.0.1: loopback (127.0.0.0/8)``."""
        if self.reached == self.ip:
            return f"{self.ip}: {self.rule}"
        return f"{self.ip}, which reaches {self.reached}: {self.rule}"


def host_address(host: str) -> IPAddress | None:
    """The address that URL host ``host`` stands for without asking DNS, or None for a name.

    Numeric hosts are read as glibc's resolver reads them (getaddrinfo, through inet_aton):
    one to four parts, each decimal, octal (``0177``) or hex (``0x7f``), the last filling the
    bytes left (``127.1``, ``2130706433``, ``0x7f.1``). A trailing dot (``127.0.0.1.``,
    ``localhost.``) changes nothing, ``localhost`` and ``*.localhost`` are loopback (RFC 6761),
    and IPv6 hosts may come with brackets and a zone (``[fe80::1%25eth0]``).
    """
    text = host.lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            # getaddrinfo takes a zone ("%eth0", in a URL "%25eth0"); it does not change the class.
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    # A fully qualified name ends in a dot; resolvers that do not read "127.1." as a number may
    # still send it to a DNS server that answers 127.0.0.1, so it is read as the number.
    text = text.rstrip(".")
    if text == "localhost" or text.endswith(".localhost"):
        return _LOOPBACK
    return _inet_aton(text)


def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """``text`` as glibc's ``inet_aton`` reads it (whole string, no trailing garbage), or None."""
    parts = text.split(".")
    if len(parts) > 4 or not all(_INET_ATON_PART.fullmatch(part) for part in parts):
        return None
    values = [_inet_aton_value(part) for part in parts]
    *leading, last = values
    # Each leading part is one byte; the last fills the bytes that are left.
    if any(value > 0xFF for value in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _inet_aton_value(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:], 16)
    if part.startswith("0"):
        return int(part, 8)
    return int(part)


def reached_addresses(ip: IPAddress) -> tuple[IPAddress, ...]:
    """Where packets sent to ``ip`` end up: ``ip`` itself, or the IPv4 addresses it carries.

    IPv4-mapped (``::ffff:127.0.0.1``), IPv4-compatible (``::127.0.0.1``) and NAT64
    (``64:ff9b::7f00:1``) addresses are IPv4 addresses written as IPv6: only that IPv4 address
    counts. 6to4 (``2002:7f00:1::``) and Teredo (``2001:0:...``) addresses are tunnelled to the
    IPv4 addresses in them (Teredo: the server in bits 32-63, the client in the last 32 bits,
    inverted), so those count as well as the IPv6 address.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return (ip,)
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip in _NAT64:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves, not 0.0.0.0 and 0.0.0.1
        return (ipaddress.IPv4Address(int(ip)),)
    if ip.sixtofour is not None:
        return (ip, ip.sixtofour)
    if ip.teredo is not None:
        server, client = ip.teredo
        return (ip, server, client)
    return (ip,)


def blocking_rule(ip: IPAddress) -> str | None:
    """The special-purpose range that keeps ``ip`` (one address, as it is) from being public, as
    ``"loopback (127.0.0.0/8)"``, or None when it is public. The most specific range decides."""
    table = _IPV4 if isinstance(ip, ipaddress.IPv4Address) else _IPV6
    matches = [row for row in table if ip in row.network]
    if matches:
        row = max(matches, key=lambda row: row.network.prefixlen)
        return f"{row.name} ({row.network})" if row.blocked else None
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST:
        return f"reserved, outside global unicast ({_GLOBAL_UNICAST})"
    return None


def _allowed(ip: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    return any(ip in network for network in allowed)


def check_ip(ip: IPAddress, allowed: Sequence[IPNetwork]) -> None:
    """Raise :class:`BlockedAddress` unless every address ``ip`` reaches is public or allowed.

    ``ip`` inside an allowed network passes whole; otherwise each of its
    :func:`reached_addresses` must be public (:func:`blocking_rule`) or allowed.
    """
    if _allowed(ip, allowed):
        return
    for reached in reached_addresses(ip):
        if _allowed(reached, allowed):
            continue
        rule = blocking_rule(reached)
        if rule is not None:
            raise BlockedAddress(ip, reached, rule)


def check_host(host: str, allowed: Sequence[IPNetwork]) -> None:
    """Raise :class:`BlockedAddress` when URL host ``host`` is an address (in any notation,
    see :func:`host_address`) that :func:`check_ip` refuses. A host name passes here: it is
    resolved and its addresses checked when a connection is made."""
    address = host_address(host)
    if address is not None:
        check_ip(address, allowed)


def check_url_host(url: str, allowed: Sequence[IPNetwork]) -> None:
    """:func:`check_host` for the host of ``url`` (a valid http(s) URL) as httpx will send it to
    the resolver: lowercased and IDNA-encoded, so ``127。0。0。1`` is ``127.0.0.1``."""
    check_host(httpx.URL(url).raw_host.decode("ascii"), allowed)


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
        # An address in any notation is judged as written, as at creation (checked_webhook), before
        # any lookup: "localhost." or "127.1." may otherwise go to a DNS server that answers 127.0.0.1.
        check_host(host, self._allowed)
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


class _UnfollowedResponse(httpx.Response):
    """A response for which httpx prepares no redirect.

    httpx builds the request a redirect leads to even when it will not follow it, and raises
    ``InvalidURL`` (outside its ``HTTPError`` family, so an HTTP 500 for input fetching) on a
    ``Location`` without a host: ``data:...``, ``mailto:``, ``about:blank``, ``urn:x:y``. Guarded
    clients follow no redirects; their callers read ``Location`` and judge it themselves.
    """

    @property
    def has_redirect_location(self) -> bool:
        return False


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

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """httpx's answer, as a response whose redirect httpx leaves to the caller."""
        response = await super().handle_async_request(request)
        return _UnfollowedResponse(
            response.status_code, headers=response.headers, stream=response.stream, extensions=response.extensions
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
