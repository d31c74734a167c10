"""Cut synthetic series into model windows."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .synthetic import KINDS, Series


def classifier_windows(
    series: list[Series], window: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows ending at every ``stride``-th sample. The label of a window is the label of its last sample
    ("is the pod anomalous now"). Returns windows float32 [N, window], labels uint8 [N], kind index [N]."""
    xs, ys, ks = [], [], []
    for s in series:
        ends = np.arange(window - 1, len(s.values), stride)
        xs.append(sliding_window_view(s.values, window)[ends - window + 1])
        ys.append(s.labels[ends])
        ks.append(np.full(len(ends), KINDS.index(s.kind), dtype=np.int8))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ks)


def forecaster_windows(
    series: list[Series], window: int, horizons: tuple[int, ...], stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows with their forecast targets ``h`` steps after the last sample (the series' continuation
    without later events or limit enforcement, see synthetic.py). Returns windows float32 [N, window],
    target values float32 [N, len(horizons)], kind index [N]."""
    hmax = max(horizons)
    h = np.asarray(horizons)
    xs, ys, ks = [], [], []
    for s in series:
        ends = np.arange(window - 1, len(s.values) - hmax, stride)
        xs.append(sliding_window_view(s.values, window)[ends - window + 1])
        ys.append(s.targets(ends, h))
        ks.append(np.full(len(ends), KINDS.index(s.kind), dtype=np.int8))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ks)
