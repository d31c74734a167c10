"""Incident-level calibration of the classifier: which probability threshold and how many consecutive
windows of classifier-only evidence open an incident.

The per-window threshold (max F1) answers "is this window anomalous"; an incident is a stronger claim, paid
for by an on-call page. So the incident policy is chosen on long benign series (days of the benign kinds
of synthetic.py, a seed stream of their own) for a target rate of false incidents per 100 pod-days, and
among the policies within that budget the one that opens soonest on the labelled runs of the validation
split's faulty series is kept. The simulation is the runtime's hysteresis (functions/inference/core/
hysteresis.ts) fed with classifier evidence only: open after ``open_after`` consecutive windows at or above
the threshold, close after ``close_after`` consecutive windows below it.
"""

from __future__ import annotations

import numpy as np

from .synthetic import STEP_SECONDS

POD_DAY_STEPS = 86400 // STEP_SECONDS
# the runtime's learnt bar (functions/inference/core/hysteresis.ts): keep these three in step with it
QUIET_PEAK = 1.0
LEARNT_BAR_FACTOR = 3
MAX_LEARNT_OPEN_AFTER = 60


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the runs of True in ``flags``."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def openings(
    evidence: np.ndarray, values: np.ndarray, open_after: int, close_after: int
) -> list[int]:
    """Indices at which incidents open under the runtime's hysteresis, from per-window boolean evidence and
    the windows' last values. As at runtime, an incident that resolves without the usage ever reaching the
    limit (peak < QUIET_PEAK) raises the series' bar: later incidents need evidence lasting longer than
    LEARNT_BAR_FACTOR times that incident's longest run (at most MAX_LEARNT_OPEN_AFTER)."""
    starts, ends = _runs(evidence)
    opened: list[int] = []
    bar = open_after
    k = 0
    while k < len(starts):
        s, e = int(starts[k]), int(ends[k])
        if e - s < bar:
            k += 1
            continue
        opened.append(s + bar - 1)
        # the incident stays open through runs separated by fewer than close_after healthy windows
        longest, last_end = e - s, e
        k += 1
        while k < len(starts) and int(starts[k]) - last_end < close_after:
            longest = max(longest, int(ends[k] - starts[k]))
            last_end = int(ends[k])
            k += 1
        if float(np.max(values[s:last_end])) < QUIET_PEAK:
            bar = max(bar, min(MAX_LEARNT_OPEN_AFTER, LEARNT_BAR_FACTOR * longest + 1))
    return opened


def choose_policy(
    benign_prob: list[np.ndarray],
    benign_values: list[np.ndarray],
    fault_prob: list[np.ndarray],
    fault_values: list[np.ndarray],
    fault_labels: list[np.ndarray],
    thresholds: tuple[float, ...],
    open_afters: tuple[int, ...],
    close_after: int,
    target_per_100_pod_days: float,
) -> dict:
    """The (threshold, open_after) within the false-incident budget that detects the most labelled runs,
    then with the least median delay; ties go to the higher threshold and the shorter open-after."""
    pod_days = sum(len(p) for p in benign_prob) / POD_DAY_STEPS
    best = None
    for thr in thresholds:
        for k in open_afters:
            false = sum(
                len(openings(p >= thr, v, k, close_after)) for p, v in zip(benign_prob, benign_values)
            )
            rate = 100.0 * false / pod_days
            if rate > target_per_100_pod_days:
                continue
            detected, delays = 0, []
            for p, v, y in zip(fault_prob, fault_values, fault_labels):
                opened = np.asarray(openings(p >= thr, v, k, close_after), dtype=np.int64)
                for s, e in zip(*_runs(y.astype(bool))):
                    hit = opened[(opened >= s) & (opened < e)]
                    if len(hit):
                        detected += 1
                        delays.append(int(hit[0] - s))
            delay = float(np.median(delays)) if delays else float("inf")
            key = (detected, -delay, thr, -k)
            if best is None or key > best[0]:
                best = (key, {
                    "threshold": thr,
                    "openAfter": k,
                    "closeAfter": close_after,
                    "targetFalseIncidentsPer100PodDays": target_per_100_pod_days,
                    "falseIncidentsPer100PodDays": round(rate, 2),
                    "benignPodDays": round(pod_days, 2),
                    "labelledRunsDetected": detected,
                    "labelledRuns": int(sum(len(_runs(y.astype(bool))[0]) for y in fault_labels)),
                    "medianDelaySteps": delay,
                })
    if best is None:
        raise ValueError("no incident policy keeps within the false-incident budget")
    return best[1]
