"""Shared by the PyTorch benchmark scripts: which BLAS torch uses, thread setup, timing, JSON output."""
import json
import os
import statistics
import sys
import time

import torch

THREADS = 2


def setup(threads: int = THREADS):
    """Fixes the thread count (torch uses all cores otherwise; the Java side runs on `threads`)."""
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)


def blas() -> str:
    """The BLAS library Debian's torch gets through libblas.so.3, and the build's own report."""
    link = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    target = os.path.realpath(link) if os.path.exists(link) else "unknown"
    if "openblas" in target:
        name = "OpenBLAS"
        if "pthread" in target:
            name += " (pthread)"
        elif "openmp" in target:
            name += " (openmp)"
    elif "blas/libblas" in target:
        name = "reference BLAS (slow: apt-get install libopenblas0-pthread)"
    else:
        name = target
    info = [line.strip() for line in torch.__config__.show().splitlines() if "BLAS_INFO" in line]
    build = info[0].split("BLAS_INFO=")[1].split(",")[0] if info else "?"
    return f"{name}; libblas.so.3 -> {target}; torch BLAS_INFO={build}"


def environment() -> dict:
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas(),
            "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}}


def time_runs(fn, runs: int, warmup: int = 2, min_seconds: float = 0.5):
    """Seconds per call of fn, one value per run; each run repeats fn for at least min_seconds."""
    for _ in range(warmup):
        fn()
    per_call = []
    for _ in range(runs):
        calls = 0
        start = time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        per_call.append(elapsed / calls)
    return per_call


def time_alternating(fns: dict, runs: int, warmup: int = 2, min_seconds: float = 0.5):
    """Seconds per call of each fn, one value per run, the fns taking turns run by run (A B A B ...)
    so that a change in the machine's load falls on both."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    per_call = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            per_call[name].extend(time_runs(fn, 1, warmup=0, min_seconds=min_seconds))
    return per_call


def emit(results: dict, out: str = None):
    """Prints results as JSON (one object), or writes them to `out`."""
    text = json.dumps(results, indent=1)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


def median(values):
    return statistics.median(values)


def log(msg: str):
    print(msg, file=sys.stderr, flush=True)
