"""Who says each line: lines clustered by the sound of their voice.

Each line's voice is described by the mean and spread of its mel-cepstral coefficients (the
shape of the vocal tract) and its median pitch, taken over its voiced frames. The lines are
clustered with Ward's method. With ``speaker_num`` given, that many clusters; with 0, the
number (1 to 4) whose clusters are best separated (silhouette), and one speaker unless two or
more are clearly apart. Pitch weighs most: a man and a woman are told apart reliably, two
voices of similar pitch often are not, and then ``speaker_num`` forces the split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.fft import dct, rfft
from scipy.spatial.distance import pdist, squareform

from reelsmith.pipelines.video_translation.captions import Line

SAMPLE_RATE = 16_000
MAX_DETECTED = 4
# Below this silhouette, clusters are not clearly apart: one speaker.
_SEPARATED = 0.35
_PITCH_WEIGHT = 3.0
_FRAME, _HOP, _BANDS, _COEFFS = 400, 160, 26, 13


def speaker_labels(audio: np.ndarray, lines: Sequence[Line], speaker_num: int) -> list[int]:
    """A speaker number (0, 1, ...) per line, numbered by who speaks first."""
    if len(lines) < 2 or speaker_num == 1:
        return [0] * len(lines)
    features = np.array([voice_features(_clip(audio, line)) for line in lines])
    spread = features.std(axis=0)
    features = (features - features.mean(axis=0)) / np.where(spread > 1e-9, spread, 1.0)
    # Pitch tells voices apart more reliably than 24 cepstral numbers that also vary with what
    # is said, so it counts as much as nine of them.
    features[:, -1] *= _PITCH_WEIGHT
    tree = linkage(features, method="ward")
    if speaker_num > 0:
        labels = fcluster(tree, t=min(speaker_num, len(lines)), criterion="maxclust")
    else:
        labels = _best_split(tree, features)
    first_seen: dict[int, int] = {}
    for label in labels:
        first_seen.setdefault(int(label), len(first_seen))
    return [first_seen[int(label)] for label in labels]


def _best_split(tree: np.ndarray, features: np.ndarray) -> np.ndarray:
    distances = squareform(pdist(features))
    best, best_score = np.ones(len(features), dtype=int), _SEPARATED
    for count in range(2, min(MAX_DETECTED, len(features) - 1) + 1):
        labels = fcluster(tree, t=count, criterion="maxclust")
        score = _silhouette(distances, labels)
        if score > best_score:
            best, best_score = labels, score
    return best


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    clusters = np.unique(labels)
    if len(clusters) < 2:
        return -1.0
    scores = []
    for index, label in enumerate(labels):
        own = labels == label
        if own.sum() < 2:
            scores.append(0.0)
            continue
        inside = distances[index, own].sum() / (own.sum() - 1)
        outside = min(distances[index, labels == other].mean() for other in clusters if other != label)
        scores.append((outside - inside) / max(inside, outside, 1e-9))
    return float(np.mean(scores))


def _clip(audio: np.ndarray, line: Line) -> np.ndarray:
    return audio[int(line.start * SAMPLE_RATE) : int(line.end * SAMPLE_RATE)]


def voice_features(samples: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of 12 mel-cepstral coefficients, and log median pitch,
    over the voiced frames of 16 kHz ``samples``."""
    frames = _frames(samples)
    energy = (frames**2).mean(axis=1)
    voiced = frames[energy >= np.quantile(energy, 0.5)]
    coefficients = _cepstra(voiced)
    return np.concatenate([coefficients.mean(axis=0), coefficients.std(axis=0), [np.log(_median_pitch(voiced))]])


def median_pitch(samples: np.ndarray) -> float:
    """The median pitch (Hz) of the voiced half of 16 kHz ``samples``."""
    frames = _frames(samples)
    energy = (frames**2).mean(axis=1)
    return _median_pitch(frames[energy >= np.quantile(energy, 0.5)])


def cepstra(samples: np.ndarray) -> np.ndarray:
    """12 mel-cepstral coefficients per 25 ms frame (10 ms apart) of 16 kHz ``samples``."""
    return _cepstra(_frames(samples))


def _frames(samples: np.ndarray) -> np.ndarray:
    if len(samples) < _FRAME * 2:
        samples = np.pad(samples, (0, _FRAME * 2 - len(samples)))
    count = 1 + (len(samples) - _FRAME) // _HOP
    return np.lib.stride_tricks.sliding_window_view(samples, _FRAME)[::_HOP][:count] * np.hanning(_FRAME)


def _cepstra(frames: np.ndarray) -> np.ndarray:
    power = np.abs(rfft(frames, n=512, axis=1)) ** 2
    return dct(np.log(power @ _mel_bank().T + 1e-10), type=2, axis=1, norm="ortho")[:, 1:_COEFFS]


def _median_pitch(frames: np.ndarray) -> float:
    """Median fundamental frequency (70-400 Hz) of the frames, by YIN: the first lag whose
    cumulative-mean-normalised difference dips under 0.15 (else the lowest one), which avoids
    the octave errors of a plain autocorrelation peak."""
    shortest, longest = SAMPLE_RATE // 400, SAMPLE_RATE // 70
    window = _FRAME - longest
    lags = np.arange(1, longest + 1)
    difference = np.stack(
        [((frames[:, :window] - frames[:, lag : lag + window]) ** 2).sum(axis=1) for lag in lags], axis=1
    )
    normalised = difference * lags / np.maximum(np.cumsum(difference, axis=1), 1e-12)
    candidates = normalised[:, shortest - 1 :]
    below = candidates < 0.15
    first = np.where(below.any(axis=1), below.argmax(axis=1), candidates.argmin(axis=1))
    # Walk down to the bottom of the dip the threshold found.
    for row, index in enumerate(first):
        while index + 1 < candidates.shape[1] and candidates[row, index + 1] < candidates[row, index]:
            index += 1
        first[row] = index
    return float(np.median(SAMPLE_RATE / (first + shortest)))


def _mel_bank() -> np.ndarray:
    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 2595 * np.log10(1 + np.asarray(hz) / 700)

    edges_mel = np.linspace(mel(60), mel(7600), _BANDS + 2)
    edges = np.floor((512 + 1) * (700 * (10 ** (edges_mel / 2595) - 1)) / SAMPLE_RATE).astype(int)
    bank = np.zeros((_BANDS, 257))
    for band in range(_BANDS):
        low, centre, high = edges[band : band + 3]
        bank[band, low:centre] = (np.arange(low, centre) - low) / max(centre - low, 1)
        bank[band, centre:high] = (high - np.arange(centre, high)) / max(high - centre, 1)
    return bank
