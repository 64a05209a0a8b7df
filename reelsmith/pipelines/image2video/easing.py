"""Easing curves: how a move's progress (0 to 1) becomes its eased value.

Every curve maps 0 to 0 and 1 to 1. Some leave [0, 1] on the way, on purpose, because that is
what makes motion read as physical:

- ``anticipate`` pulls back about 9% before it goes (a wind-up), then glides in;
- ``overshoot`` goes about 9% past the end and settles back (momentum);
- ``elastic`` rings around the end like a spring and settles (damped oscillation);
- ``bounce`` lands, hops and lands again with shrinking hops, never passing the end.

The curves are polynomials, exponentials and parabolas evaluated on whole arrays, so the renderer
eases every frame of a clip in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

Easing = Literal["linear", "ease_in", "ease_out", "ease_in_out", "anticipate", "overshoot", "elastic", "bounce"]

# A free parameter of the quartic below: 4 gives a pull back of about 9% at t = 2/7.
_WIND_UP = 4.0
# Elastic: decay rate and angular frequency (2.5 half-swings) of the spring.
_ELASTIC_DECAY = 5.5
_ELASTIC_OMEGA = 5.0 * np.pi
# Bounce: the classic four-parabola landing; hops shrink by about a quarter each time.
_BOUNCE_N = 7.5625
_BOUNCE_D = 2.75


def linear(t: np.ndarray) -> np.ndarray:
    """Constant speed."""
    return t


def ease_in(t: np.ndarray) -> np.ndarray:
    """Starts at rest and accelerates (cubic)."""
    return t**3


def ease_out(t: np.ndarray) -> np.ndarray:
    """Starts at full speed and decelerates to rest (cubic)."""
    return 1.0 - (1.0 - t) ** 3


def ease_in_out(t: np.ndarray) -> np.ndarray:
    """Accelerates, then decelerates: at rest at both ends (cubic)."""
    return np.where(t < 0.5, 4.0 * t**3, 1.0 - (2.0 - 2.0 * t) ** 3 / 2.0)


def anticipate(t: np.ndarray) -> np.ndarray:
    """A small pull back first, then an ease to the end, at rest at both ends.

    The quartic ``-k t^2 + (4 + 2k) t^3 - (3 + k) t^4`` has zero slope at 0 and 1, a single dip
    and no overshoot.
    """
    k = _WIND_UP
    return -k * t**2 + (4.0 + 2.0 * k) * t**3 - (3.0 + k) * t**4


def overshoot(t: np.ndarray) -> np.ndarray:
    """Goes past the end and settles back, at rest at both ends (anticipate, mirrored)."""
    return 1.0 - anticipate(1.0 - t)


def elastic(t: np.ndarray) -> np.ndarray:
    """Springs towards the end, swings around it with shrinking swings, and settles on it."""
    ring = 1.0 - np.exp(-_ELASTIC_DECAY * t) * np.cos(_ELASTIC_OMEGA * t)
    # The spring has not fully settled at t = 1; a linear correction lands it exactly.
    at_end = 1.0 - np.exp(-_ELASTIC_DECAY) * np.cos(_ELASTIC_OMEGA)
    return ring + t * (1.0 - at_end)


def bounce(t: np.ndarray) -> np.ndarray:
    """Falls onto the end and bounces on it with smaller and smaller hops."""
    n, d = _BOUNCE_N, _BOUNCE_D
    return np.select(
        [t < 1.0 / d, t < 2.0 / d, t < 2.5 / d],
        [
            n * t**2,
            n * (t - 1.5 / d) ** 2 + 0.75,
            n * (t - 2.25 / d) ** 2 + 0.9375,
        ],
        n * (t - 2.625 / d) ** 2 + 0.984375,
    )


def smoothstep(x: np.ndarray) -> np.ndarray:
    """``3x^2 - 2x^3`` of ``x`` clipped to [0, 1]: a soft step with no slope at either end, for
    fades (not a move's easing, so not among :data:`CURVES`)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": linear,
    "ease_in": ease_in,
    "ease_out": ease_out,
    "ease_in_out": ease_in_out,
    "anticipate": anticipate,
    "overshoot": overshoot,
    "elastic": elastic,
    "bounce": bounce,
}


def ease(name: str, t: np.ndarray | float) -> np.ndarray:
    """The curve ``name`` at ``t`` (clipped to [0, 1]); an array of ``t``'s shape, float64.

    Raises ``ValueError`` for a name not in :data:`CURVES`.
    """
    try:
        curve = CURVES[name]
    except KeyError:
        raise ValueError(f"unknown easing {name!r}; use one of {', '.join(CURVES)}") from None
    return curve(np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0))
