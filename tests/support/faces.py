"""Measuring faces in test output."""

from __future__ import annotations

import numpy as np

from reelsmith.faces.landmarks import mesh_triangles
from reelsmith.faces.mesh_warp import warp_mesh
from reelsmith.pipelines.character_swap.character import Character


def _normalised(pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    values = pixels.astype(np.float32)
    inside = values[mask]
    return (values - inside.mean(axis=0)) / (inside.std(axis=0) + 1e-6)


def texture_distance(frame: np.ndarray, points: np.ndarray, character: Character) -> float:
    """How far the face on ``frame`` (at ``points``) is from the character's, with lighting and
    colour cast taken out: the face is warped into the character's layout, both are normalised
    per channel, and the mean absolute difference is taken."""
    size = (character.texture.shape[1], character.texture.shape[0])
    patch = warp_mesh(frame, points[:, :2], character.points[:, :2], mesh_triangles(), size)
    assert patch is not None
    mask = patch.covered
    reference = character.texture[patch.box.slices]
    return float(np.abs(_normalised(patch.pixels, mask)[mask] - _normalised(reference, mask)[mask]).mean())
