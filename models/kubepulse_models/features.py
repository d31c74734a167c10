"""Classifier features of one window of normalised usage (vectorised over a batch of windows).

``functions/inference/core/features.ts`` is an exact port of this file: any change here must be made
there too (the TS test compares both on the test vectors in models/dist/metadata.json).

All arithmetic is float64; the classifier sees the result cast to float32. Windows are already normalised
by the pod's limit (1.0 = at the limit), so absolute thresholds are meaningful and the scale floors below
are in limit units. Let x[0..n-1] be the window, t = 0..n-1, d[i] = x[i+1] - x[i] (n-1 diffs):

=================  ======================================================================================
feature            definition
=================  ======================================================================================
last               x[n-1]
mean               sum(x) / n
std                population std of x
min, max           min / max of x
slope_window       OLS slope of x on t, times (n-1): the fitted rise across the window
r2                 (ss_tot - ss_res) / (ss_tot + R2_EPS), clipped to [0, 1]; 0 for a flat window
resid_std          sqrt(ss_res / n), residuals of the OLS line
z_last             (last - mean) / (std + SCALE_FLOOR)
z_last_resid       residual of the last sample / (resid_std + SCALE_FLOOR)
noise              robust std of the diffs: 1.4826 * median(|d - median(d)|)
max_jump_z         max |d - median(d)| / (noise + SCALE_FLOOR)
last_jump_z        (d[n-2] - median(d)) / (noise + SCALE_FLOOR) (signed)
jump_age           n-2 - argmax |d - median(d)| (first maximum): 0 when the largest jump is the newest
big_drop_count     count of d < -BIG_DROP (a drop of more than 10 % of the limit in one step)
recent_slope       OLS slope of the last RECENT samples, times (RECENT-1)
recent_std         population std of the last RECENT samples
recent_shift_z     (mean of last SHIFT_TAIL - mean of the rest) / (std of the rest + SCALE_FLOOR)
frac_near_limit    fraction of samples >= NEAR_LIMIT
=================  ======================================================================================

Medians of an odd count are the middle element; of an even count, the mean of the two middle elements.
"""

from __future__ import annotations

import numpy as np

SCALE_FLOOR = 1e-3
R2_EPS = 1e-9
MAD_TO_STD = 1.4826
BIG_DROP = 0.1
RECENT = 16
SHIFT_TAIL = 8
NEAR_LIMIT = 0.95

FEATURE_NAMES: tuple[str, ...] = (
    "last",
    "mean",
    "std",
    "min",
    "max",
    "slope_window",
    "r2",
    "resid_std",
    "z_last",
    "z_last_resid",
    "noise",
    "max_jump_z",
    "last_jump_z",
    "jump_age",
    "big_drop_count",
    "recent_slope",
    "recent_std",
    "recent_shift_z",
    "frac_near_limit",
)


def _ols(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: mean, slope per step and residuals of the least-squares line."""
    n = x.shape[1]
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    stt = np.sum(t * t)
    mean = np.sum(x, axis=1) / n
    xc = x - mean[:, None]
    slope = np.sum(t[None, :] * xc, axis=1) / stt
    resid = xc - slope[:, None] * t[None, :]
    return mean, slope, resid


def extract_features(windows: np.ndarray) -> np.ndarray:
    """``windows`` [N, n] (any float dtype, n >= RECENT + 1) -> float32 [N, len(FEATURE_NAMES)]."""
    x = np.asarray(windows, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < max(RECENT, SHIFT_TAIL + 2):
        raise ValueError(f"expected [N, n>={RECENT}] windows, got {x.shape}")
    n = x.shape[1]
    last = x[:, -1]

    mean, slope, resid = _ols(x)
    xc = x - mean[:, None]
    ss_tot = np.sum(xc * xc, axis=1)
    ss_res = np.sum(resid * resid, axis=1)
    std = np.sqrt(ss_tot / n)
    resid_std = np.sqrt(ss_res / n)
    r2 = np.clip((ss_tot - ss_res) / (ss_tot + R2_EPS), 0.0, 1.0)

    d = x[:, 1:] - x[:, :-1]
    d_med = np.median(d, axis=1)
    dev = np.abs(d - d_med[:, None])
    noise = MAD_TO_STD * np.median(dev, axis=1)
    arg = np.argmax(dev, axis=1)
    max_dev = dev[np.arange(len(x)), arg]

    r_mean, r_slope, _ = _ols(x[:, -RECENT:])
    rc = x[:, -RECENT:] - r_mean[:, None]
    recent_std = np.sqrt(np.sum(rc * rc, axis=1) / RECENT)

    head = x[:, : n - SHIFT_TAIL]
    head_mean = np.sum(head, axis=1) / (n - SHIFT_TAIL)
    hc = head - head_mean[:, None]
    head_std = np.sqrt(np.sum(hc * hc, axis=1) / (n - SHIFT_TAIL))
    tail_mean = np.sum(x[:, n - SHIFT_TAIL :], axis=1) / SHIFT_TAIL

    cols = (
        last,
        mean,
        std,
        np.min(x, axis=1),
        np.max(x, axis=1),
        slope * (n - 1),
        r2,
        resid_std,
        (last - mean) / (std + SCALE_FLOOR),
        resid[:, -1] / (resid_std + SCALE_FLOOR),
        noise,
        max_dev / (noise + SCALE_FLOOR),
        (d[:, -1] - d_med) / (noise + SCALE_FLOOR),
        (n - 2 - arg).astype(np.float64),
        np.sum(d < -BIG_DROP, axis=1).astype(np.float64),
        r_slope * (RECENT - 1),
        recent_std,
        (tail_mean - head_mean) / (head_std + SCALE_FLOOR),
        np.sum(x >= NEAR_LIMIT, axis=1) / n,
    )
    assert len(cols) == len(FEATURE_NAMES)
    return np.stack(cols, axis=1).astype(np.float32)
