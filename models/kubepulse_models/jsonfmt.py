"""Deterministic, diff-friendly JSON: objects indented, arrays of numbers on one line, floats as the
shortest repr that round-trips the float64 value (so float32 values are stored exactly)."""

from __future__ import annotations

import json
import math
from typing import Any


def _scalar(v: Any) -> str:
    if v is None or isinstance(v, (bool, str)):
        return json.dumps(v)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"non-finite float {v!r} in metadata")
        return repr(float(v))
    raise TypeError(f"cannot serialise {type(v).__name__}")


def dumps(obj: Any, indent: int = 0) -> str:
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(str(k))}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(_scalar(v) for v in obj) + "]"
        return "[\n" + ",\n".join(inner + dumps(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return _scalar(obj)
