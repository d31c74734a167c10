"""kubepulse model training pipeline: synthetic data, window features, forecaster + classifier export.

Importing the package pins the numeric environment *before* numpy is loaded, so that a training run
produces byte-identical ONNX files on every machine of the same kind (single-threaded BLAS/OpenMP, a
fixed OpenBLAS kernel on x86-64, and numpy's AVX-512 dispatch turned off so AVX2 and AVX-512 hosts
compute the same transcendental functions).
"""

import os
import platform

__version__ = "0.2.0"


def _pin_numeric_environment() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = "1"
    if platform.machine() not in ("x86_64", "AMD64"):
        return
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        flags = []
    if "avx2" in flags and "fma" in flags:
        os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
    if "avx512f" in flags:
        os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL")


_pin_numeric_environment()
