"""Small SVG pictures for the catalogs: a badge per language (the language list's ``url`` and
``flag_url``) and an avatar per voice (``thumbnailUrl``). They are ours, drawn from the code
alone: national flags would say a country where the list means a language."""

from __future__ import annotations

import hashlib
from html import escape

SVG_TYPE = "image/svg+xml"


def _hue(text: str) -> int:
    return hashlib.sha1(text.encode()).digest()[0] * 360 // 256


def language_badge(code: str) -> str:
    """A 48x32 rounded badge with the language code (``ES``, ``ZH-TW``) on a colour of its own."""
    label = escape(code.upper())
    size = 15 if len(code) <= 2 else 10
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="32" viewBox="0 0 48 32" role="img" '
        f'aria-label="{label}"><rect width="48" height="32" rx="6" fill="hsl({_hue(code)},55%,38%)"/>'
        f'<text x="24" y="21" text-anchor="middle" font-family="DejaVu Sans,Arial,sans-serif" '
        f'font-size="{size}" font-weight="bold" fill="#fff">{label}</text></svg>'
    )


def voice_avatar(voice_id: str, language_code: str, name: str, gender: str) -> str:
    """A 64x64 round avatar: the voice's language code and gender initial, coloured by voice."""
    initial = "F" if gender.lower().startswith("f") else "M"
    label = escape(f"{language_code.upper()} {initial}")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" '
        f'aria-label="{escape(name)}"><circle cx="32" cy="32" r="32" fill="hsl({_hue(voice_id)},45%,42%)"/>'
        f'<text x="32" y="38" text-anchor="middle" font-family="DejaVu Sans,Arial,sans-serif" '
        f'font-size="16" font-weight="bold" fill="#fff">{label}</text></svg>'
    )
