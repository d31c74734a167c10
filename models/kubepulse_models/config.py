"""Training configurations. ``full`` produces the committed models/dist; ``ci`` is a quick smoke run."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Config:
    name: str
    seed: int
    window: int
    step_seconds: int
    horizons: tuple[int, ...]
    series_length: int
    train_series: int
    validation_series: int
    holdout_series: int
    window_stride: int
    # forecaster (MLP)
    hidden: tuple[int, ...]
    epochs: int
    batch_size: int
    learning_rate: float
    l2: float
    # classifier (gradient-boosted trees)
    max_classifier_windows: int
    trees: int
    depth: int
    tree_learning_rate: float
    subsample: float
    min_samples_leaf: int
    test_vectors: bool
    # incident policy for classifier-only evidence (incidents.py), on long benign series of their own
    incident_benign_series: int
    incident_series_length: int
    incident_target_per_100_pod_days: float

    def as_dict(self) -> dict:
        return asdict(self)


# split ids for synthetic.generate_dataset: each split is an independent seed stream
TRAIN, VALIDATION, HOLDOUT, INCIDENT_BENIGN = 0, 1, 2, 3

INCIDENT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)
INCIDENT_OPEN_AFTERS = (2, 4, 6, 10, 15, 20, 30, 40, 60)
INCIDENT_CLOSE_AFTER = 10  # the runtime's default CLOSE_AFTER_SAMPLES

_COMMON = dict(seed=20251121, window=64, step_seconds=30, horizons=(2, 5, 10, 20, 40, 60))

CONFIGS: dict[str, Config] = {
    "full": Config(
        name="full",
        **_COMMON,
        series_length=512,
        train_series=2400,
        validation_series=600,
        holdout_series=800,
        window_stride=4,
        hidden=(64, 32),
        epochs=40,
        batch_size=256,
        learning_rate=1e-3,
        l2=1e-4,
        max_classifier_windows=80_000,
        trees=100,
        depth=4,
        tree_learning_rate=0.1,
        subsample=0.8,
        min_samples_leaf=20,
        test_vectors=True,
        incident_benign_series=60,
        incident_series_length=2880,
        incident_target_per_100_pod_days=30.0,
    ),
    "ci": Config(
        name="ci",
        **_COMMON,
        series_length=256,
        train_series=150,
        validation_series=60,
        holdout_series=60,
        window_stride=8,
        hidden=(32, 16),
        epochs=5,
        batch_size=256,
        learning_rate=1e-3,
        l2=1e-4,
        max_classifier_windows=5_000,
        trees=20,
        depth=3,
        tree_learning_rate=0.2,
        subsample=0.8,
        min_samples_leaf=20,
        test_vectors=True,
        incident_benign_series=10,
        incident_series_length=1440,
        incident_target_per_100_pod_days=20.0,
    ),
}
