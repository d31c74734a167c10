"""Seeded generator of labelled synthetic pod-metric series.

Every series is one metric (memory or CPU usage) sampled every STEP_SECONDS and already normalised by the
pod's limit, so observed values live in [0, VALUE_MAX] and 1.0 means "at the limit". A series is a
background (flat, diurnal or GC sawtooth) plus AR(1) noise (sigma 0.002..0.03) plus at most one kind of
injected behaviour. Each sample carries a 0/1 anomaly label:

==================  =====================================================================================
kind                label = 1 on ...  (1 = "heading for resource exhaustion", not "unusual")
==================  =====================================================================================
healthy             nothing (flat level anywhere in 0.05..0.92, incl. high-but-healthy utilisation; 20 %
                    of them exactly constant, like an idle pod)
diurnal             nothing (sinusoidal load, period 6..24 h, amplitude 0.05..0.3)
gc_sawtooth         nothing (linear growth then a sharp drop every 10..120 steps)
leak_linear         samples where the leak grew by >= LEAK_LABEL_RISE (5 % of the limit) over the last
leak_accelerating   LEAK_LABEL_RISE_STEPS (64) samples, i.e. the trend is visible inside one window; a
leak_stepwise       leak reaching the OOM level (0.98..1.05) is killed and restarts (benign warm-up), then
                    leaks again from zero. Slower leaks stay 0 (time-to-limit is the forecaster's job)
spikes              nothing: 1..3-sample spikes up or down are noise, not exhaustion
level_shift         nothing: a deploy moving the level is not heading anywhere
restart             nothing: restarts (1..3, incl. long warm-ups) are events, not exhaustion
cpu_saturation      samples where demand exceeds the throttling cap (usage pinned on a plateau ~0.96..1.0)
batch_jobs          nothing: jobs every 0.5..4 h growing memory for 5..60 min up to 0.4..0.85, then freeing
                    it (or holding a CPU plateau at 0.5..0.93)
slow_gc             nothing: a high heap sawtooth with long cycles (30 min..2 h) peaking at 0.6..0.92
daily_high          nothing: a smooth daily cycle (12..24 h) whose peak reaches 0.75..0.92
limit_change        nothing: the limit is raised 1.3..3x (the normalised value drops), usage may grow
                    into the new limit up to <= 0.8 of it
saturation_ramp     CPU demand ramping (linear or quadratic, 15 min..4 h) into the throttling cap: the
                    ramp samples whose rise over the last 64 samples is >= LEAK_LABEL_RISE and that are
                    within SATURATION_LABEL_STEPS of the cap, then the throttled plateau
==================  =====================================================================================

Forecast targets. Each series is built as a background followed by *events* (leak onset, OOM kill, spike,
level shift, restart, CPU burst) applied in time order. After each event the generator keeps the
*continuation*: the trajectory the series would follow if no further event happened and the pod were not
OOM-killed (clipped to TARGET_MAX). The forecaster's target for a window ending at t is the continuation
of the last event at or before t, so it learns "where is this heading" instead of guessing unforeseeable
future surprises, and a leak heading for the limit keeps heading there past 1.0 (this is what the
time-to-limit prediction needs). CPU usage cannot exceed its limit, so CPU continuations keep the
throttling plateau.

Randomness comes only from ``numpy.random.default_rng([seed, split, index])``, so a series depends on the
root seed, the split id and its index, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

STEP_SECONDS = 30
VALUE_MAX = 1.2
TARGET_MAX = 1.5

LEAK_LABEL_RISE = 0.05
LEAK_LABEL_RISE_STEPS = 64
SATURATION_LABEL_STEPS = 240

KINDS: tuple[str, ...] = (
    "healthy",
    "diurnal",
    "gc_sawtooth",
    "leak_linear",
    "leak_accelerating",
    "leak_stepwise",
    "spikes",
    "level_shift",
    "restart",
    "cpu_saturation",
    "batch_jobs",
    "slow_gc",
    "daily_high",
    "limit_change",
    "saturation_ramp",
)
KIND_WEIGHTS: tuple[float, ...] = (
    0.08, 0.06, 0.07, 0.13, 0.08, 0.06, 0.06, 0.07, 0.07, 0.06, 0.08, 0.03, 0.05, 0.05, 0.05
)
BENIGN_KINDS: tuple[str, ...] = (
    "healthy", "diurnal", "gc_sawtooth", "spikes", "level_shift", "restart",
    "batch_jobs", "slow_gc", "daily_high", "limit_change",
)


@dataclass(frozen=True)
class Series:
    kind: str
    values: np.ndarray  # float32 [L], observed
    labels: np.ndarray  # uint8 [L]
    segment_starts: np.ndarray  # int64 [K], segment_starts[0] == 0, increasing
    continuations: np.ndarray  # float32 [K, L], continuation after the event starting segment k

    def targets(self, ends: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Forecast targets [len(ends), len(horizons)] for windows ending at ``ends``."""
        seg = np.searchsorted(self.segment_starts, ends, side="right") - 1
        return self.continuations[seg[:, None], ends[:, None] + horizons[None, :]]


class _Events:
    """Collects (start, continuation) pairs; events must be added in non-decreasing time order."""

    def __init__(self, x0: np.ndarray):
        self.starts = [0]
        self.conts = [x0.copy()]

    def add(self, t: int, continuation: np.ndarray) -> None:
        if t <= self.starts[-1]:  # same time as (or before) the current segment: it replaces it
            self.conts[-1] = continuation.copy()
        else:
            self.starts.append(int(t))
            self.conts.append(continuation.copy())

    def observed(self) -> np.ndarray:
        n = len(self.conts[0])
        out = np.empty(n)
        bounds = [*self.starts, n]
        for k, c in enumerate(self.conts):
            out[bounds[k] : bounds[k + 1]] = c[bounds[k] : bounds[k + 1]]
        return out


# ---------------------------------------------------------------------------------------------- pieces


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """AR(1) noise with marginal std ``sigma``."""
    phi = rng.uniform(0.0, 0.7)
    z = rng.normal(0.0, sigma, n)
    return lfilter([np.sqrt(1.0 - phi * phi)], [1.0, -phi], z)


def _sawtooth(rng: np.random.Generator, n: int, amplitude: float, period: float) -> np.ndarray:
    """GC-like sawtooth: linear growth over each (jittered) cycle, then an instant drop to the floor."""
    out = np.empty(n)
    t = -int(rng.integers(0, max(1, int(period))))
    while t < n:
        length = max(3, int(round(period * rng.uniform(0.85, 1.15))))
        peak = amplitude * rng.uniform(0.85, 1.15)
        ramp = peak * np.arange(length) / (length - 1)
        lo, hi = max(t, 0), min(t + length, n)
        if hi > lo:
            out[lo:hi] = ramp[lo - t : hi - t]
        t += length
    return out


def _background(rng: np.random.Generator, n: int, level: float, shape: str) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    if shape == "flat":
        return np.full(n, level)
    if shape == "diurnal":
        amp = rng.uniform(0.05, max(0.06, min(0.3, 0.95 - level, level - 0.02)))
        period = rng.uniform(720.0, 2880.0)
        return level + amp * np.sin(2.0 * np.pi * t / period + rng.uniform(0.0, 2.0 * np.pi))
    if shape == "sawtooth":
        amp = rng.uniform(0.05, max(0.06, min(0.3, 0.95 - level)))
        return level + _sawtooth(rng, n, amp, rng.uniform(10.0, 120.0))
    raise ValueError(shape)


def _restarted(
    rng: np.random.Generator, x: np.ndarray, t_r: int, max_tau: float = 40.0
) -> tuple[np.ndarray, int]:
    """Container restart at t_r: drop to a low level for a few samples, then an exponential warm-up back
    towards ``x`` (benign: nothing is labelled). Returns the new full-length series and the index where the
    warm-up starts."""
    n = len(x)
    low = rng.uniform(0.0, 0.08)
    start = min(n, t_r + int(rng.integers(1, 7)))
    tau = rng.uniform(3.0, max_tau)
    y = x.copy()
    y[t_r:start] = low
    k = np.arange(n - start, dtype=np.float64)
    y[start:] = low + (x[start:] - low) * (1.0 - np.exp(-(k + 1.0) / tau))
    return y, start


def _leak_component(rng: np.random.Generator, kind: str, n: int, headroom: float) -> np.ndarray:
    """Leak contribution over ``n`` samples from its onset; the smooth kinds fill ``headroom`` in T steps."""
    k = np.arange(n, dtype=np.float64)
    big_t = _loguniform(rng, 60.0, 1500.0)
    if kind == "leak_linear":
        return headroom * k / big_t
    if kind == "leak_accelerating":
        if rng.random() < 0.5:
            return headroom * (k / big_t) ** 2
        rate = rng.uniform(2.0, 5.0) / big_t
        return headroom * np.expm1(rate * k) / np.expm1(rate * big_t)
    # stepwise: jumps of ~mean_step every ~mean_gap samples (a cache growing in chunks)
    mean_step = rng.uniform(0.02, 0.08)
    mean_gap = rng.uniform(8.0, 60.0)
    comp = np.zeros(n)
    t = int(rng.exponential(mean_gap))
    while t < n:
        comp[t:] += mean_step * rng.uniform(0.5, 1.5)
        t += 1 + int(rng.exponential(mean_gap))
    return comp


# ---------------------------------------------------------------------------------------------- kinds


def _leak(rng: np.random.Generator, kind: str, n: int, noise: np.ndarray) -> tuple[_Events, np.ndarray]:
    level = rng.uniform(0.15, 0.55)
    shape = str(rng.choice(["flat", "flat", "sawtooth", "diurnal"]))
    base = _background(rng, n, level, shape) + noise  # what the pod does without the leak
    ev = _Events(base)
    labels = np.zeros(n, dtype=np.uint8)
    onset = int(rng.integers(-100, int(0.6 * n)))
    oom = rng.uniform(0.98, 1.05)
    while onset < n:
        lo = max(onset, 0)
        full = _leak_component(rng, kind, n - onset, 1.0 - level)
        # leak growth over the last LEAK_LABEL_RISE_STEPS samples (counting 0 before the onset)
        rise = full - np.concatenate([np.zeros(LEAK_LABEL_RISE_STEPS), full])[: len(full)]
        leaking = base.copy()
        leaking[lo:] += full[lo - onset :]
        ev.add(onset, leaking)
        hit = np.flatnonzero(leaking[lo:] >= oom)
        end = n if len(hit) == 0 else lo + int(hit[0])
        labels[lo:end] |= (rise[lo - onset : end - onset] >= LEAK_LABEL_RISE).astype(np.uint8)
        if end == n:
            break
        # OOM kill: the container restarts (back to the leak-free base), then the leak starts again
        base, onset = _restarted(rng, base, end)
        ev.add(end, base)
    return ev, labels


def _spikes(rng: np.random.Generator, n: int, noise: np.ndarray, sigma: float) -> tuple[_Events, np.ndarray]:
    level = rng.uniform(0.1, 0.7)
    x = _background(rng, n, level, str(rng.choice(["flat", "diurnal", "sawtooth"]))) + noise
    ev = _Events(x)
    labels = np.zeros(n, dtype=np.uint8)
    for t in np.sort(rng.integers(0, n, 1 + int(rng.poisson(3.0)))):
        t = int(t)
        sl = slice(t, min(n, t + int(rng.integers(1, 4))))
        mag = max(rng.uniform(0.12, 0.6), 8.0 * sigma)
        if rng.random() < 0.8:
            x[sl] += mag
        else:
            x[sl] = np.maximum(x[sl] - mag, rng.uniform(0.0, 0.03))
        ev.add(t, x)
    return ev, labels


def _level_shift(
    rng: np.random.Generator, n: int, noise: np.ndarray, sigma: float
) -> tuple[_Events, np.ndarray]:
    level = rng.uniform(0.1, 0.8)
    shape = str(rng.choice(["flat", "flat", "diurnal", "sawtooth"]))
    x = _background(rng, n, level, shape) + noise
    ev = _Events(x)
    labels = np.zeros(n, dtype=np.uint8)
    for t_s in np.sort(rng.integers(16, n, 1 + int(rng.random() < 0.35))):
        t_s = int(t_s)
        mag = max(rng.uniform(0.08, 0.35), 6.0 * sigma)
        up = level + mag <= 0.95 and (level - mag < 0.05 or rng.random() < 0.5)
        delta = mag if up else -mag
        ramp = int(rng.integers(1, 5))
        x[t_s:] += np.clip((np.arange(n - t_s, dtype=np.float64) + 1.0) / ramp, 0.0, 1.0) * delta
        level += delta
        ev.add(t_s, x)
    return ev, labels


def _restart(rng: np.random.Generator, n: int, noise: np.ndarray) -> tuple[_Events, np.ndarray]:
    level = rng.uniform(0.2, 0.8)
    x = _background(rng, n, level, str(rng.choice(["flat", "diurnal", "sawtooth"]))) + noise
    ev = _Events(x)
    labels = np.zeros(n, dtype=np.uint8)
    for t_r in np.sort(rng.integers(0, n, 1 + int(rng.integers(0, 3)))):
        x, _ = _restarted(rng, x, int(t_r), max_tau=120.0)
        ev.add(int(t_r), x)
    return ev, labels


def _cpu_saturation(rng: np.random.Generator, n: int) -> tuple[_Events, np.ndarray]:
    """Demand = background + bursts (each an event); usage = demand throttled at a cap just below 1.0."""
    level = rng.uniform(0.3, 0.7)
    demand = _background(rng, n, level, str(rng.choice(["flat", "diurnal"]))) + _noise(
        rng, n, rng.uniform(0.01, 0.05)
    )
    ev = _Events(demand)
    for t0 in np.sort(rng.integers(-40, n, 1 + int(rng.integers(0, 3)))):
        t0 = int(t0)
        env = np.concatenate(
            [
                np.linspace(0.0, 1.0, int(rng.integers(2, 31)), endpoint=False),
                np.ones(int(rng.integers(20, 201))),
                np.linspace(1.0, 0.0, int(rng.integers(2, 31))),
            ]
        )
        peak = rng.uniform(1.05, 1.6) - level
        lo, hi = max(t0, 0), min(t0 + len(env), n)
        if hi > lo:
            demand[lo:hi] += peak * env[lo - t0 : hi - t0]
        ev.add(t0, demand)
    cap = rng.uniform(0.96, 1.0)
    plateau = cap - np.abs(rng.normal(0.0, rng.uniform(0.002, 0.01), n))
    labels = (ev.observed() >= cap).astype(np.uint8)
    # usage cannot exceed the limit: the throttling plateau is part of every continuation too
    ev.conts = [np.where(c >= cap, plateau, c) for c in ev.conts]
    return ev, labels


def _batch_jobs(rng: np.random.Generator, n: int, noise: np.ndarray) -> tuple[_Events, np.ndarray]:
    """Jobs at irregular intervals on a quiet pod. Memory grows through a job (linear, concave or convex) and
    is freed when it ends; CPU holds a plateau. A job's continuation holds its peak: when it ends is not
    foreseeable, but that it stops growing below the limit is what a batch job does."""
    base = rng.uniform(0.03, 0.4)
    memory = rng.random() < 0.7
    quiet = _background(rng, n, base, str(rng.choice(["flat", "flat", "diurnal"]))) + noise
    ev = _Events(quiet)
    k = np.arange(n, dtype=np.float64)
    t = int(rng.integers(-120, 240))
    while t < n:
        duration = int(rng.integers(10, 121))
        peak = rng.uniform(max(0.4, base + 0.1), 0.85)
        rel = np.clip((k - t + 1.0) / duration, 0.0, 1.0)
        if memory:
            shape = rel ** rng.uniform(0.5, 1.6)
        else:
            shape = np.clip((k - t + 1.0) / int(rng.integers(1, 7)), 0.0, 1.0)
        job = np.where(k >= t, (peak - base) * shape, 0.0)
        end = t + duration
        ev.add(t, quiet + job)
        if end < n:
            ev.add(end, quiet)
        t = end + int(rng.integers(60, 481))
    return ev, np.zeros(n, dtype=np.uint8)


def _slow_gc(rng: np.random.Generator, n: int, noise: np.ndarray) -> np.ndarray:
    """A big heap collected rarely: a sawtooth with cycles of 30 min..2 h peaking high under the limit."""
    floor = rng.uniform(0.3, 0.65)
    peak = rng.uniform(max(0.6, floor + 0.1), 0.92)
    return floor + _sawtooth(rng, n, peak - floor, rng.uniform(60.0, 240.0)) + noise


def _daily_high(rng: np.random.Generator, n: int, noise: np.ndarray) -> np.ndarray:
    """A smooth daily cycle whose peak comes close to the limit (a window sees a slow, steady rise)."""
    peak = rng.uniform(0.75, 0.92)
    amp = rng.uniform(0.1, 0.35)
    period = rng.uniform(1440.0, 2880.0)
    t = np.arange(n, dtype=np.float64)
    return peak - amp + amp * np.sin(2.0 * np.pi * t / period + rng.uniform(0.0, 2.0 * np.pi)) + noise


def _limit_change(rng: np.random.Generator, n: int, noise: np.ndarray) -> tuple[_Events, np.ndarray]:
    """The limit is raised by 1.3..3x: the normalised value drops at once, then (half the time) usage grows
    into the new room towards at most 0.8 of it, like a heap sized as a share of the limit."""
    level = rng.uniform(0.3, 0.85)
    x = _background(rng, n, level, str(rng.choice(["flat", "diurnal", "sawtooth"]))) + noise
    ev = _Events(x)
    t_c = int(rng.integers(16, n - 16))
    factor = rng.uniform(1.3, 3.0)
    y = x.copy()
    y[t_c:] = x[t_c:] / factor
    if rng.random() < 0.5:
        target = rng.uniform(level / factor + 0.05, 0.8)
        k = np.arange(n - t_c, dtype=np.float64)
        y[t_c:] += (target - level / factor) * (1.0 - np.exp(-(k + 1.0) / rng.uniform(20.0, 240.0)))
    ev.add(t_c, y)
    return ev, np.zeros(n, dtype=np.uint8)


def _saturation_ramp(rng: np.random.Generator, n: int, noise: np.ndarray) -> tuple[_Events, np.ndarray]:
    """CPU demand ramping into the throttling cap (linear or quadratic, reaching it 30..480 steps after the
    ramp starts), then throttled. Labelled: the visible part of the ramp close to the cap, and the plateau."""
    level = rng.uniform(0.15, 0.6)
    x = _background(rng, n, level, str(rng.choice(["flat", "flat", "diurnal"]))) + noise
    ev = _Events(x)
    cap = rng.uniform(0.96, 1.0)
    t0 = int(rng.integers(-100, n - 32))
    to_cap = _loguniform(rng, 30.0, 480.0)
    power = 1.0 if rng.random() < 0.5 else 2.0
    k = np.arange(n, dtype=np.float64) - t0
    ramp = np.where(k >= 0, (cap - level + 0.1) * (np.maximum(k, 0.0) / to_cap) ** power, 0.0)
    demand = x + ramp
    plateau = cap - np.abs(rng.normal(0.0, rng.uniform(0.002, 0.01), n))
    usage = np.where(demand >= cap, plateau, demand)
    ev.add(t0, usage)
    rise = ramp - np.concatenate([np.zeros(LEAK_LABEL_RISE_STEPS), ramp])[:n]
    hit = np.flatnonzero(demand >= cap)
    first_hit = int(hit[0]) if len(hit) else n + 10**6
    near = (first_hit - np.arange(n)) <= SATURATION_LABEL_STEPS
    labels = ((rise >= LEAK_LABEL_RISE) & near & (k >= 0)) | (demand >= cap)
    return ev, labels.astype(np.uint8)


def generate_series(rng: np.random.Generator, kind: str, length: int) -> Series:
    sigma = _loguniform(rng, 0.002, 0.03)
    noise = _noise(rng, length, sigma)
    labels = np.zeros(length, dtype=np.uint8)
    if kind == "healthy":
        if rng.random() < 0.2:  # idle or perfectly steady pod: a constant series
            ev = _Events(np.full(length, rng.uniform(0.0, 0.92)))
        else:
            ev = _Events(np.full(length, rng.uniform(0.05, 0.92)) + noise)
    elif kind == "diurnal":
        ev = _Events(_background(rng, length, rng.uniform(0.15, 0.6), "diurnal") + noise)
    elif kind == "gc_sawtooth":
        ev = _Events(_background(rng, length, rng.uniform(0.15, 0.6), "sawtooth") + noise)
    elif kind.startswith("leak_"):
        ev, labels = _leak(rng, kind, length, noise)
    elif kind == "spikes":
        ev, labels = _spikes(rng, length, noise, sigma)
    elif kind == "level_shift":
        ev, labels = _level_shift(rng, length, noise, sigma)
    elif kind == "restart":
        ev, labels = _restart(rng, length, noise)
    elif kind == "cpu_saturation":
        ev, labels = _cpu_saturation(rng, length)
    elif kind == "batch_jobs":
        ev, labels = _batch_jobs(rng, length, noise)
    elif kind == "slow_gc":
        ev = _Events(_slow_gc(rng, length, noise))
    elif kind == "daily_high":
        ev = _Events(_daily_high(rng, length, noise))
    elif kind == "limit_change":
        ev, labels = _limit_change(rng, length, noise)
    elif kind == "saturation_ramp":
        ev, labels = _saturation_ramp(rng, length, noise)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return Series(
        kind=kind,
        values=np.clip(ev.observed(), 0.0, VALUE_MAX).astype(np.float32),
        labels=labels.astype(np.uint8),
        segment_starts=np.asarray(ev.starts, dtype=np.int64),
        continuations=np.clip(np.stack(ev.conts), 0.0, TARGET_MAX).astype(np.float32),
    )


def generate_dataset(seed: int, split: int, n_series: int, length: int) -> list[Series]:
    """``n_series`` series of ``length`` samples. ``split`` separates train/validation/holdout streams."""
    picker = np.random.default_rng([seed, split, 0xC0FFEE])
    kinds = picker.choice(len(KINDS), size=n_series, p=np.asarray(KIND_WEIGHTS))
    return [
        generate_series(np.random.default_rng([seed, split, i]), KINDS[int(k)], length)
        for i, k in enumerate(kinds)
    ]


def generate_benign_dataset(seed: int, split: int, n_series: int, length: int) -> list[Series]:
    """``n_series`` long series cycling through BENIGN_KINDS (for incident-level calibration)."""
    return [
        generate_series(np.random.default_rng([seed, split, i]), BENIGN_KINDS[i % len(BENIGN_KINDS)], length)
        for i in range(n_series)
    ]
