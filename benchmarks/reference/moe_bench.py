#!/usr/bin/python3
"""Forward+backward of the MoE layer in PyTorch, the same layer, shapes and routers as MoeLayerBench:
T = 4096 tokens, D = 512, GELU experts of F = 2048, capacity factor 1.25, aux/z loss coefficients
0.01/0.001, on 2 threads, or on a GPU with --device cuda (each timed call ends with a synchronize).

    /usr/bin/python3 benchmarks/reference/moe_bench.py [--runs 5] [--routers e8-top1,...] [--device cuda] [--out FILE]

Two PyTorch layers, both checked against moe_reference.py's layer (outputs, losses, gradients in
float64) before timing: moe_padded.py, the usual padded way ((E, C, D) buffers, index_copy dispatch,
one baddbmm per expert matrix, index_add combine), and moe_fast.py (the experts on their kept tokens
only, one expert at a time). The two are timed in turn, round by round, and the baseline of a router
is the faster one. Output: JSON with tokens/s per run and the median, per router and layer, and the
baseline's name and median.
"""
import argparse
import math

import torch

import bench_common as bc
import moe_fast
import moe_padded
import moe_reference as ref

TOKENS, WIDTH, HIDDEN, CF = 4096, 512, 2048, 1.25
ROUTERS = {"e8-top1": ("topk", 8, 1), "e8-top2": ("topk", 8, 2), "e16-2top1": ("prototype", 16, 2),
           "e64-top1": ("topk", 64, 1)}


def layer(name: str, seed: int = 1):
    router, e, k = ROUTERS[name]
    cfg = ref.MoeConfig(router=router, experts=e, k=k, capacity_factor=CF, eval_capacity_factor=2.0,
                        renormalize=False, aux_loss_coef=0.01, z_loss_coef=0.001, jitter=0.0,
                        expert="gelu", hidden=HIDDEN, every=1)
    g = torch.Generator().manual_seed(seed)
    params = {}
    for pname, shape in ref.parameter_shapes(cfg, WIDTH).items():
        t = torch.randn(*shape, generator=g) * 0.02   # biases too, as after some training
        params[pname] = t.requires_grad_()
    x = torch.randn(TOKENS, WIDTH, generator=g).requires_grad_()
    grad_y = torch.randn(TOKENS, WIDTH, generator=g)
    return cfg, params, x, grad_y


def to_device(device: str, params, x, grad_y):
    """The same tensors on `device`, leaves that require grad."""
    params = {name: t.detach().to(device).requires_grad_() for name, t in params.items()}
    return params, x.detach().to(device).requires_grad_(), grad_y.to(device)


LAYERS = {"padded": moe_padded.moe_forward, "fast": moe_fast.moe_forward}


def step(forward, cfg, params, x, grad_y):
    for t in [x, *params.values()]:
        t.grad = None
    y, aux, z = forward(cfg, params, x)
    ref.objective(cfg, y, aux, z, grad_y).backward()
    if x.is_cuda:
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--routers", default=",".join(ROUTERS))
    ap.add_argument("--device", default="cpu", help="cpu (2 threads) or cuda")
    ap.add_argument("--out")
    args = ap.parse_args()
    checked = moe_fast.check() + moe_padded.check()
    bc.setup()
    where = torch.cuda.get_device_name() if args.device == "cuda" else f"{torch.get_num_threads()} threads, BLAS: {bc.blas()}"
    bc.log(f"padded and fast layers == moe_reference layer on {checked} cases; torch {torch.__version__}, {where}")
    results = {"environment": dict(bc.environment(), device=where), "moe": {}}
    for name in args.routers.split(","):
        cfg, params, x, grad_y = layer(name)
        params, x, grad_y = to_device(args.device, params, x, grad_y)
        seconds = bc.time_alternating({kind: (lambda f=forward: step(f, cfg, params, x, grad_y))
                                       for kind, forward in LAYERS.items()}, args.runs, warmup=2, min_seconds=1.0)
        entry = {"capacity": ref.capacity(cfg, TOKENS)}
        for kind, runs in seconds.items():
            tps = [TOKENS / s for s in runs]
            entry[kind] = {"tokens_per_s": tps, "median": bc.median(tps)}
        entry["baseline"] = max(LAYERS, key=lambda kind: entry[kind]["median"])
        entry["median"] = entry[entry["baseline"]]["median"]
        results["moe"][name] = entry
        bc.log(f"{name:10s} C={entry['capacity']}: " + ", ".join(
            f"{kind} {entry[kind]['median']:.0f}" for kind in LAYERS) + " tokens/s")
    bc.emit(results, args.out)


if __name__ == "__main__":
    main()
