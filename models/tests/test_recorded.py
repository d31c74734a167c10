"""Recorded cluster data (a `kubepulse export-training` directory) becomes training rows with its labels.

    cd models && "$(./setup.sh)" -m unittest discover -s tests
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import unittest
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from kubepulse_models.config import CONFIGS
from kubepulse_models.features import extract_features
from kubepulse_models.recorded import (
    RECORDED_WEIGHT,
    load_recorded,
    mix_classifier_rows,
    recorded_rows,
)
from kubepulse_models.synthetic import generate_dataset
from kubepulse_models.train import run as train
from kubepulse_models.windows import classifier_windows

STEP = 30
START = 1_790_000_000
LIMIT = 2.0 * 1024**3
WINDOW = 64
HORIZONS = (2, 5, 10, 20, 40, 60)


def iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_series(directory: Path, name: str, values: np.ndarray, limit: float | None, skip: range = range(0)):
    rows = ["timestamp,value,limit"]
    for i, v in enumerate(values):
        if i in skip:
            continue
        rows.append(f"{iso(START + i * STEP)},{float(v)!r},{'' if limit is None else repr(limit)}")
    (directory / "series").mkdir(exist_ok=True)
    (directory / "series" / f"{name}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {"file": f"series/{name}.csv", "seriesKey": f"dev|shop|{name}|app|memory_working_set_bytes"}


def incident(series: dict, opened_step: int, label, resolved_step: int | None = None) -> dict:
    return {
        "incidentId": f"inc-{series['seriesKey']}-{opened_step}",
        "seriesKey": series["seriesKey"],
        "file": series["file"],
        "openedAt": START + opened_step * STEP,
        "resolvedAt": None if resolved_step is None else START + resolved_step * STEP,
        "label": label,
    }


# A leak from 30 % to the limit over 250 samples, OOM-killed at sample 250 (back to 10 %), leaking again.
LEAK = np.concatenate([
    LIMIT * (0.3 + 0.7 * np.arange(250) / 249),
    LIMIT * (0.1 + 0.002 * np.arange(150)),
])
STEADY = LIMIT * (0.5 + 0.01 * np.sin(np.arange(300) / 7.0))


class RecordedRowsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        leak = write_series(self.dir, "leak", LEAK, LIMIT)
        steady = write_series(self.dir, "steady", STEADY, LIMIT)
        unlabelled = write_series(self.dir, "unlabelled", STEADY, None, skip=range(150, 170))
        labels = {
            "schemaVersion": 1,
            "exportedAt": "2026-11-21T10:00:00.000Z",
            "series": [leak, steady, unlabelled],
            "incidents": [
                incident(leak, 150, 1),  # still "open" when exported: ends at the OOM kill, not at the data's end
                incident(steady, 100, 0, resolved_step=130),
                incident(unlabelled, 200, None),
            ],
        }
        (self.dir / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
        self.series = load_recorded(self.dir)
        self.rows = recorded_rows(self.series, WINDOW, HORIZONS, 4)

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def rows_of(self, file: str) -> list[int]:
        return [i for i, (f, _) in enumerate(self.rows.classifier_sources) if f == file]

    def test_a_labelled_leak_gives_positive_windows_up_to_its_oom_kill(self) -> None:
        leak = self.rows_of("series/leak.csv")
        ends = [(self.rows.classifier_sources[i][1] - START) // STEP for i in leak]
        self.assertEqual(ends, list(range(150, 250)))
        self.assertTrue(np.all(self.rows.classifier_labels[leak] == 1))
        first = self.rows.classifier_windows[leak[0]]
        np.testing.assert_allclose(first, (LEAK[150 - WINDOW + 1 : 151] / LIMIT).astype(np.float32))

    def test_a_false_alarm_gives_negative_windows_until_it_resolved(self) -> None:
        steady = self.rows_of("series/steady.csv")
        ends = [(self.rows.classifier_sources[i][1] - START) // STEP for i in steady]
        self.assertEqual(ends, list(range(100, 131)))
        self.assertTrue(np.all(self.rows.classifier_labels[steady] == 0))

    def test_unlabelled_series_feed_only_the_forecaster_and_no_window_spans_a_gap(self) -> None:
        self.assertEqual(self.rows_of("series/unlabelled.csv"), [])
        unlabelled = [w for w, f in zip(self.rows.forecaster_windows, self.rows.forecaster_files) if f.endswith("unlabelled.csv")]
        self.assertGreater(len(unlabelled), 0)
        # no limit known: each window is divided by its own maximum with headroom, like the runtime
        for w in unlabelled:
            self.assertAlmostEqual(float(np.max(w)), 0.8, places=5)
        # 150 samples before the gap and 130 after: (150-64-60)//4+1 + (130-64-60)//4+1 windows, none across
        self.assertEqual(len(unlabelled), 7 + 2)

    def test_forecaster_targets_are_what_happened_next_and_never_cross_an_oom_kill(self) -> None:
        leak = [i for i, f in enumerate(self.rows.forecaster_files) if f == "series/leak.csv"]
        for i in leak:
            window, future = self.rows.forecaster_windows[i], self.rows.forecaster_futures[i]
            self.assertTrue(np.all(future > window[-1]), "a leak's future keeps rising (no kill inside)")
        # windows whose next 60 samples hold the kill at sample 250 are left out; windows spanning it are not
        self.assertEqual(len(leak), len([e for e in range(WINDOW - 1, 400 - 60, 4) if not 190 <= e <= 249]))

    def test_recorded_labelled_windows_join_the_classifier_training_set_with_their_weight(self) -> None:
        cfg = CONFIGS["ci"]
        cx, cy, _ = classifier_windows(generate_dataset(cfg.seed, 0, 4, 256), WINDOW, cfg.window_stride)
        synthetic = extract_features(cx)
        recorded = extract_features(self.rows.classifier_windows)
        features, labels, weights = mix_classifier_rows(
            synthetic, cy, recorded, self.rows.classifier_labels, RECORDED_WEIGHT
        )
        leak_row = self.rows_of("series/leak.csv")[0]
        at = len(synthetic) + leak_row
        np.testing.assert_array_equal(features[at], recorded[leak_row])
        self.assertEqual(labels[at], 1)
        self.assertEqual(weights[at], RECORDED_WEIGHT)
        self.assertTrue(np.all(weights[: len(synthetic)] == 1.0))
        self.assertEqual(len(features), len(synthetic) + 100 + 31)

    def test_train_with_recorded_mixes_them_in_and_says_so_in_the_metadata(self) -> None:
        out = self.dir / "models"
        with contextlib.redirect_stdout(io.StringIO()):
            train(CONFIGS["ci"], out, recorded=self.dir, recorded_weight=3.0)
        recorded = json.loads((out / "metadata.json").read_text(encoding="utf-8"))["training"]["recorded"]
        self.assertEqual(recorded["series"], 3)
        self.assertEqual(recorded["labelledWindows"], 131)
        self.assertEqual(recorded["positiveWindows"], 100)
        self.assertEqual(recorded["weight"], 3.0)
        stride = CONFIGS["ci"].window_stride
        self.assertEqual(
            recorded["forecasterWindows"], len(recorded_rows(self.series, WINDOW, HORIZONS, stride).forecaster_windows)
        )


if __name__ == "__main__":
    unittest.main()
