"""Classifier: small gradient-boosted trees on the window features, exported with skl2onnx as a
TreeEnsembleClassifier (``features`` float32 [N, F] -> ``label`` int64 [N], ``probabilities`` float32
[N, 2]; column 1 is P(anomalous))."""

from __future__ import annotations

import numpy as np
import onnx
import onnx.helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier

from .config import Config

INPUT_NAME = "features"
LABEL_NAME = "label"
PROBABILITIES_NAME = "probabilities"
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def train_classifier(
    cfg: Config, features: np.ndarray, labels: np.ndarray, log, sample_weight: np.ndarray | None = None
) -> GradientBoostingClassifier:
    clf = GradientBoostingClassifier(
        n_estimators=cfg.trees,
        max_depth=cfg.depth,
        learning_rate=cfg.tree_learning_rate,
        subsample=cfg.subsample,
        min_samples_leaf=cfg.min_samples_leaf,
        random_state=cfg.seed,
        verbose=1,
    )
    log(f"classifier: {cfg.trees} trees of depth {cfg.depth} on {len(features)} windows x "
        f"{features.shape[1]} features ({labels.mean():.1%} anomalous)")
    clf.fit(np.asarray(features, dtype=np.float32), labels, sample_weight=sample_weight)
    return clf


def to_onnx(clf: GradientBoostingClassifier, n_features: int) -> bytes:
    model = convert_sklearn(
        clf,
        name="kubepulse_classifier",
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        options={id(clf): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    outputs = [o.name for o in model.graph.output]
    if outputs != [LABEL_NAME, PROBABILITIES_NAME]:
        raise RuntimeError(f"unexpected classifier outputs {outputs}")
    model.doc_string = ""
    # skl2onnx collects the opset domains in a set: fix their order (it follows PYTHONHASHSEED otherwise)
    opsets = sorted((o.domain, o.version) for o in model.opset_import)
    del model.opset_import[:]
    model.opset_import.extend(onnx.helper.make_opsetid(d, v) for d, v in opsets)
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()
