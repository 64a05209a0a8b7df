"""Prices in credits, exactly as API.md states them (sections 3, 4 and 5)."""

from __future__ import annotations

import math

CHARACTER_SWAP_UNIT = {"480p": 5, "720p": 10, "1080p": 15}
IMAGE2VIDEO_5S = {"720p": 20, "1080p": 25, "4k": 30}
TRANSLATION_UNIT = 5
ADD_AUDIO_UNIT = 5


def _fives(seconds: float) -> int:
    """Started 5-second blocks; a hair over a block (float noise) does not start a new one."""
    return max(1, math.ceil(round(seconds, 3) / 5))


def character_swap_price(seconds: float, resolution: str) -> int:
    """ceil(seconds / 5) x 5 / 10 / 15 at 480p / 720p / 1080p; 12 s at 720p = 30."""
    return _fives(seconds) * CHARACTER_SWAP_UNIT[resolution]


def translation_price(seconds: float, lipsync: bool) -> int:
    """Per target language: ceil(seconds / 5) x 5, doubled with lip-sync."""
    return _fives(seconds) * TRANSLATION_UNIT * (2 if lipsync else 1)


def image2video_price(resolution: str, video_length: int) -> int:
    """20 / 25 / 30 for 5 s at 720p / 1080p / 4k; twice that for 10 s. Audio is free."""
    return IMAGE2VIDEO_5S[resolution] * (video_length // 5)


def add_audio_price(seconds: float) -> int:
    """updateVideoAudio: 5 credits per started 5 seconds."""
    return _fives(seconds) * ADD_AUDIO_UNIT
