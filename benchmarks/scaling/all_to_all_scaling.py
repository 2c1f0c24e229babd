#!/usr/bin/env python3
"""Token all-to-all time per training step for W = 2, 4, 8, 16 processes on this machine.

Each W is a real run, `./moe launch --nproc W train ...`, weak-scaled: every rank keeps the same
2 sequences of 64 tokens, so the global batch grows with W. The model has 16 experts per MoE layer,
so the default layout is ep = W (dp = 1) for every W here, and each step runs four token
all-to-alls per MoE layer (two forward, two backward) over all W ranks. Rank 0's metrics lines give
the time it spent inside them (`all_to_all_ms_per_step`, waiting for slower ranks included), the
bytes it sent (`all_to_all_bytes_per_step`) and the step's tokens/s; the table takes the median
over the steps after the first WARMUP. The load average is read before and after each run.

    python3 benchmarks/scaling/all_to_all_scaling.py [--worlds 2,4,8,16] [--steps 14] [--bf16]

The ranks run with MOE_JAVA_OPTS (default: one GC thread and a 256 MB heap each, so that sixteen
JVMs fit on a small machine); pass another value in the environment to change it.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
WARMUP = 4
MODEL = [
    "--set", "model.context_size=64", "--set", "model.layers=2", "--set", "model.heads=2",
    "--set", "model.width=64", "--set", "model.hidden=128", "--set", "moe.experts=16",
    "--set", "moe.hidden=64", "--set", "moe.capacity_factor=1.25", "--set", "corpus_bytes=200000",
    "--set", "log_every=1", "--set", "eval_every=1000", "--set", "eval_batches=1",
    "--set", "checkpoint_every=0", "--set", "warmup_steps=2",
]


def load():
    return os.getloadavg()[0]


def run(world, steps, bf16, out):
    run_dir = out / f"w{world}"
    cmd = [str(ROOT / "moe"), "launch", "--nproc", str(world), "train", *MODEL,
           "--batch-size", str(2 * world), "--steps", str(steps), "--run-dir", str(run_dir)]
    if bf16:
        cmd += ["--set", "parallel.comm_dtype=bf16"]
    env = dict(os.environ)
    env.setdefault("MOE_JAVA_OPTS", "-XX:ParallelGCThreads=1 -Xmx256m")
    before = load()
    start = time.time()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.time() - start
    after = load()
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    timed = [l for l in lines if l["step"] > WARMUP]
    med = lambda key: statistics.median(l[key] for l in timed)
    return {
        "world": world,
        "ms": med("all_to_all_ms_per_step"),
        "bytes": med("all_to_all_bytes_per_step"),
        "tokens_per_s": med("tokens_per_s"),
        "step_ms": 1000 * 2 * world * 64 / med("tokens_per_s"),
        "load": f"{before:.1f} / {after:.1f}",
        "wall": wall,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", default="2,4,8,16")
    parser.add_argument("--steps", type=int, default=14)
    parser.add_argument("--bf16", action="store_true", help="parallel.comm_dtype=bf16")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="moe-a2a-") as tmp:
        for world in [int(w) for w in args.worlds.split(",")]:
            rows.append(run(world, args.steps, args.bf16, pathlib.Path(tmp)))
    first = rows[0]
    print(f"| W | all-to-all ms/step (rank 0) | x W={first['world']} | KiB sent/step | step ms | "
          f"all-to-all share of step | load before / after | run s |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(f"| {r['world']} | {r['ms']:.1f} | {r['ms'] / first['ms']:.1f} | {r['bytes'] / 1024:.0f} | "
              f"{r['step_ms']:.0f} | {100 * r['ms'] / r['step_ms']:.0f}% | {r['load']} | {r['wall']:.0f} |")


if __name__ == "__main__":
    main()
