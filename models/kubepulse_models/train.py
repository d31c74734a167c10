"""Train, verify and export both models.

    python -m kubepulse_models.train --config full --out models/dist
    python -m kubepulse_models.train --config full --out /tmp/m --recorded EXPORT_DIR [--recorded-weight 5]

Writes forecaster.onnx, classifier.onnx and metadata.json into --out. The output is a pure function of
the configuration and the pinned package versions (see models/requirements.txt): no timestamps, fixed
seeds, single-threaded numerics. ``--recorded`` mixes recorded cluster data (``kubepulse export-training``,
see recorded.py) into the training split: every recorded window into the forecaster's, the labelled ones
into the classifier's with ``--recorded-weight``; validation, holdout and the incident calibration stay
synthetic. Exits non-zero if the ONNX models disagree with scikit-learn.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from threadpoolctl import threadpool_limits

from . import __version__, classifier, evaluate, forecaster, incidents, jsonfmt
from .config import (
    CONFIGS,
    HOLDOUT,
    INCIDENT_BENIGN,
    INCIDENT_CLOSE_AFTER,
    INCIDENT_OPEN_AFTERS,
    INCIDENT_THRESHOLDS,
    TRAIN,
    VALIDATION,
    Config,
)
from .features import FEATURE_NAMES, extract_features
from .recorded import RECORDED_WEIGHT, RecordedRows, load_recorded, mix_classifier_rows, recorded_rows
from .synthetic import BENIGN_KINDS, KINDS, Series, generate_benign_dataset, generate_dataset
from .windows import classifier_windows, forecaster_windows

FORECAST_TOLERANCE = 1e-4  # |ONNX - sklearn| in limit units
PROBABILITY_TOLERANCE = 1e-4


class Log:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.start:7.1f}s] {msg}", flush=True)


def _session(model: bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def _fail(msg: str) -> None:
    print(f"ERROR: {msg}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def _sha256(*chunks: bytes) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def _data_hash(series: list[Series]) -> str:
    h = hashlib.sha256()
    for s in series:
        h.update(s.kind.encode())
        h.update(s.values.tobytes())
        h.update(s.labels.tobytes())
    return h.hexdigest()


def _f32(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float32).ravel()]


def _pick_test_windows(series: list[Series], window: int) -> list[tuple[str, np.ndarray]]:
    """One window per kind (ending in the middle of its anomalous samples, or at the series end for the
    healthy kinds) plus a constant window that exercises the division guards."""
    picks: list[tuple[str, np.ndarray]] = []
    for kind in KINDS:
        for s in series:
            if s.kind != kind:
                continue
            pos = np.flatnonzero(s.labels[window - 1 :]) + window - 1
            if kind in BENIGN_KINDS:
                end = len(s.values) - 1
            elif len(pos):
                end = int(pos[len(pos) // 2])
            else:
                continue
            picks.append((kind, s.values[end - window + 1 : end + 1].copy()))
            break
    picks.append(("constant", np.full(window, 0.5, dtype=np.float32)))
    return picks


def run(cfg: Config, out: Path, recorded: Path | None = None, recorded_weight: float = RECORDED_WEIGHT) -> None:
    log = Log()
    log(f"config {cfg.name}: seed {cfg.seed}, window {cfg.window}, horizons {list(cfg.horizons)}")

    # ------------------------------------------------------------------ data
    data = {}
    for split, name, count in (
        (TRAIN, "train", cfg.train_series),
        (VALIDATION, "validation", cfg.validation_series),
        (HOLDOUT, "holdout", cfg.holdout_series),
    ):
        data[name] = generate_dataset(cfg.seed, split, count, cfg.series_length)
        log(f"data: {name}: {count} series x {cfg.series_length} samples (split seed stream {split})")
    train_hash = _data_hash(data["train"])
    rec: RecordedRows | None = None
    if recorded is not None:
        rec_series = load_recorded(recorded)
        rec = recorded_rows(rec_series, cfg.window, cfg.horizons, cfg.window_stride)
        log(f"data: recorded: {len(rec_series)} series from {recorded}, {len(rec.forecaster_windows)} forecaster "
            f"windows, {len(rec.classifier_labels)} labelled windows ({int(rec.classifier_labels.sum())} positive, "
            f"weight {recorded_weight})")

    # ------------------------------------------------------------------ forecaster
    fx, fy, _ = forecaster_windows(data["train"], cfg.window, cfg.horizons, cfg.window_stride)
    if rec is not None:
        fx = np.concatenate([fx, rec.forecaster_windows])
        fy = np.concatenate([fy, rec.forecaster_futures])
    f_in, f_tgt = forecaster.to_inputs(fx), forecaster.to_targets(fx, fy)
    model_f = forecaster.train_forecaster(cfg, f_in, f_tgt, log)
    f_bytes = model_f.to_onnx(cfg.window, len(cfg.horizons))
    log(f"forecaster: exported {len(f_bytes)} bytes")

    hx, hy, hk = forecaster_windows(data["holdout"], cfg.window, cfg.horizons, cfg.window_stride)
    h_in, h_tgt = forecaster.to_inputs(hx), forecaster.to_targets(hx, hy)
    f_sess = _session(f_bytes)
    h_onnx = f_sess.run([forecaster.OUTPUT_NAME], {forecaster.INPUT_NAME: h_in})[0]
    if h_onnx.shape != (len(h_in), len(cfg.horizons)) or h_onnx.dtype != np.float32:
        _fail(f"forecaster ONNX output has shape {h_onnx.shape} / {h_onnx.dtype}")
    diff = float(np.max(np.abs(h_onnx - model_f.predict_delta(h_in))))
    if not diff <= FORECAST_TOLERANCE:
        _fail(f"forecaster ONNX differs from sklearn by {diff:.3g} (> {FORECAST_TOLERANCE})")
    log(f"forecaster: ONNX == sklearn on {len(h_in)} holdout windows (max |diff| {diff:.2e})")
    f_metrics = evaluate.forecast_metrics(h_onnx, h_tgt.astype(np.float64), hx, hk, cfg.horizons)
    f_resid = evaluate.residual_std(h_onnx, h_tgt.astype(np.float64))
    log(f"forecaster: holdout MAE {f_metrics['maePerHorizon']} "
        f"(persistence {f_metrics['persistenceMaePerHorizon']}, linear {f_metrics['linearMaePerHorizon']})")

    # ------------------------------------------------------------------ classifier
    cx, cy, _ = classifier_windows(data["train"], cfg.window, cfg.window_stride)
    if len(cx) > cfg.max_classifier_windows:
        pick = np.random.default_rng([cfg.seed, 99]).choice(len(cx), cfg.max_classifier_windows, replace=False)
        pick.sort()
        cx, cy = cx[pick], cy[pick]
    c_feat = extract_features(cx)
    c_weight = None
    if rec is not None and len(rec.classifier_labels):
        c_feat, cy, c_weight = mix_classifier_rows(
            c_feat, cy, extract_features(rec.classifier_windows), rec.classifier_labels, recorded_weight
        )
    log(f"classifier: {len(c_feat)} training windows, {len(FEATURE_NAMES)} features")
    model_c = classifier.train_classifier(cfg, c_feat, cy, log, sample_weight=c_weight)
    c_bytes = classifier.to_onnx(model_c, len(FEATURE_NAMES))
    log(f"classifier: exported {len(c_bytes)} bytes")
    c_sess = _session(c_bytes)

    def onnx_prob(feats: np.ndarray) -> np.ndarray:
        label, prob = c_sess.run(
            [classifier.LABEL_NAME, classifier.PROBABILITIES_NAME], {classifier.INPUT_NAME: feats}
        )
        if prob.shape != (len(feats), 2) or prob.dtype != np.float32 or label.dtype != np.int64:
            _fail(f"classifier ONNX outputs have shapes {label.shape}/{prob.shape}")
        ref = model_c.predict_proba(feats)
        diff = float(np.max(np.abs(prob - ref)))
        if not diff <= PROBABILITY_TOLERANCE:
            _fail(f"classifier ONNX probabilities differ from sklearn by {diff:.3g}")
        clear = np.abs(ref[:, 1] - 0.5) > PROBABILITY_TOLERANCE
        if np.any(label[clear] != model_c.classes_[np.argmax(ref, axis=1)][clear]):
            _fail("classifier ONNX labels differ from sklearn")
        return prob[:, 1]

    vx, vy, _ = classifier_windows(data["validation"], cfg.window, cfg.window_stride)
    v_prob = onnx_prob(extract_features(vx))
    threshold = evaluate.best_f1_threshold(v_prob, vy)
    log(f"classifier: threshold {threshold} (max F1 on {len(vx)} validation windows)")

    # incident policy for classifier-only evidence: every window of long benign series and of the
    # validation split's faulty series, as the runtime scores them (stride 1)
    def series_prob(s: Series) -> np.ndarray:
        w = np.lib.stride_tricks.sliding_window_view(s.values, cfg.window)
        return onnx_prob(extract_features(w))

    benign = generate_benign_dataset(
        cfg.seed, INCIDENT_BENIGN, cfg.incident_benign_series, cfg.incident_series_length
    )
    faulty = [s for s in data["validation"] if s.labels.any()]
    incident = incidents.choose_policy(
        [series_prob(s) for s in benign],
        [s.values[cfg.window - 1 :] for s in benign],
        [series_prob(s) for s in faulty],
        [s.values[cfg.window - 1 :] for s in faulty],
        [s.labels[cfg.window - 1 :] for s in faulty],
        INCIDENT_THRESHOLDS,
        INCIDENT_OPEN_AFTERS,
        INCIDENT_CLOSE_AFTER,
        cfg.incident_target_per_100_pod_days,
    )
    log(f"classifier: incident policy {incident}")
    tx, ty, tk = classifier_windows(data["holdout"], cfg.window, cfg.window_stride)
    t_prob = onnx_prob(extract_features(tx))
    log(f"classifier: ONNX == sklearn on {len(vx) + len(tx)} windows")
    c_metrics = evaluate.classifier_metrics(t_prob, ty, tk, threshold)
    log(f"classifier: holdout P {c_metrics['precision']:.3f} R {c_metrics['recall']:.3f} "
        f"F1 {c_metrics['f1']:.3f} AUC {c_metrics['auc']:.3f}")
    log(f"classifier: recall by kind {c_metrics['recallByKind']}")
    log(f"classifier: false-positive rate by kind {c_metrics['falsePositiveRateByKind']}")

    # ------------------------------------------------------------------ test vectors
    vectors = []
    for name, w in _pick_test_windows(data["holdout"], cfg.window) if cfg.test_vectors else []:
        w2 = w[None, :]
        feats = extract_features(w2)
        delta = f_sess.run([forecaster.OUTPUT_NAME], {forecaster.INPUT_NAME: forecaster.to_inputs(w2)})[0]
        prob = float(onnx_prob(feats)[0])
        vectors.append(
            {
                "name": name,
                "window": _f32(w),
                "features": _f32(feats),
                "forecast": _f32(delta),
                "forecastAbsolute": _f32(delta + w2[:, -1:]),
                "probability": float(np.float32(prob)),
                "anomalous": bool(prob >= threshold),
            }
        )
    log(f"test vectors: {len(vectors)}")

    # ------------------------------------------------------------------ write
    f_sha, c_sha = _sha256(f_bytes), _sha256(c_bytes)
    meta = {
        "schemaVersion": 1,
        "modelVersion": f"{__version__}+{_sha256(f_bytes, c_bytes)[:12]}",
        "window": cfg.window,
        "stepSeconds": cfg.step_seconds,
        "horizons": list(cfg.horizons),
        "forecaster": {
            "file": "forecaster.onnx",
            "sha256": f_sha,
            "input": {"name": forecaster.INPUT_NAME, "shape": ["N", cfg.window], "dtype": "float32"},
            "output": {"name": forecaster.OUTPUT_NAME, "shape": ["N", len(cfg.horizons)], "dtype": "float32"},
            "inputTransform": "subtract_last",
            "outputTransform": "add_last",
            "residualStd": f_resid,
        },
        "classifier": {
            "file": "classifier.onnx",
            "sha256": c_sha,
            "input": {"name": classifier.INPUT_NAME, "shape": ["N", len(FEATURE_NAMES)], "dtype": "float32"},
            "outputs": {
                "label": {"name": classifier.LABEL_NAME, "shape": ["N"], "dtype": "int64"},
                "probabilities": {
                    "name": classifier.PROBABILITIES_NAME,
                    "shape": ["N", 2],
                    "dtype": "float32",
                    "anomalousColumn": 1,
                },
            },
            "features": list(FEATURE_NAMES),
            "threshold": threshold,
            "incident": incident,
        },
        "training": {
            "seed": cfg.seed,
            "config": cfg.name,
            "parameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.as_dict().items()},
            "trainingDataSha256": train_hash,
            "versions": {
                "kubepulse_models": __version__,
                "numpy": np.__version__,
                "sklearn": sklearn.__version__,
                "skl2onnx": skl2onnx.__version__,
                "onnx": onnx.__version__,
                "onnxruntime": ort.__version__,
            },
            "holdout": {"forecaster": f_metrics, "classifier": c_metrics},
            **(
                {
                    "recorded": {
                        "series": len(rec_series),
                        "forecasterWindows": len(rec.forecaster_windows),
                        "labelledWindows": len(rec.classifier_labels),
                        "positiveWindows": int(rec.classifier_labels.sum()),
                        "weight": recorded_weight,
                        "rowsSha256": rec.sha256(),
                    }
                }
                if rec is not None
                else {}
            ),
        },
        "testVectors": vectors,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "forecaster.onnx").write_bytes(f_bytes)
    (out / "classifier.onnx").write_bytes(c_bytes)
    (out / "metadata.json").write_text(jsonfmt.dumps(meta) + "\n", encoding="utf-8")
    log(f"wrote {out}/forecaster.onnx ({len(f_bytes)} B), classifier.onnx ({len(c_bytes)} B), metadata.json; "
        f"modelVersion {meta['modelVersion']}")


def main(argv: list[str] | None = None) -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # set/dict-of-str iteration order inside the exporters must not depend on the hash seed
        args = sys.argv[1:] if argv is None else argv
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, "-m", "kubepulse_models.train", *args], env)
    ap = argparse.ArgumentParser(prog="python -m kubepulse_models.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="full")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--recorded", type=Path, help="a `kubepulse export-training` directory to mix into training")
    ap.add_argument("--recorded-weight", type=float, default=RECORDED_WEIGHT,
                    help=f"classifier weight of a recorded labelled window (default {RECORDED_WEIGHT})")
    args = ap.parse_args(argv)
    with threadpool_limits(limits=1):
        run(CONFIGS[args.config], args.out, args.recorded, args.recorded_weight)


if __name__ == "__main__":
    main()
