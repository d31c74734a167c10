"""Half-Space Trees scores for bench:faults, one fresh river model per series.

Reads JSON lines ``{"id": str, "values": [float, ...]}`` (usage already divided by the limit in force at each
sample) from the file named by the first argument and writes ``{"id": str, "scores": [float, ...]}`` lines to
the second. Each sample is scored before the model learns it (online, no look-ahead). Parameters are river's
defaults (10 trees, height 8, window 250 samples), features limited to [0, 1] as river assumes, fixed seed.
"""

from __future__ import annotations

import json
import sys

from river import anomaly

SEED = 20261121


def scores_of(values: list[float]) -> list[float]:
    model = anomaly.HalfSpaceTrees(seed=SEED)
    out = []
    for value in values:
        x = {"usage": min(1.0, max(0.0, value))}
        out.append(round(model.score_one(x), 5))
        model.learn_one(x)
    return out


def main(source: str, destination: str) -> None:
    with open(source, encoding="utf-8") as lines, open(destination, "w", encoding="utf-8") as out:
        for line in lines:
            series = json.loads(line)
            out.write(json.dumps({"id": series["id"], "scores": scores_of(series["values"])}) + "\n")
            out.flush()
            print(series["id"], file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
