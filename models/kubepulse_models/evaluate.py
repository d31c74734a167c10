"""Holdout/validation metrics for both models."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score

from .synthetic import KINDS


def _r(v: float, digits: int = 6) -> float:
    return round(float(v), digits)


def linear_extrapolation(windows: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
    """Baseline: last value + OLS slope of the whole window * h (deltas)."""
    x = np.asarray(windows, dtype=np.float64)
    t = np.arange(x.shape[1]) - (x.shape[1] - 1) / 2.0
    slope = ((x - x.mean(axis=1, keepdims=True)) * t).sum(axis=1) / (t * t).sum()
    return slope[:, None] * np.asarray(horizons, dtype=np.float64)[None, :]


def forecast_metrics(
    pred_delta: np.ndarray,
    true_delta: np.ndarray,
    windows: np.ndarray,
    kinds: np.ndarray,
    horizons: tuple[int, ...],
) -> dict:
    err = np.asarray(pred_delta, dtype=np.float64) - true_delta
    lin = linear_extrapolation(windows, horizons) - true_delta
    by_kind = {
        kind: {
            "model": [_r(v) for v in np.mean(np.abs(err[kinds == i]), axis=0)],
            "persistence": [_r(v) for v in np.mean(np.abs(true_delta[kinds == i]), axis=0)],
        }
        for i, kind in enumerate(KINDS)
        if np.any(kinds == i)
    }
    # time-to-limit view: does the forecast cross 1.0 at some horizon when the target does?
    last = np.asarray(windows, dtype=np.float64)[:, -1:]
    true_cross = np.any(last + true_delta >= 1.0, axis=1)
    pred_cross = np.any(last + np.asarray(pred_delta, dtype=np.float64) >= 1.0, axis=1)
    tp = int(np.sum(true_cross & pred_cross))
    return {
        "windows": int(len(err)),
        "limitCrossingWithinMaxHorizon": {
            "positives": int(np.sum(true_cross)),
            "precision": _r(tp / max(int(np.sum(pred_cross)), 1), 4),
            "recall": _r(tp / max(int(np.sum(true_cross)), 1), 4),
        },
        "maePerHorizon": [_r(v) for v in np.mean(np.abs(err), axis=0)],
        "persistenceMaePerHorizon": [_r(v) for v in np.mean(np.abs(true_delta), axis=0)],
        "linearMaePerHorizon": [_r(v) for v in np.mean(np.abs(lin), axis=0)],
        "biasPerHorizon": [_r(v) for v in np.mean(err, axis=0)],
        "maePerHorizonByKind": by_kind,
    }


def residual_std(pred_delta: np.ndarray, true_delta: np.ndarray) -> list[float]:
    return [_r(v) for v in np.std(np.asarray(pred_delta, dtype=np.float64) - true_delta, axis=0)]


def best_f1_threshold(prob: np.ndarray, labels: np.ndarray) -> float:
    """Threshold maximising F1, rounded to 4 decimals (first maximum on ties)."""
    precision, recall, thresholds = precision_recall_curve(labels, prob)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return round(float(thresholds[int(np.argmax(f1))]), 4)


def classifier_metrics(prob: np.ndarray, labels: np.ndarray, kinds: np.ndarray, threshold: float) -> dict:
    pred = prob >= threshold
    y = labels.astype(bool)
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    fn = int(np.sum(~pred & y))
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    by_kind_recall, by_kind_fpr = {}, {}
    for i, kind in enumerate(KINDS):
        m = kinds == i
        if np.any(m & y):
            by_kind_recall[kind] = _r(np.mean(pred[m & y]), 4)
        if np.any(m & ~y):
            by_kind_fpr[kind] = _r(np.mean(pred[m & ~y]), 4)
    return {
        "windows": int(len(y)),
        "positiveRate": _r(np.mean(y), 4),
        "threshold": threshold,
        "precision": _r(precision),
        "recall": _r(recall),
        "f1": _r(f1),
        "auc": _r(roc_auc_score(y, prob)),
        "recallByKind": by_kind_recall,
        "falsePositiveRateByKind": by_kind_fpr,
    }
