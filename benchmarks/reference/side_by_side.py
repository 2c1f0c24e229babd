#!/usr/bin/python3
"""Runs moe4j's JMH benchmarks and the PyTorch scripts side by side on this machine, in rounds that
alternate the two sides, and writes a markdown table of ratios.

    /usr/bin/python3 benchmarks/reference/side_by_side.py [--rounds 3] [--out-dir benchmarks/results] [--quick]

Needs benchmarks/target/benchmarks.jar (mvn -B install -DskipTests) and a JDK 25 (JAVA_HOME or
/usr/lib/jvm/*25*). Every round runs each part (GEMM, MoE layer, training step) once on each side:
moe4j first in odd rounds, PyTorch first in even ones (A B, B A, ...), so a change in the machine's
load falls on both sides. Before every run the script waits (up to two minutes) for the 1-minute
load average to fall below 1.5, then records it, with a loud warning when it is still above (then
the machine is not quiet, and the numbers are not to be published). The table gives, per side, the median and the best over the rounds of each run's
median, and the ratio of the medians.

The PyTorch side runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment, so
OpenBLAS picks its own kernels for this CPU, and with glibc's malloc handing out huge pages
(GLIBC_TUNABLES=glibc.malloc.hugetlb=1), as the JVM side runs with -XX:+UseTransparentHugePages.
Its MoE layer and training step are the faster of moe_padded.py and moe_fast.py, per router.
Writes side_by_side.md and side_by_side.json in the output folder, and prints the table.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
JAR = os.path.join(ROOT, "benchmarks", "target", "benchmarks.jar")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
QUIET_LOAD = 1.5
GEMM_TARGET = 0.9
MOE_TARGET = 1.2
TRAIN_TARGET = 1.2
OPS = {"xw": "X·W", "dyWt": "dY·Wᵀ", "xtDy": "Xᵀ·dY"}


def java_home():
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return home
    for d in sorted(glob.glob("/usr/lib/jvm/*25*")):
        if os.path.exists(os.path.join(d, "bin", "java")):
            return d
    sys.exit("side_by_side: no JDK 25 found: set JAVA_HOME")


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def cpu():
    """Model name, vector extension and float lanes of the widest vectors, from /proc/cpuinfo."""
    with open("/proc/cpuinfo") as f:
        text = f.read()
    model = next((l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("model name")), "?")
    flags = next((l.split(":", 1)[1].split() for l in text.splitlines() if l.startswith("flags")), [])
    if "avx512f" in flags:
        return model, "AVX-512", 16
    if "avx2" in flags and "fma" in flags:
        return model, "AVX2+FMA", 8
    return model, "SSE", 4


def run(cmd, env=None):
    print(f"$ {' '.join(cmd)}", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=sys.stderr)


def wait_for_jmh_lock():
    """JMH refuses to start while another JMH run holds /tmp/jmh.lock; wait for it (timings would mix)."""
    import fcntl
    waited = False
    with open("/tmp/jmh.lock", "a") as f:
        while True:
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(f, fcntl.LOCK_UN)
                return
            except OSError:
                if not waited:
                    print("side_by_side: another JMH run holds /tmp/jmh.lock; waiting", file=sys.stderr, flush=True)
                    waited = True
                time.sleep(5)


def settle(limit_seconds=120):
    """Waits until the 1-minute load average is below QUIET_LOAD (our own previous run keeps it near
    2 on two cores for a while), at most limit_seconds."""
    deadline = time.time() + limit_seconds
    while loadavg()[0] > QUIET_LOAD and time.time() < deadline:
        time.sleep(5)


def note_load(log, side, part, rnd, command):
    settle()
    load = loadavg()
    log.append({"round": rnd, "side": side, "part": part, "load": load, "command": command})
    if load[0] > QUIET_LOAD:
        print("\n" + "!" * 78 + f"\n!! side_by_side: load average {load[0]:.2f} > {QUIET_LOAD} at the start of "
              f"round {rnd}, {side} {part}:\n!! the machine is not quiet; do not publish these numbers\n"
              + "!" * 78 + "\n", file=sys.stderr, flush=True)


def jmh(part, rnd, args, out, log):
    wait_for_jmh_lock()
    cmd = [os.path.join(java_home(), "bin", "java"), "-jar", JAR] + args + ["-rf", "json", "-rff", out]
    note_load(log, "moe4j", part, rnd, " ".join(cmd))
    run(cmd)
    with open(out) as f:
        return json.load(f)


def torch_script(part, rnd, script, args, out, log):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1"
    cmd = [PYTHON, os.path.join(HERE, script), "--out", out] + args
    note_load(log, "pytorch", part, rnd,
              "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE GLIBC_TUNABLES=glibc.malloc.hugetlb=1 " + " ".join(cmd))
    run(cmd, env=env)
    with open(out) as f:
        return json.load(f)


def secondary(result, name):
    """Median over measurement iterations of a JMH secondary metric (rawData: forks x iterations)."""
    return statistics.median(v for fork in result["secondaryMetrics"][name]["rawData"] for v in fork)


PARTS = ["gemm", "moe", "train"]


def run_part(part, rnd, out_dir, quick, log):
    """One run of each side of `part`, in this round's order; {key: (moe4j value, pytorch value)}."""
    jmh_extra = ["-wi", "1", "-i", "2", "-w", "1", "-r", "1"] if quick else ["-wi", "2", "-i", "3"]
    py_extra = ["--runs", "2"] if quick else ["--runs", "3"]
    out = lambda side: os.path.join(out_dir, f"{side}_{part}_round{rnd}.json")
    if part == "gemm":
        java = lambda: jmh(part, rnd, ["GemmBench", "-p", "impl=moe4j"] + jmh_extra, out("jmh"), log)
        py = lambda: torch_script(part, rnd, "gemm_bench.py", py_extra, out("torch"), log)
    elif part == "moe":
        java = lambda: jmh(part, rnd, ["MoeLayerBench"] + jmh_extra, out("jmh"), log)
        py = lambda: torch_script(part, rnd, "moe_bench.py", py_extra, out("torch"), log)
    else:
        java = lambda: jmh(part, rnd, ["TrainStepBench"] + jmh_extra, out("jmh"), log)
        py = lambda: torch_script(part, rnd, "train_step_bench.py", py_extra, out("torch"), log)
    if rnd % 2 == 1:
        j, t = java(), py()
    else:
        t, j = py(), java()
    if part == "gemm":
        ours = {f"{r['params']['op']}/{r['params']['size']}": secondary(r, "gflop") for r in j}
        return {key: (ours[key], t["gemm"][key]["median"]) for key in ours}, t
    if part == "moe":
        ours = {r["params"]["router"]: secondary(r, "tokens") for r in j}
        return {key: (ours[key], t["moe"][key]["median"]) for key in ours}, t
    return {"default": (secondary(j[0], "tokens"), t["train_step"]["median"])}, t


def stats(values):
    return {"median": statistics.median(values), "best": max(values), "runs": values}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "benchmarks", "results"))
    ap.add_argument("--quick", action="store_true", help="fewer and shorter iterations (a smoke run)")
    args = ap.parse_args()
    if not os.path.exists(JAR):
        sys.exit(f"side_by_side: {JAR} is missing: run mvn -B install -DskipTests first")
    os.makedirs(args.out_dir, exist_ok=True)
    log = []
    started = datetime.now(timezone.utc)
    values = {part: {} for part in PARTS}
    last = {}
    for rnd in range(1, args.rounds + 1):
        for part in PARTS:
            pairs, last[part] = run_part(part, rnd, args.out_dir, args.quick, log)
            for key, (ours, theirs) in pairs.items():
                entry = values[part].setdefault(key, {"moe4j": [], "pytorch": []})
                entry["moe4j"].append(ours)
                entry["pytorch"].append(theirs)
    finished = datetime.now(timezone.utc)

    model, simd, lanes = cpu()
    env = last["gemm"]["environment"]
    java_version = subprocess.run([os.path.join(java_home(), "bin", "java"), "-version"], capture_output=True,
                                  text=True).stderr.splitlines()
    loads = [entry["load"][0] for entry in log]
    lines = [f"Run {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC, {args.rounds} rounds. CPU: {model}, "
             f"{os.cpu_count()} cores, {simd} ({lanes} floats per vector). JDK: "
             f"{java_version[1] if len(java_version) > 1 else java_version[0]}. PyTorch {env['torch']} on "
             f"{env['threads']} threads, BLAS: {env['blas']}.", "",
             f"Load average (1 min) at the start of each of the {len(log)} runs: {min(loads):.2f} to "
             f"{max(loads):.2f}" + (f" — **above {QUIET_LOAD} in {sum(l > QUIET_LOAD for l in loads)} runs: not a "
                                    "quiet run**" if max(loads) > QUIET_LOAD else " (quiet)") + ".", ""]
    summary = {}

    def table(part, title, header, unit_row, target):
        lines.extend([f"### {title}", "", header, "|---|---:|---:|---:|---:|---:|---|"])
        summary[part] = {}
        for key, entry in values[part].items():
            ours, theirs = stats(entry["moe4j"]), stats(entry["pytorch"])
            ratio = ours["median"] / theirs["median"]
            summary[part][key] = {"moe4j": ours, "pytorch": theirs, "ratio": ratio}
            lines.append(f"| {unit_row(key)} | {ours['median']:.0f} | {ours['best']:.0f} | {theirs['median']:.0f} | "
                         f"{theirs['best']:.0f} | {ratio:.2f} | {'yes' if ratio >= target else 'no'} |")
        lines.append("")

    def gemm_row(key):
        op, size = key.split("/")
        t = last["gemm"]["gemm"][key]
        return f"{OPS[op]} {t['m']}×{t['n']}×{t['k']}"

    def moe_row(key):
        t = last["moe"]["moe"][key]
        return f"{key} (C={t['capacity']}, PyTorch {t['baseline']})"

    table("gemm", f"GEMM (GFLOP/s; ratio = moe4j / OpenBLAS medians, target ≥ {GEMM_TARGET})",
          "| product m×n×k | moe4j median | moe4j best | OpenBLAS median | OpenBLAS best | ratio | target met |",
          gemm_row, GEMM_TARGET)
    table("moe", "MoE layer forward+backward (tokens/s; T=4096, D=512, F=2048, GELU, capacity factor 1.25; "
          f"target ≥ {MOE_TARGET})",
          "| router | moe4j median | moe4j best | PyTorch median | PyTorch best | ratio | target met |",
          moe_row, MOE_TARGET)
    table("train", f"Training step of the default MoE-GPT (tokens/s; target ≥ {TRAIN_TARGET})",
          "| model | moe4j median | moe4j best | PyTorch median | PyTorch best | ratio | target met |",
          lambda key: f"default: 4×128, 8 experts 2 top-1, batch 16×64, AdamW (PyTorch "
                      f"{last['train']['train_step']['baseline']})", TRAIN_TARGET)

    text = "\n".join(lines)
    with open(os.path.join(args.out_dir, "side_by_side.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out_dir, "side_by_side.json"), "w") as f:
        json.dump({"started": started.isoformat(), "finished": finished.isoformat(), "rounds": args.rounds,
                   "cpu": model, "simd": simd, "vector_floats": lanes, "platform": platform.platform(),
                   "environment": env, "runs": log, "results": summary}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
