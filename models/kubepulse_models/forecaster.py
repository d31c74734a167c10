"""Forecaster: a small ReLU MLP from a window to the change at each horizon, exported as a hand-built ONNX
graph (MatMul/Add/Relu, opset 17) so that its shapes are exactly ``window`` [N, W] -> ``forecast`` [N, H].

Input transform ("subtract_last"): the network sees ``window - window[-1]`` (float32).
Output transform ("add_last"): the forecast value at horizon h is ``window[-1] + forecast[:, h]``.
A single scalar input scale and output scale (from the training data) are folded into the first and last
layers, so the exported graph needs no extra nodes.
"""

from __future__ import annotations

import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from . import __version__
from .config import Config

INPUT_NAME = "window"
OUTPUT_NAME = "forecast"
IR_VERSION = 8  # opset 17 era; accepted by onnxruntime-web 1.30
OPSET = 17


def to_inputs(windows: np.ndarray) -> np.ndarray:
    """subtract_last, in float32 exactly as the TypeScript runtime does it."""
    w = np.asarray(windows, dtype=np.float32)
    return w - w[:, -1:]


def to_targets(windows: np.ndarray, future: np.ndarray) -> np.ndarray:
    w = np.asarray(windows, dtype=np.float32)
    return np.asarray(future, dtype=np.float32) - w[:, -1:]


class Forecaster:
    def __init__(self, mlp: MLPRegressor, in_scale: float, out_scale: float):
        self.mlp = mlp
        self.in_scale = in_scale
        self.out_scale = out_scale

    def predict_delta(self, inputs: np.ndarray) -> np.ndarray:
        """sklearn's own prediction (float64) of the deltas for ``to_inputs`` windows."""
        return self.mlp.predict(np.asarray(inputs, dtype=np.float64) * self.in_scale) * self.out_scale

    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """float32 (weight, bias) per layer with the scales folded in."""
        ws = [np.asarray(w, dtype=np.float64) for w in self.mlp.coefs_]
        bs = [np.asarray(b, dtype=np.float64) for b in self.mlp.intercepts_]
        ws[0] = ws[0] * self.in_scale
        ws[-1] = ws[-1] * self.out_scale
        bs[-1] = bs[-1] * self.out_scale
        return [(w.astype(np.float32), b.astype(np.float32)) for w, b in zip(ws, bs, strict=True)]

    def to_onnx(self, window: int, n_horizons: int) -> bytes:
        layers = self.layers()
        nodes, inits = [], []
        prev = INPUT_NAME
        for i, (w, b) in enumerate(layers):
            inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
            last = i == len(layers) - 1
            nodes.append(helper.make_node("MatMul", [prev, f"W{i}"], [f"mm{i}"], name=f"matmul{i}"))
            add_out = OUTPUT_NAME if last else f"pre{i}"
            nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], [add_out], name=f"add{i}"))
            if not last:
                nodes.append(helper.make_node("Relu", [add_out], [f"h{i}"], name=f"relu{i}"))
                prev = f"h{i}"
        graph = helper.make_graph(
            nodes,
            "kubepulse_forecaster",
            [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", window])],
            [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", n_horizons])],
            inits,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="kubepulse_models",
            producer_version=__version__,
            ir_version=IR_VERSION,
        )
        onnx.checker.check_model(model, full_check=True)
        return model.SerializeToString()


def train_forecaster(cfg: Config, inputs: np.ndarray, targets: np.ndarray, log) -> Forecaster:
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    # scalar scales, rounded to float32 so the folded ONNX weights are exact products
    in_scale = float(np.float32(1.0 / max(float(np.std(x)), 1e-6)))
    out_scale = float(np.float32(max(float(np.std(y)), 1e-6)))
    mlp = MLPRegressor(
        hidden_layer_sizes=cfg.hidden,
        activation="relu",
        solver="adam",
        alpha=cfg.l2,
        batch_size=cfg.batch_size,
        learning_rate_init=cfg.learning_rate,
        max_iter=cfg.epochs,
        n_iter_no_change=cfg.epochs + 1,
        tol=0.0,
        shuffle=True,
        random_state=cfg.seed,
        early_stopping=False,
        verbose=False,
    )
    log(f"forecaster: MLP {x.shape[1]}->{'->'.join(map(str, cfg.hidden))}->{y.shape[1]}, "
        f"{len(x)} windows, {cfg.epochs} epochs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(x * in_scale, y / out_scale)
    log(f"forecaster: final training loss {mlp.loss_:.6f}")
    return Forecaster(mlp, in_scale, out_scale)
