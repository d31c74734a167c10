"""Recorded cluster data as training rows: the directory ``kubepulse export-training`` writes.

    python -m kubepulse_models.recorded DIR        # what training would take from DIR, as JSON

DIR holds ``series/*.csv`` (``timestamp,value,limit``: ISO time, raw usage in bytes or cores, the limit
known at export time, empty when unknown) and ``labels.json`` (``series``: file and series key of each CSV;
``incidents``: ``seriesKey, file, openedAt, resolvedAt, label`` with label 1 = heading for exhaustion,
0 = false alarm, null = nobody said).

Rows are cut the way the runtime sees a series and the way ``windows.py`` cuts synthetic ones:

* **normalisation** as ``functions/inference/core/normalise.ts``: a window ending at t is divided by the
  limit at t; a series without any known limit by the window's own maximum times OBSERVED_MAX_HEADROOM.
  Missing limits between known ones are filled from the nearest earlier (else later) known one.
* **runs**: samples further apart than GAP_STEPS times the series' median step break the series into runs;
  no window or forecast target spans a gap. The step is the series' own (the runtime counts horizons in
  samples too).
* **classifier rows** (labelled samples only, every sample, not strided: labels are scarce): a sample is
  labelled by the incident it falls in, from ``openedAt`` to the first of ``resolvedAt``, the series' next
  incident's opening (incidents on one series never overlap) and the data's end. A true incident's label
  also ends at the first RESTART_DROP (an OOM kill or restart: what follows is a new container). Samples
  outside labelled incidents, and unlabelled incidents, give no classifier rows: whether the detector
  missed something there is not known.
* **forecaster rows** (every series, labelled or not; every ``stride``-th window): the target is what the
  series actually did next (self-supervised). Synthetic targets are continuations without later events
  or OOM kills, so windows whose next ``max(horizons)`` samples contain a RESTART_DROP are left out.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

OBSERVED_MAX_HEADROOM = 1.25
RESTART_DROP = 0.2
GAP_STEPS = 1.5
# A recorded labelled window counts as this many synthetic ones in the classifier's loss (train.py
# --recorded-weight): a cluster yields hundreds of labelled windows against 80 000 synthetic ones, and they
# are the only ones labelled by what really happened. Not tuned: there is no recorded data set to tune on.
RECORDED_WEIGHT = 5.0
UNKNOWN = -1


@dataclass(frozen=True)
class RecordedSeries:
    file: str
    series_key: str
    times: np.ndarray  # int64 unix seconds, increasing
    values: np.ndarray  # float64, raw usage
    limits: np.ndarray  # float64, the limit per sample (filled), NaN when never known
    labels: np.ndarray  # int8: 1, 0, or UNKNOWN


@dataclass(frozen=True)
class RecordedRows:
    classifier_windows: np.ndarray  # float32 [N, window], normalised
    classifier_labels: np.ndarray  # uint8 [N]
    classifier_sources: list[tuple[str, int]]  # (file, unix seconds of the window's last sample) per row
    forecaster_windows: np.ndarray  # float32 [M, window]
    forecaster_futures: np.ndarray  # float32 [M, len(horizons)], in the window's normalisation
    forecaster_files: list[str]  # the file each forecaster row comes from

    def sha256(self) -> str:
        h = hashlib.sha256()
        for a in (self.classifier_windows, self.classifier_labels, self.forecaster_windows, self.forecaster_futures):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()


def _unix(text: str) -> int:
    return int(datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp())


def _filled(limits: np.ndarray) -> np.ndarray:
    known = np.flatnonzero(np.isfinite(limits) & (limits > 0))
    if len(known) == 0:
        return np.full(len(limits), np.nan)
    # nearest earlier known limit, else the first known one
    idx = np.maximum.accumulate(np.where(np.isfinite(limits) & (limits > 0), np.arange(len(limits)), -1))
    return np.where(idx >= 0, limits[np.maximum(idx, 0)], limits[known[0]])


def _level(values: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Usage as a share of the limit (of the series' maximum with headroom when no limit is known)."""
    if np.all(np.isnan(limits)):
        top = float(np.max(np.abs(values))) if len(values) else 0.0
        return values / (top * OBSERVED_MAX_HEADROOM if top > 0 else 1.0)
    return values / limits


def _restart_drops(level: np.ndarray) -> np.ndarray:
    """Indices i where the series fell by RESTART_DROP or more from sample i-1 to sample i."""
    return np.flatnonzero(np.diff(level) <= -RESTART_DROP) + 1


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    times, values, limits = [], [], []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            times.append(_unix(row["timestamp"]))
            values.append(float(row["value"]))
            limits.append(float(row["limit"]) if row.get("limit") else np.nan)
    order = np.argsort(np.asarray(times, dtype=np.int64), kind="stable")
    return (
        np.asarray(times, dtype=np.int64)[order],
        np.asarray(values, dtype=np.float64)[order],
        np.asarray(limits, dtype=np.float64)[order],
    )


def load_recorded(directory: Path) -> list[RecordedSeries]:
    meta = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    if meta.get("schemaVersion") != 1:
        raise ValueError(f"{directory}/labels.json: not a kubepulse training export (schemaVersion 1)")
    incidents: dict[str, list[dict]] = {}
    for incident in meta["incidents"]:
        incidents.setdefault(incident["seriesKey"], []).append(incident)
    out = []
    for entry in sorted(meta["series"], key=lambda s: s["file"]):
        times, values, raw_limits = _read_csv(directory / entry["file"])
        limits = _filled(raw_limits)
        labels = np.full(len(times), UNKNOWN, dtype=np.int8)
        level = _level(values, limits)
        drops = times[_restart_drops(level)]
        ordered = sorted(incidents.get(entry["seriesKey"], []), key=lambda i: i["openedAt"])
        for k, incident in enumerate(ordered):
            if incident.get("label") not in (0, 1):
                continue
            start = int(incident["openedAt"])
            ends = [int(times[-1])] if len(times) else [start]
            if incident.get("resolvedAt") is not None:
                ends.append(int(incident["resolvedAt"]))
            if k + 1 < len(ordered):
                ends.append(int(ordered[k + 1]["openedAt"]) - 1)
            if incident["label"] == 1:
                later = drops[drops > start]
                if len(later):
                    ends.append(int(later[0]) - 1)
            labels[(times >= start) & (times <= min(ends))] = incident["label"]
        out.append(RecordedSeries(entry["file"], entry["seriesKey"], times, values, limits, labels))
    return out


def _runs(times: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges without gaps."""
    if len(times) < 2:
        return [(0, len(times))] if len(times) else []
    gaps = np.diff(times)
    step = float(np.median(gaps))
    breaks = np.flatnonzero(gaps > GAP_STEPS * step) + 1
    bounds = [0, *breaks.tolist(), len(times)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _normalised_window(s: RecordedSeries, end: int, window: int) -> tuple[np.ndarray, float]:
    w = s.values[end - window + 1 : end + 1]
    limit = s.limits[end]
    if np.isfinite(limit):
        return w / limit, float(limit)
    top = float(np.max(np.abs(w)))
    denominator = top * OBSERVED_MAX_HEADROOM if top > 0 else 1.0
    return w / denominator, denominator


def recorded_rows(
    series: list[RecordedSeries], window: int, horizons: tuple[int, ...], stride: int
) -> RecordedRows:
    hmax = max(horizons)
    h = np.asarray(horizons)
    cw, cl, sources, fw, ff, files = [], [], [], [], [], []
    for s in series:
        drop_at = np.zeros(len(s.times), dtype=bool)
        drop_at[_restart_drops(_level(s.values, s.limits))] = True
        for a, b in _runs(s.times):
            for end in range(a + window - 1, b):
                if s.labels[end] == UNKNOWN:
                    continue
                w, _ = _normalised_window(s, end, window)
                cw.append(w)
                cl.append(int(s.labels[end]))
                sources.append((s.file, int(s.times[end])))
            for end in range(a + window - 1, b - hmax, stride):
                if drop_at[end + 1 : end + hmax + 1].any():
                    continue
                w, denominator = _normalised_window(s, end, window)
                fw.append(w)
                ff.append(s.values[end + h] / denominator)
                files.append(s.file)

    def stack(rows: list, width: int) -> np.ndarray:
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), width)

    return RecordedRows(
        classifier_windows=stack(cw, window),
        classifier_labels=np.asarray(cl, dtype=np.uint8),
        classifier_sources=sources,
        forecaster_windows=stack(fw, window),
        forecaster_futures=stack(ff, len(horizons)),
        forecaster_files=files,
    )


def mix_classifier_rows(
    features: np.ndarray, labels: np.ndarray, recorded_features: np.ndarray, recorded_labels: np.ndarray,
    weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic rows (weight 1) followed by the recorded labelled ones (``weight`` each)."""
    return (
        np.concatenate([features, recorded_features]),
        np.concatenate([labels, recorded_labels]).astype(labels.dtype),
        np.concatenate([np.ones(len(labels)), np.full(len(recorded_labels), float(weight))]),
    )


def summary(series: list[RecordedSeries], rows: RecordedRows) -> dict:
    per_file: dict[str, dict] = {
        s.file: {
            "seriesKey": s.series_key,
            "samples": int(len(s.times)),
            "classifierRows": 0,
            "positives": 0,
            "negatives": 0,
            "positiveEnds": None,
            "negativeEnds": None,
            "forecasterRows": 0,
        }
        for s in series
    }
    for (file, at), label in zip(rows.classifier_sources, rows.classifier_labels, strict=True):
        entry = per_file[file]
        entry["classifierRows"] += 1
        entry["positives" if label == 1 else "negatives"] += 1
        span = "positiveEnds" if label == 1 else "negativeEnds"
        first, last = entry[span] or (at, at)
        entry[span] = [min(first, at), max(last, at)]
    for file in rows.forecaster_files:
        per_file[file]["forecasterRows"] += 1
    return {
        "series": per_file,
        "classifierRows": int(len(rows.classifier_labels)),
        "positives": int(rows.classifier_labels.sum()),
        "forecasterRows": int(len(rows.forecaster_windows)),
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    from .config import CONFIGS

    ap = argparse.ArgumentParser(prog="python -m kubepulse_models.recorded", description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument("--config", choices=sorted(CONFIGS), default="full")
    args = ap.parse_args(argv)
    cfg = CONFIGS[args.config]
    series = load_recorded(args.directory)
    rows = recorded_rows(series, cfg.window, cfg.horizons, cfg.window_stride)
    json.dump(summary(series, rows), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
