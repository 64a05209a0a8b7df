"""Input fetching: URL rules, SSRF refusals, redirects, limits and content sniffing.

Everything runs against real HTTP servers on 127.0.0.1 and 127.0.0.2, so no
test sends a packet beyond loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import platform
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import httpx
import imageio_ffmpeg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelsmith.errors import ApiError, Code
from reelsmith.inputs import netguard
from reelsmith.inputs.fetch import FetchedInput, Kind, fetch_input
from reelsmith.inputs.netguard import (
    BlockedAddress,
    check_host,
    check_ip,
    guarded_client,
    host_address,
    reached_addresses,
)
from reelsmith.settings import Settings
from reelsmith.storage.local import LocalStorage
from reelsmith.storage.signing import UrlSigner

SRT = "1\n00:00:00,000 --> 00:00:01,500\nHello there\n\n2\n00:00:01,500 --> 00:00:02,000\nBye\n"
ASS = "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Text\n"
LOOPBACK_ONLY = ["127.0.0.1/32"]


def _ffmpeg(out: Path, *args: str) -> bytes:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args, str(out)],
        check=True,
        timeout=60,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Small real media files, by the name the test servers serve them under."""
    folder = tmp_path_factory.mktemp("media")
    picture = ["-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1"]
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
    video = [
        *["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=1"],
        *["-f", "lavfi", "-i", "sine=frequency=440:duration=1"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ]
    files = {
        "image.png": _ffmpeg(folder / "image.png", *picture),
        "image.jpg": _ffmpeg(folder / "image.jpg", *picture),
        "video.mp4": _ffmpeg(folder / "video.mp4", *video),
        "audio.mp3": _ffmpeg(folder / "audio.mp3", *tone),
        "audio.wav": _ffmpeg(folder / "audio.wav", *tone),
        "audio.m4a": _ffmpeg(folder / "audio.m4a", *tone, "-c:a", "aac"),
        "audio.ogg": _ffmpeg(folder / "audio.ogg", *tone, "-c:a", "libvorbis"),
        "audio.flac": _ffmpeg(folder / "audio.flac", *tone),
        "audio.webm": _ffmpeg(folder / "audio.webm", *tone, "-c:a", "libopus"),
        "captions.srt": SRT.encode(),
        "captions-bom.srt": b"\xef\xbb\xbf" + SRT.encode(),
        "captions.ass": ASS.encode(),
        "notes.txt": b"just some text, not media\n",
    }
    return files


class _TestServer:
    """A threaded HTTP server with a fixed set of routes that records every request."""

    def __init__(self, host: str, media: dict[str, bytes]) -> None:
        self.media = media
        self.hits: list[str] = []
        self.other_port = 0
        self.httpd = ThreadingHTTPServer((host, 0), _make_handler(self))
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


def _make_handler(server: _TestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send(self, status: int, body: bytes, length: int | None = None) -> None:
            self.send_response(status)
            # A misleading type: the fetcher must judge by content, not by this.
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            self.wfile.write(body)

        def _trickle(self, chunk: bytes, pause: float, total: int) -> None:
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(total):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(pause)
            except OSError:
                pass  # the client gave up, which is what the test wants

        def do_GET(self) -> None:
            server.hits.append(self.path)
            path = self.path
            name = path.rsplit("/", 1)[-1]
            if path.startswith("/files/") and name in server.media:
                self._send(200, server.media[name])
            elif path.startswith("/redirect/"):
                self._redirect(f"/files/{name}")
            elif path.startswith("/chain/"):
                hops = int(name)
                self._redirect(f"/chain/{hops - 1}" if hops else "/files/image.png")
            elif path == "/loop-a":
                self._redirect("/loop-b")
            elif path == "/loop-b":
                self._redirect(f"http://{server.host}:{server.port}/loop-a")
            elif path == "/to-other":
                self._redirect(f"http://127.0.0.2:{server.other_port}/files/image.png")
            elif path == "/to-file":
                self._redirect("file:///etc/passwd")
            elif path.startswith("/to-location/"):
                self._redirect(unquote(path.removeprefix("/to-location/")))
            elif path == "/hang":
                time.sleep(4)
            elif path == "/dribble":
                self._trickle(b"\x89", 0.1, 50)
            elif path == "/huge-declared":
                self._send(200, b"\x00\x00\x00\x18ftypisom", length=10**10)
            elif path == "/huge-stream":
                self._trickle(b"\x00\x00\x00\x18ftypisom" + bytes(65524), 0, 1000)
            else:
                self._send(404, b"not here")

    return Handler


@pytest.fixture(scope="module")
def servers(media: dict[str, bytes]) -> Iterator[tuple[_TestServer, _TestServer]]:
    """The main server on 127.0.0.1 and a second one on 127.0.0.2."""
    main, other = _TestServer("127.0.0.1", media), _TestServer("127.0.0.2", media)
    main.other_port = other.port
    for server in (main, other):
        server.thread.start()
    yield main, other
    for server in (main, other):
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def server(servers: tuple[_TestServer, _TestServer]) -> _TestServer:
    servers[0].hits.clear()
    servers[1].hits.clear()
    return servers[0]


@pytest.fixture
def other(servers: tuple[_TestServer, _TestServer]) -> _TestServer:
    return servers[1]


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(b"test-secret", retention_ms=3_600_000)


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def _fetch(
    url: object,
    settings: Settings,
    storage: LocalStorage,
    signer: UrlSigner,
    *,
    kind: Kind = "image",
    field: str = "image_url",
) -> FetchedInput:
    return asyncio.run(
        fetch_input(
            url,
            field=field,
            kind=kind,
            settings=settings,
            dest_dir=settings.work_dir,
            storage=storage,
            signer=signer,
        )
    )


def _refusal(url: object, settings: Settings, storage: LocalStorage, signer: UrlSigner, **kw: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        _fetch(url, settings, storage, signer, **kw)  # type: ignore[arg-type]
    return caught.value


def _leftovers(settings: Settings) -> list[Path]:
    return list(settings.work_dir.iterdir()) if settings.work_dir.exists() else []


# --- check_ip -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",
        # every range of the IANA special-purpose registries that is not globally reachable
        "192.0.0.192",  # Oracle Cloud's metadata service, in 192.0.0.0/24 (Python's is_global misses it)
        "192.0.0.9",
        "192.0.0.170",
        "192.88.99.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.7",
        "172.31.255.255",
        "168.63.129.16",
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT): outside 2000::/3
        "64:ff9b:1::1",
        "100::1",
        "2001:1::1",
        "2001:2::1",
        "2001:10::1",
        "2001:0:808:808::80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:0:a00:1::f7f7:f7f7",  # Teredo, server 10.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "3fff::1",
        "5f00::1",
        "4000::1",
    ],
)
def test_check_ip_blocks_private_and_local(address: str) -> None:
    with pytest.raises(BlockedAddress):
        check_ip(ipaddress.ip_address(address), [])


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "192.0.1.1",
        "2606:4700:4700::1111",
        "64:ff9b::808:808",
        "::ffff:8.8.8.8",
        "2002:808:808::1",  # 6to4 of a public address
        "2001:0:808:808::f7f7:f7f7",  # Teredo with a public server and client
    ],
)
def test_check_ip_passes_public(address: str) -> None:
    check_ip(ipaddress.ip_address(address), [])


@pytest.mark.parametrize(
    ("address", "reached", "rule"),
    [
        ("192.0.0.192", "192.0.0.192", "IETF protocol assignments (192.0.0.0/24)"),
        ("169.254.169.254", "169.254.169.254", "link local (cloud metadata) (169.254.0.0/16)"),
        ("255.255.255.255", "255.255.255.255", "limited broadcast (255.255.255.255/32)"),
        ("::ffff:7f00:1", "127.0.0.1", "loopback (127.0.0.0/8)"),
        ("64:ff9b::a00:1", "10.0.0.1", "private use (10.0.0.0/8)"),
        ("2002:6440:1::", "100.64.0.1", "shared address space (carrier-grade NAT) (100.64.0.0/10)"),
        ("2001:0:808:808::3fff:fffe", "192.0.0.1", "IETF protocol assignments (192.0.0.0/24)"),
        ("fe80::1", "fe80::1", "link local (fe80::/10)"),
        ("fec0::1", "fec0::1", "site local (fec0::/10)"),
        ("4000::1", "4000::1", "reserved, outside global unicast (2000::/3)"),
    ],
)
def test_refusals_name_the_address_reached_and_the_rule(address: str, reached: str, rule: str) -> None:
    with pytest.raises(BlockedAddress) as caught:
        check_ip(ipaddress.ip_address(address), [])
    assert caught.value.reached == ipaddress.ip_address(reached)
    assert caught.value.rule == rule
    assert str(caught.value).startswith(f"{ipaddress.ip_address(address)} is a private or local address: ")


@pytest.mark.parametrize(
    ("address", "reached"),
    [
        ("8.8.8.8", ["8.8.8.8"]),
        ("::1", ["::1"]),
        ("::", ["::"]),
        ("::ffff:127.0.0.1", ["127.0.0.1"]),
        ("::127.0.0.1", ["127.0.0.1"]),
        ("64:ff9b::7f00:1", ["127.0.0.1"]),
        ("2002:7f00:1::", ["2002:7f00:1::", "127.0.0.1"]),
        # Teredo: server in bits 32-63, client in the last 32 bits inverted
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "65.54.227.120", "192.0.2.45"],
        ),
        ("2606:4700::1", ["2606:4700::1"]),
    ],
)
def test_reached_addresses(address: str, reached: list[str]) -> None:
    assert reached_addresses(ipaddress.ip_address(address)) == tuple(ipaddress.ip_address(a) for a in reached)


def test_allowed_networks_apply_to_the_address_reached() -> None:
    loopback = [ipaddress.ip_network("127.0.0.0/8")]
    for address in ("::ffff:7f00:1", "64:ff9b::7f00:1", "::127.0.0.1", "2002:7f00:1::"):
        check_ip(ipaddress.ip_address(address), loopback)
    # Teredo reaches two addresses: allowing one of them is not enough.
    with pytest.raises(BlockedAddress):
        check_ip(ipaddress.ip_address("2001:0:a00:1::80ff:fffe"), loopback)
    check_ip(ipaddress.ip_address("2001:0:a00:1::80ff:fffe"), [*loopback, ipaddress.ip_network("10.0.0.0/8")])


# --- host_address: every notation the resolver reads as an address ------------------

# (URL host, the address it stands for): every form an attacker may write for a local address.
HOST_FORMS = [
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),  # decimal
    ("0x7f000001", "127.0.0.1"),  # hex
    ("0X7F000001", "127.0.0.1"),
    ("017700000001", "127.0.0.1"),  # octal
    ("0177.0.0.1", "127.0.0.1"),
    ("0177.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),  # short: the last part fills the bytes left
    ("127.0.1", "127.0.0.1"),
    ("10.1", "10.0.0.1"),
    ("192.168.257", "192.168.1.1"),
    ("0x7f.1", "127.0.0.1"),  # mixed
    ("0x7f.0.0.0x1", "127.0.0.1"),
    ("127.0x1", "127.0.0.1"),
    ("0", "0.0.0.0"),
    ("0x0", "0.0.0.0"),
    ("00000000000000000177.1", "127.0.0.1"),
    ("0xa9fea9fe", "169.254.169.254"),
    ("3221225664", "192.0.0.192"),
    ("127.0.0.1.", "127.0.0.1"),  # trailing dot
    ("127.1.", "127.0.0.1"),
    ("0x7f000001.", "127.0.0.1"),
    ("localhost", "127.0.0.1"),
    ("LOCALHOST", "127.0.0.1"),
    ("localhost.", "127.0.0.1"),
    ("hooks.localhost", "127.0.0.1"),
    ("a.b.localhost.", "127.0.0.1"),
    ("[::1]", "::1"),
    ("::1", "::1"),
    ("[::]", "::"),
    ("[0:0:0:0:0:0:0:1]", "::1"),
    ("[::ffff:7f00:1]", "::ffff:127.0.0.1"),  # IPv4-mapped
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
    ("[0:0:0:0:0:ffff:7f00:1]", "::ffff:127.0.0.1"),
    ("[::127.0.0.1]", "::7f00:1"),  # IPv4-compatible
    ("[64:ff9b::7f00:1]", "64:ff9b::7f00:1"),  # NAT64
    ("[64:ff9b::127.0.0.1]", "64:ff9b::7f00:1"),
    ("[2002:7f00:1::]", "2002:7f00:1::"),  # 6to4
    ("[2001:0:808:808::80ff:fffe]", "2001:0:808:808::80ff:fffe"),  # Teredo
    ("[fe80::1%25eth0]", "fe80::1"),  # a zone, as a URL writes it
    ("fe80::1%eth0", "fe80::1"),
]


@pytest.mark.parametrize(("host", "address"), HOST_FORMS)
def test_host_address_reads_every_notation(host: str, address: str) -> None:
    assert host_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(("host", "address"), HOST_FORMS)
def test_check_host_refuses_every_notation_of_a_local_address(host: str, address: str) -> None:
    with pytest.raises(BlockedAddress) as caught:
        check_host(host, [])
    assert caught.value.ip == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "localhost.example.com",
        "mylocalhost",
        "1.2.3.4.5",  # five parts: a name
        "256.1",  # a leading part over 255
        "1.16777216",  # the last part too large for the bytes left
        "4294967296",
        "08.1",  # 8 is not an octal digit
        "0x",
        "0x.1",
        "127.0.0.1x",
        "1..1",
        ".1",
        "",
        "[::1",
        "[1:2:3:4:5:6:7:8:9]",
    ],
)
def test_host_address_leaves_names_to_the_resolver(host: str) -> None:
    assert host_address(host) is None


def _numeric(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """What getaddrinfo makes of ``host`` as a number (AI_NUMERICHOST: no DNS), or None."""
    try:
        infos = socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(str(infos[0][4][0]).split("%", 1)[0])


glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the notations are glibc's")


@st.composite
def _ipv4_notations(draw: st.DrawFn) -> tuple[int, str]:
    """An IPv4 address and one of the ways inet_aton reads it (1-4 parts, each in any base)."""
    number = draw(st.integers(0, 2**32 - 1))
    count = draw(st.integers(1, 4))
    octets = number.to_bytes(4, "big")
    values = [*octets[: count - 1], int.from_bytes(octets[count - 1 :], "big")]
    parts = []
    for value in values:
        base = draw(st.sampled_from(["dec", "oct", "hex", "HEX"]))
        zeros = "0" * draw(st.integers(0, 3))
        if base == "dec":
            parts.append(str(value))
        elif base == "oct":
            parts.append("0" + zeros + format(value, "o"))
        else:
            prefix = draw(st.sampled_from(["0x", "0X"]))
            digits = format(value, "x" if base == "hex" else "X")
            parts.append(prefix + zeros + digits)
    return number, ".".join(parts)


@glibc_only
@settings(max_examples=400, deadline=None)
@given(_ipv4_notations())
def test_host_address_agrees_with_the_resolver_on_ipv4_notations(case: tuple[int, str]) -> None:
    number, host = case
    assert host_address(host) == ipaddress.IPv4Address(number) == _numeric(host)
    assert host_address(host + ".") == ipaddress.IPv4Address(number)


@glibc_only
@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789abcdefxX.", max_size=24))
def test_host_address_agrees_with_the_resolver_on_any_numeric_looking_host(host: str) -> None:
    """Whatever getaddrinfo reads as an address, host_address reads as the same one, and the
    other way round (a trailing dot aside: it is read as the number, see host_address)."""
    if host.endswith("."):
        host = host.rstrip(".")
    assert host_address(host) == _numeric(host)


@glibc_only
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**128 - 1), st.booleans())
def test_host_address_agrees_with_the_resolver_on_ipv6(number: int, dotted: bool) -> None:
    address = ipaddress.IPv6Address(number)
    text = address.exploded
    if dotted:  # the last 32 bits as a dotted quad, as ::ffff:127.0.0.1 is written
        text = text.rsplit(":", 2)[0] + ":" + str(ipaddress.IPv4Address(number & 0xFFFFFFFF))
    assert host_address(f"[{text}]") == address == _numeric(text)
    assert host_address(address.compressed) == address


@glibc_only
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789abcdef:.", min_size=1, max_size=24).filter(lambda text: ":" in text))
def test_host_address_agrees_with_the_resolver_on_any_ipv6_looking_host(host: str) -> None:
    assert host_address(host) == _numeric(host)


def test_check_ip_allowed_networks() -> None:
    allowed = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8")]
    check_ip(ipaddress.ip_address("127.0.0.1"), allowed)
    check_ip(ipaddress.ip_address("10.20.30.40"), allowed)
    check_ip(ipaddress.ip_address("::ffff:127.0.0.1"), allowed)
    with pytest.raises(BlockedAddress):
        check_ip(ipaddress.ip_address("127.0.0.2"), allowed)
    with pytest.raises(BlockedAddress):
        check_ip(ipaddress.ip_address("169.254.169.254"), allowed)


# --- the guarded client ---------------------------------------------------------------


def test_guarded_client_connects_to_the_checked_address(
    server: _TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once, and the connection goes to that checked address."""
    lookups: list[str] = []

    async def resolve(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(netguard.anyio, "getaddrinfo", resolve)

    async def get() -> httpx.Response:
        async with guarded_client(_settings(tmp_path, allow_networks=LOOPBACK_ONLY)) as client:
            return await client.get(f"http://media.example:{server.port}/files/notes.txt")

    response = asyncio.run(get())
    assert response.status_code == 200
    assert lookups == ["media.example"]
    assert server.hits == ["/files/notes.txt"]


def test_guarded_client_refuses_names_with_any_private_address(
    server: _TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def resolve(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(netguard.anyio, "getaddrinfo", resolve)

    async def get() -> None:
        async with guarded_client(_settings(tmp_path)) as client:
            await client.get(f"http://rebind.example:{server.port}/files/notes.txt")

    with pytest.raises(BlockedAddress):
        asyncio.run(get())
    assert server.hits == []


def test_guarded_client_ignores_proxy_environment(
    server: _TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")

    async def get() -> httpx.Response:
        async with guarded_client(_settings(tmp_path, allow_networks=LOOPBACK_ONLY)) as client:
            return await client.get(server.url("/files/notes.txt"))

    assert asyncio.run(get()).status_code == 200


# --- successful fetches ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "suffix", "content_type"),
    [
        ("image.png", "image", ".png", "image/png"),
        ("image.jpg", "image", ".jpg", "image/jpeg"),
        ("video.mp4", "video", ".mp4", "video/mp4"),
        ("audio.mp3", "audio", ".mp3", "audio/mpeg"),
        ("audio.wav", "audio", ".wav", "audio/wav"),
        ("audio.m4a", "audio", ".m4a", "audio/mp4"),
        ("audio.ogg", "audio", ".ogg", "audio/ogg"),
        ("audio.flac", "audio", ".flac", "audio/flac"),
        ("audio.webm", "audio", ".webm", "audio/webm"),
        ("captions.srt", "caption", ".srt", "application/x-subrip"),
        ("captions-bom.srt", "caption", ".srt", "application/x-subrip"),
        ("captions.ass", "caption", ".ass", "text/x-ssa"),
    ],
)
def test_fetch_each_kind(
    name: str,
    kind: Kind,
    suffix: str,
    content_type: str,
    server: _TestServer,
    media: dict[str, bytes],
    tmp_path: Path,
    storage: LocalStorage,
    signer: UrlSigner,
) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY)
    url = server.url(f"/files/{name}")
    fetched = _fetch(url, settings, storage, signer, kind=kind, field=f"{kind}_url")
    assert fetched.path.suffix == suffix
    assert fetched.path.parent == settings.work_dir
    assert fetched.path.read_bytes() == media[name]
    assert fetched.size == len(media[name])
    assert fetched.content_type == content_type
    assert fetched.source_url == url
    assert _leftovers(settings) == [fetched.path]


def test_fetch_follows_redirects(
    server: _TestServer, media: dict[str, bytes], tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY, fetch_max_redirects=2)
    fetched = _fetch(server.url("/chain/1"), settings, storage, signer)
    assert fetched.path.read_bytes() == media["image.png"]
    assert server.hits == ["/chain/1", "/chain/0", "/files/image.png"]


def test_own_storage_urls_are_read_without_http(
    media: dict[str, bytes], tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    stored = storage.put_bytes(media["video.mp4"], "mp4")
    url = signer.url("http://reelsmith.invalid", stored)
    fetched = _fetch(url, _settings(tmp_path), storage, signer, kind="video", field="video_url")
    assert fetched.path.read_bytes() == media["video.mp4"]
    assert fetched.path.suffix == ".mp4"
    assert storage.exists(stored.key)


def test_forged_storage_url_goes_through_the_guard(
    server: _TestServer, media: dict[str, bytes], tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    stored = storage.put_bytes(media["image.png"], "png")
    url = server.url(f"/files/{stored.key}?expires=99999999999999&signature=00")
    error = _refusal(url, _settings(tmp_path), storage, signer)
    assert "private or local address (127.0.0.1: loopback (127.0.0.0/8))" in error.msg
    assert server.hits == []


# --- URL rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (None, "must be a non-empty URL string"),
        (42, "must be a non-empty URL string"),
        (["http://example.com/a.png"], "must be a non-empty URL string"),
        ("", "must be a non-empty URL string"),
        ("   ", "must be a non-empty URL string"),
        ("file:///etc/passwd", "must be an http or https URL"),
        ("ftp://127.0.0.1/a.png", "must be an http or https URL"),
        ("gopher://127.0.0.1:70/_x", "must be an http or https URL"),
        ("javascript:alert(1)", "must be an http or https URL"),
        ("//example.com/a.png", "must be an http or https URL"),
        ("example.com/a.png", "must be an http or https URL"),
        ("http://", "must name a host"),
        ("http:///a.png", "must name a host"),
        ("http://user:secret@example.com/a.png", "must not contain a user name or password"),
        ("http://[::1/a.png", "must be a valid URL"),
        ("http://example.com:99999/a.png", "must be a valid URL"),
        ("http://exa mple.com/a.png", "must be a valid URL"),
        ("http://example.com/" + "a" * 2048, "must be at most 2048 characters long"),
    ],
)
def test_url_rules(value: object, rule: str, tmp_path: Path, storage: LocalStorage, signer: UrlSigner) -> None:
    error = _refusal(value, _settings(tmp_path), storage, signer)
    assert error.code == Code.PARAMETER
    assert error.msg == f"image_url {rule}"


# --- SSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "127.0.0.1"),
        ("[::1]", "::1"),
        ("0.0.0.0", "0.0.0.0"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("[::ffff:127.0.0.1]", "::ffff:"),
        ("127.0.0.2", "127.0.0.2"),
        # every other notation, each refused before any lookup or connection
        ("127.1", "127.0.0.1: loopback (127.0.0.0/8)"),
        ("0x7f000001", "127.0.0.1: loopback"),
        ("017700000001", "127.0.0.1: loopback"),
        ("0177.1", "127.0.0.1: loopback"),
        ("127.0x1", "127.0.0.1: loopback"),
        ("127.0.0.1.", "127.0.0.1: loopback"),
        ("127.1.", "127.0.0.1: loopback"),
        ("localhost.", "127.0.0.1: loopback"),
        ("LOCALHOST", "127.0.0.1: loopback"),
        ("media.localhost", "127.0.0.1: loopback"),
        ("127。0。0。1", "127.0.0.1: loopback"),  # IDNA turns the ideographic full stop into a dot
        ("[::ffff:7f00:1]", "which reaches 127.0.0.1: loopback"),
        ("[64:ff9b::7f00:1]", "64:ff9b::7f00:1, which reaches 127.0.0.1: loopback"),
        ("[2002:7f00:1::]", "2002:7f00:1::, which reaches 127.0.0.1: loopback"),
        ("[2001:0:808:808::80ff:fffe]", "2001:0:808:808::80ff:fffe, which reaches 127.0.0.1: loopback"),
        ("[::127.0.0.1]", "::7f00:1, which reaches 127.0.0.1: loopback"),
    ],
)
def test_local_addresses_are_refused_by_default(
    host: str, shown: str, server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    url = f"http://{host}:{server.port}/files/video.mp4"
    error = _refusal(url, _settings(tmp_path), storage, signer, kind="video", field="video_url")
    assert error.code == Code.PARAMETER
    assert error.msg.startswith("video_url points to a private or local address (")
    assert shown in error.msg
    assert "set REELSMITH_ALLOW_NETWORKS to allow it" in error.msg
    assert server.hits == []


def test_octal_address_is_refused(
    server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    error = _refusal(f"http://0177.0.0.1:{server.port}/files/image.png", _settings(tmp_path), storage, signer)
    assert error.code == Code.PARAMETER
    assert server.hits == []


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "169.254.169.254",
        "[fd00:ec2::254]",
        "192.168.0.1",
        "192.0.0.192",  # Oracle Cloud's metadata service
        "10.1",
        "0xa9fea9fe",
        "[::ffff:169.254.169.254]",
        "[2001:0:a00:1::f7f7:f7f7]",  # Teredo through a server at 10.0.0.1
        "[fe80::1%25eth0]",
    ],
)
def test_private_addresses_are_refused_before_connecting(
    host: str, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    # Only the guard, which runs before any socket is opened, words a refusal this way; an
    # attempt to connect would instead end in the (long) time limit's message.
    settings = _settings(tmp_path, fetch_timeout_seconds=60)
    error = _refusal(f"http://{host}/latest/meta-data/", settings, storage, signer)
    assert "points to a private or local address" in error.msg
    assert _leftovers(_settings(tmp_path)) == []


def test_allowing_a_network_does_not_allow_its_neighbours(
    server: _TestServer, other: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY)
    error = _refusal(server.url("/to-other"), settings, storage, signer)
    assert error.msg.startswith("image_url was redirected to a private or local address (127.0.0.2: loopback")
    assert server.hits == ["/to-other"]
    assert other.hits == []
    assert _leftovers(settings) == []


def test_redirect_to_another_scheme_is_refused(
    server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    error = _refusal(server.url("/to-file"), _settings(tmp_path, allow_networks=LOOPBACK_ONLY), storage, signer)
    assert error.msg == (
        "image_url was redirected to file:///etc/passwd; a redirect target must be an http or https URL"
    )


@pytest.mark.parametrize(
    ("location", "rule"),
    [
        ("data:text/plain,hello", "be an http or https URL"),
        ("mailto:someone@example.com", "be an http or https URL"),
        ("about:blank", "be an http or https URL"),
        ("javascript:alert(1)", "be an http or https URL"),
        ("urn:x:y", "be an http or https URL"),
        ("tel:+15550100", "be an http or https URL"),
        ("https:no-host", "name a host"),
        ("//[::1", "be a valid URL"),
        ("http://[::1/a.png", "be a valid URL"),
    ],
)
def test_redirect_to_a_url_without_a_host_is_refused(
    location: str, rule: str, server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    """httpx raised InvalidURL on these (an HTTP 500), or called the answer invalid HTTP."""
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY)
    error = _refusal(server.url("/to-location/" + quote(location, safe="")), settings, storage, signer)
    assert (error.code, error.msg) == (
        Code.PARAMETER,
        f"image_url was redirected to {location}; a redirect target must {rule}",
    )
    assert len(server.hits) == 1
    assert _leftovers(settings) == []


def test_guarded_client_hands_back_any_redirect_untouched(server: _TestServer, tmp_path: Path) -> None:
    """What the webhook sender relies on: a redirect to a Location without a host is an
    answer like any other (counted as a failed delivery), not an exception."""

    async def get() -> httpx.Response:
        async with guarded_client(_settings(tmp_path, allow_networks=LOOPBACK_ONLY)) as client:
            return await client.get(server.url("/to-location/" + quote("mailto:someone@example.com", safe="")))

    response = asyncio.run(get())
    assert (response.status_code, response.is_redirect) == (302, True)
    assert response.headers["location"] == "mailto:someone@example.com"
    assert response.next_request is None


def test_redirect_loop(server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner) -> None:
    error = _refusal(server.url("/loop-a"), _settings(tmp_path, allow_networks=LOOPBACK_ONLY), storage, signer)
    assert (error.code, error.msg) == (Code.PARAMETER, "image_url redirects in a loop")


def test_too_many_redirects(server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY, fetch_max_redirects=2)
    error = _refusal(server.url("/chain/3"), settings, storage, signer)
    assert (error.code, error.msg) == (Code.PARAMETER, "image_url was redirected more than 2 times")
    assert len(server.hits) == 3


# --- HTTP failures, time and size limits ----------------------------------------------


def test_http_error_status(server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY)
    error = _refusal(server.url("/files/nothing.png"), settings, storage, signer)
    assert (error.code, error.msg) == (Code.PARAMETER, "image_url answered HTTP 404")
    assert _leftovers(settings) == []


def test_connection_refused(tmp_path: Path, storage: LocalStorage, signer: UrlSigner) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY)
    error = _refusal(f"http://127.0.0.1:{port}/a.png", settings, storage, signer)
    assert error.msg == "image_url could not be fetched: connection refused"


def test_unresolvable_host(
    tmp_path: Path, storage: LocalStorage, signer: UrlSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def resolve(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard.anyio, "getaddrinfo", resolve)
    error = _refusal("https://nowhere.example/a.png", _settings(tmp_path), storage, signer)
    assert error.msg == "image_url could not be fetched: the host name does not resolve"


def test_server_that_never_answers(
    server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY, fetch_timeout_seconds=1)
    error = _refusal(server.url("/hang"), settings, storage, signer)
    assert (error.code, error.msg) == (Code.PARAMETER, "image_url did not answer within 1 s")
    assert _leftovers(settings) == []


def test_download_time_limit_covers_the_whole_body(
    server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    """A server that keeps sending a byte now and then still hits the overall limit."""
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY, fetch_timeout_seconds=1)
    error = _refusal(server.url("/dribble"), settings, storage, signer)
    assert error.msg == "image_url did not finish downloading within 1 s"
    assert _leftovers(settings) == []


def test_image_over_its_limit(
    server: _TestServer, media: dict[str, bytes], tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    assert len(media["image.png"]) > 200
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY, image_max_bytes=200)
    error = _refusal(server.url("/files/image.png"), settings, storage, signer)
    assert (error.code, error.msg) == (Code.PARAMETER, "image_url is larger than 200 bytes")
    assert _leftovers(settings) == []


def test_declared_length_over_the_limit_is_refused_early(
    server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY)
    error = _refusal(server.url("/huge-declared"), settings, storage, signer, kind="video", field="video_url")
    assert (error.code, error.msg) == (Code.TOO_LARGE, "video_url is larger than 300 MB")


def test_undeclared_stream_is_cut_at_the_limit(
    server: _TestServer, tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY, fetch_max_bytes=1024 * 1024)
    error = _refusal(server.url("/huge-stream"), settings, storage, signer, kind="video", field="video_url")
    assert (error.code, error.msg) == (Code.TOO_LARGE, "video_url is larger than 1 MB")
    assert _leftovers(settings) == []


def test_stored_file_over_the_limit(
    media: dict[str, bytes], tmp_path: Path, storage: LocalStorage, signer: UrlSigner
) -> None:
    stored = storage.put_bytes(media["video.mp4"], "mp4")
    url = signer.url("http://reelsmith.invalid", stored)
    settings = _settings(tmp_path, fetch_max_bytes=100)
    error = _refusal(url, settings, storage, signer, kind="video", field="video_url")
    assert (error.code, error.msg) == (Code.TOO_LARGE, "video_url is larger than 100 bytes")


# --- sniffing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("notes.txt", "image", "image_url is not a PNG or JPEG image"),
        ("video.mp4", "image", "image_url is not a PNG or JPEG image"),
        ("image.png", "video", "video_url is not an MP4 video"),
        ("audio.m4a", "video", "video_url is not an MP4 video"),
        ("audio.wav", "video", "video_url is not an MP4 video"),
        ("image.png", "audio", "audio_url is not an MP3, WAV, M4A, OGG, FLAC or WebM audio file"),
        ("notes.txt", "caption", "caption_url is not an SRT or ASS subtitle file"),
        ("image.jpg", "caption", "caption_url is not an SRT or ASS subtitle file"),
    ],
)
def test_content_that_does_not_match_the_kind(
    name: str,
    kind: Kind,
    message: str,
    server: _TestServer,
    tmp_path: Path,
    storage: LocalStorage,
    signer: UrlSigner,
) -> None:
    settings = _settings(tmp_path, allow_networks=LOOPBACK_ONLY)
    error = _refusal(server.url(f"/files/{name}"), settings, storage, signer, kind=kind, field=f"{kind}_url")
    assert (error.code, error.msg) == (Code.PARAMETER, message)
    assert _leftovers(settings) == []
