"""Download one input URL of a request into a work folder, safely and within limits.

Every refusal is an :class:`ApiError` whose message names the request field
and the rule it broke, because the caller sees only that message.
"""

from __future__ import annotations

import codecs
import os
import re
import socket
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

from reelsmith.errors import ApiError, Code, parameter_error
from reelsmith.inputs.netguard import BlockedAddress, IPNetwork, blocked_cause, check_url_host, guarded_client
from reelsmith.media.probe import format_size
from reelsmith.settings import Settings
from reelsmith.storage.base import Storage
from reelsmith.storage.signing import UrlSigner

Kind = Literal["image", "video", "audio", "caption"]

MAX_URL_LENGTH = 2048
_SNIFF_BYTES = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_NOT_A = {
    "image": "is not a PNG or JPEG image",
    "video": "is not an MP4 video",
    "audio": "is not an MP3, WAV, M4A, OGG, FLAC or WebM audio file",
    "caption": "is not an SRT or ASS subtitle file",
}

# Major brands of ISO-BMFF files that hold still images or audio only, never a video.
_IMAGE_BRANDS = frozenset({b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
# Old QuickTime files may start with one of these boxes instead of ftyp.
_QUICKTIME_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free"})

_SRT_TIMING = re.compile(r"\d+:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->[ \t]*\d+:\d{2}:\d{2}")
_ASS_SECTION = re.compile(r"^\s*\[(Script Info|Events)\]", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class FetchedInput:
    """A downloaded input: its file (suffix from the sniffed type) and where it came from."""

    path: Path
    content_type: str
    size: int
    source_url: str


async def fetch_input(
    url: object,
    *,
    field: str,
    kind: Kind,
    settings: Settings,
    dest_dir: Path,
    storage: Storage,
    signer: UrlSigner,
) -> FetchedInput:
    """Fetch ``url`` (the value of request field ``field``) as a ``kind`` file into ``dest_dir``.

    File URLs this server signed are read from storage without HTTP. Anything
    else is downloaded through the guarded client, following redirects by hand.
    The type is decided by the file's first bytes, not by what the server says.
    """
    text = checked_url(url, field)
    max_bytes, too_large_code = _size_limit(kind, settings)
    dest_dir.mkdir(parents=True, exist_ok=True)
    key = signer.own_key(text)
    if key is not None and storage.exists(key):
        part = await _copy_stored(storage, key, field, dest_dir, max_bytes, too_large_code)
    else:
        part = await _download(text, field, settings, dest_dir, max_bytes, too_large_code)
    return _finish(part, field, kind, text)


def _url_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a URL to fetch, phrased to follow "must", or None."""
    if len(value) > MAX_URL_LENGTH:
        return f"be at most {MAX_URL_LENGTH} characters long"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError:
        return "be a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "be an http or https URL"
    if not parts.hostname:
        return "name a host"
    if parts.username is not None or parts.password is not None:
        return "not contain a user name or password"
    if any(char.isspace() or ord(char) < 0x20 for char in value):
        return "be a valid URL"
    try:
        httpx.URL(value)
    except httpx.InvalidURL:
        return "be a valid URL"
    return None


def checked_url(value: object, field: str) -> str:
    """``value`` stripped, when it is an http(s) URL we could fetch; else 1003 naming ``field``."""
    if not isinstance(value, str) or not value.strip():
        raise parameter_error(f"{field} must be a non-empty URL string")
    text = value.strip()
    problem = _url_problem(text)
    if problem is not None:
        raise parameter_error(f"{field} must {problem}")
    return text


def _size_limit(kind: Kind, settings: Settings) -> tuple[int, Code]:
    if kind == "image":
        return settings.image_max_bytes, Code.PARAMETER
    if kind == "video":
        return settings.fetch_max_bytes, Code.TOO_LARGE
    return settings.fetch_max_bytes, Code.PARAMETER


def _too_large(field: str, max_bytes: int, code: Code) -> ApiError:
    return ApiError(code, f"{field} is larger than {format_size(max_bytes)}")


def _new_part(field: str, dest_dir: Path) -> tuple[BinaryIO, Path]:
    fd, name = tempfile.mkstemp(dir=dest_dir, prefix=f"{field}-", suffix=".part")
    return os.fdopen(fd, "wb"), Path(name)


async def _copy_stored(storage: Storage, key: str, field: str, dest_dir: Path, max_bytes: int, code: Code) -> Path:
    if await anyio.to_thread.run_sync(storage.size, key) > max_bytes:
        raise _too_large(field, max_bytes, code)
    out, part = _new_part(field, dest_dir)
    out.close()
    try:
        # A stored file may be hundreds of MB; copying must not stall the event loop.
        await anyio.to_thread.run_sync(storage.copy_to, key, part)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return part


class _Progress:
    """Where a download got to, so a timeout can say whether the server answered at all."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redirected = False
        self.answered = False


async def _download(url: str, field: str, settings: Settings, dest_dir: Path, max_bytes: int, code: Code) -> Path:
    out, part = _new_part(field, dest_dir)
    progress = _Progress(url)
    try:
        with out:
            try:
                # One deadline for the whole download: per-read timeouts alone let a
                # server dribble a byte at a time forever.
                with anyio.fail_after(settings.fetch_timeout_seconds):
                    async with guarded_client(settings) as client:
                        await _follow(client, progress, out, field, settings, max_bytes, code)
            except (TimeoutError, httpx.TimeoutException) as exc:
                raise _timeout_error(field, progress, settings) from exc
            except ApiError:
                raise
            except Exception as exc:
                error = _transport_error(exc, field, progress)
                if error is None:
                    raise
                raise error from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return part


async def _follow(
    client: httpx.AsyncClient,
    progress: _Progress,
    out: BinaryIO,
    field: str,
    settings: Settings,
    max_bytes: int,
    code: Code,
) -> None:
    """GET ``progress.url``, following at most ``fetch_max_redirects`` redirects, into ``out``."""
    seen = {progress.url}
    for _ in range(settings.fetch_max_redirects + 1):
        async with client.stream("GET", progress.url) as response:
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_STATUSES and location:
                target = _redirect_target(progress.url, location, field)
                if target in seen:
                    raise parameter_error(f"{field} redirects in a loop")
                seen.add(target)
                progress.url = target
                progress.redirected = True
                continue
            progress.answered = True
            if not 200 <= response.status_code < 300:
                raise parameter_error(f"{field} answered HTTP {response.status_code}")
            await _save_body(response, out, field, max_bytes, code)
            return
    raise parameter_error(f"{field} was redirected more than {settings.fetch_max_redirects} times")


def _redirect_target(current: str, location: str, field: str) -> str:
    """The URL ``location`` leads to from ``current``; 1003 naming ``field`` when it is not one to fetch.

    Any ``Location`` a server sends ends here, never in an exception of its own: ``mailto:`` or
    ``data:`` must be a refusal, not an HTTP 500.
    """
    try:
        target = urljoin(current, location.strip())
        problem = _url_problem(target)
    except ValueError:  # urljoin refuses an unclosed IPv6 bracket ("//[::1")
        target, problem = location.strip(), "be a valid URL"
    if problem is not None:
        shown = target if len(target) <= 200 else target[:200] + "..."
        raise parameter_error(f"{field} was redirected to {shown}; a redirect target must {problem}")
    return target


async def _save_body(response: httpx.Response, out: BinaryIO, field: str, max_bytes: int, code: Code) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(field, max_bytes, code)
    received = 0
    # Count what arrives (after decompression), whatever the header claimed.
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(field, max_bytes, code)
        out.write(chunk)


def _timeout_error(field: str, progress: _Progress, settings: Settings) -> ApiError:
    limit = f"{settings.fetch_timeout_seconds:g} s"
    if progress.answered:
        return parameter_error(f"{field} did not finish downloading within {limit}")
    return parameter_error(f"{field} did not answer within {limit}")


def _transport_error(exc: Exception, field: str, progress: _Progress) -> ApiError | None:
    """The refusal to report for a failed request, or None when ``exc`` is not a network error."""
    blocked = blocked_cause(exc)
    if blocked is not None:
        verb = "was redirected to" if progress.redirected else "points to"
        return parameter_error(
            f"{field} {verb} a private or local address ({blocked.detail}), which this server "
            "does not fetch; set REELSMITH_ALLOW_NETWORKS to allow it"
        )
    if isinstance(exc, httpx.HTTPError):
        return parameter_error(f"{field} could not be fetched: {_describe(exc)}")
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` with its causes, contexts and grouped exceptions, outermost first."""
    found: list[BaseException] = []
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if any(current is known for known in found):
            continue
        found.append(current)
        pending.extend(getattr(current, "exceptions", ()))
        following = current.__cause__ or current.__context__
        if following is not None:
            pending.append(following)
    return found


def _describe(exc: httpx.HTTPError) -> str:
    """A short reason a caller can act on, from the lowest-level error we recognise."""
    reasons: list[tuple[type[BaseException], str]] = [
        (socket.gaierror, "the host name does not resolve"),
        (ConnectionRefusedError, "connection refused"),
        (ConnectionResetError, "the connection was reset"),
        (ssl.SSLCertVerificationError, "its TLS certificate is not valid"),
        (ssl.SSLError, "the TLS handshake failed"),
    ]
    chain = _chain(exc)
    for kind, reason in reasons:
        if any(isinstance(link, kind) for link in chain):
            return reason
    if isinstance(exc, httpx.ConnectError):
        return "the connection failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server did not answer with valid HTTP"
    return "the connection broke"


def _finish(part: Path, field: str, kind: Kind, source_url: str) -> FetchedInput:
    with part.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    sniffed = sniff(head, kind)
    if sniffed is None:
        part.unlink(missing_ok=True)
        raise parameter_error(f"{field} {_NOT_A[kind]}")
    suffix, content_type = sniffed
    final = part.with_suffix(suffix)
    os.replace(part, final)
    return FetchedInput(path=final, content_type=content_type, size=final.stat().st_size, source_url=source_url)


def sniff(head: bytes, kind: Kind) -> tuple[str, str] | None:
    """``(suffix, content type)`` when the first bytes of a file fit ``kind``, else None."""
    if kind == "image":
        return _sniff_image(head)
    if kind == "video":
        return _sniff_video(head)
    if kind == "audio":
        return _sniff_audio(head)
    return _sniff_caption(head)


def _sniff_image(head: bytes) -> tuple[str, str] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg", "image/jpeg"
    return None


def _sniff_video(head: bytes) -> tuple[str, str] | None:
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS or brand in _AUDIO_BRANDS:
            return None
        return ".mp4", "video/mp4"
    if box in _QUICKTIME_BOXES:
        return ".mp4", "video/quicktime"
    return None


def _is_mp3_frame(head: bytes) -> bool:
    # 11 sync bits, then a layer field that is not 00 (00 would be AAC in ADTS).
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


def _sniff_audio(head: bytes) -> tuple[str, str] | None:
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return ".mp3", "audio/mpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ".wav", "audio/wav"
    if head[4:8] == b"ftyp" and head[8:12] not in _IMAGE_BRANDS:
        return ".m4a", "audio/mp4"
    if head.startswith(b"OggS"):
        return ".ogg", "audio/ogg"
    if head.startswith(b"fLaC"):
        return ".flac", "audio/flac"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".webm", "audio/webm"
    return None


def _sniff_caption(head: bytes) -> tuple[str, str] | None:
    if b"\x00" in head:
        return None
    # The head may end inside a multi-byte character, so decode it as unfinished input.
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if _ASS_SECTION.search(text):
        return ".ass", "text/x-ssa"
    if _SRT_TIMING.search(text):
        return ".srt", "application/x-subrip"
    return None


def checked_webhook(url: str, field: str, allowed: Sequence[IPNetwork]) -> str:
    """An optional webhook URL: empty, or a well-formed http(s) URL whose host is not a private or
    local address in any notation, judged by the guard every delivery uses (so that a task is
    never charged for a webhook its deliveries would refuse). Host names are resolved and checked
    at each delivery, since DNS answers can change until then."""
    if not url.strip():
        return ""
    url = checked_url(url, field)
    try:
        check_url_host(url, allowed)
    except BlockedAddress as exc:
        raise ApiError(
            Code.PARAMETER,
            f"{field} points to a private or local address ({exc.detail}); set REELSMITH_ALLOW_NETWORKS to allow it",
        ) from exc
    return url
