#!/usr/bin/python3
"""SGEMM in PyTorch (its BLAS) for the shapes of GemmBench: the three training products of a linear
layer at the expert-FFN size (tokens 4096, d_model 512, d_ff 2048) and at 1024^3, on 2 threads.

    /usr/bin/python3 benchmarks/reference/gemm_bench.py [--runs 5] [--out FILE.json]

Output: JSON with GFLOP/s (2*m*n*k / t) per run and their median, per "op/size".
xw = X.W (A (m,k), B (k,n)); dyWt = dY.W^T (B stored (n,k)); xtDy = X^T.dY (A stored (k,m)).
The transposed operands are transposed views, so torch passes them to sgemm with a trans flag and
copies nothing, as the Java kernels read them in place.
"""
import argparse

import torch

import bench_common as bc

SHAPES = {  # (m, n, k)
    ("xw", "ffn"): (4096, 2048, 512),
    ("dyWt", "ffn"): (4096, 512, 2048),
    ("xtDy", "ffn"): (512, 2048, 4096),
    ("xw", "cube"): (1024, 1024, 1024),
    ("dyWt", "cube"): (1024, 1024, 1024),
    ("xtDy", "cube"): (1024, 1024, 1024),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    bc.setup()
    g = torch.Generator().manual_seed(42)
    results = {"environment": bc.environment(), "gemm": {}}
    bc.log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {bc.blas()}")
    for (op, size), (m, n, k) in SHAPES.items():
        a = torch.rand(k, m, generator=g).t() if op == "xtDy" else torch.rand(m, k, generator=g)
        b = torch.rand(n, k, generator=g).t() if op == "dyWt" else torch.rand(k, n, generator=g)
        c = torch.empty(m, n)
        seconds = bc.time_runs(lambda: torch.mm(a, b, out=c), args.runs)
        gflops = [2.0 * m * n * k / s / 1e9 for s in seconds]
        results["gemm"][f"{op}/{size}"] = {"m": m, "n": n, "k": k, "gflops": gflops, "median": bc.median(gflops)}
        bc.log(f"{op:5s} {size:5s} m={m} n={n} k={k}: {bc.median(gflops):.1f} GFLOP/s")
    bc.emit(results, args.out)


if __name__ == "__main__":
    main()
