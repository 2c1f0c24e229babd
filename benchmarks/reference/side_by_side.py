#!/usr/bin/python3
"""Runs moe4j's JMH benchmarks and the PyTorch scripts in turn on this machine and writes a markdown
table of ratios (medians of several runs on each side).

    /usr/bin/python3 benchmarks/reference/side_by_side.py [--out-dir benchmarks/results] [--quick]

Needs benchmarks/target/benchmarks.jar (mvn -B install -DskipTests) and a JDK 25 (JAVA_HOME or
/usr/lib/jvm/*25*). Order: GEMM (Java, then PyTorch), MoE layer (Java, then PyTorch), training step
(Java, then PyTorch), so both sides of a comparison run close in time. The PyTorch side runs with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment, so OpenBLAS picks its own
kernels for this CPU. Writes side_by_side.md and side_by_side.json in the output folder, and prints
the table.
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

GEMM_TARGET = 0.85
MOE_TARGET = 1.0


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
        return " ".join(f.read().split()[:3])


def cpu_model():
    with open("/proc/cpuinfo") as f:
        text = f.read()
    model = next((l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("model name")), "?")
    flags = next((l.split(":", 1)[1].split() for l in text.splitlines() if l.startswith("flags")), [])
    simd = "AVX-512" if "avx512f" in flags else ("AVX2+FMA" if "avx2" in flags and "fma" in flags else "SSE")
    return model, simd


def run(cmd, env=None, what=""):
    print(f"$ {' '.join(cmd)}", file=sys.stderr, flush=True)
    start = time.time()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=sys.stderr)
    return time.time() - start


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


def jmh(pattern, out, extra, log):
    wait_for_jmh_lock()
    load_before = loadavg()
    cmd = [os.path.join(java_home(), "bin", "java"), "-jar", JAR, pattern, "-rf", "json", "-rff", out] + extra
    run(cmd)
    log.append({"side": "moe4j", "bench": pattern, "load_before": load_before, "load_after": loadavg(),
                "command": " ".join(cmd)})
    with open(out) as f:
        return json.load(f)


def torch_script(script, out, extra, log):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    load_before = loadavg()
    cmd = [PYTHON, os.path.join(HERE, script), "--out", out] + extra
    run(cmd, env=env)
    log.append({"side": "pytorch", "bench": script, "load_before": load_before, "load_after": loadavg(),
                "command": "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE " + " ".join(cmd)})
    with open(out) as f:
        return json.load(f)


def secondary(result, name):
    """Median over measurement iterations of a JMH secondary metric (rawData: forks x iterations)."""
    raw = [v for fork in result["secondaryMetrics"][name]["rawData"] for v in fork]
    return statistics.median(raw), len(raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "benchmarks", "results"))
    ap.add_argument("--quick", action="store_true", help="fewer and shorter iterations (a smoke run)")
    args = ap.parse_args()
    if not os.path.exists(JAR):
        sys.exit(f"side_by_side: {JAR} is missing: run mvn -B install -DskipTests first")
    os.makedirs(args.out_dir, exist_ok=True)
    jmh_extra = ["-wi", "1", "-i", "2", "-w", "1", "-r", "1"] if args.quick else []
    py_extra = ["--runs", "2"] if args.quick else ["--runs", "5"]
    tmp = args.out_dir
    log = []
    started = datetime.now(timezone.utc)

    j_gemm = jmh("GemmBench|GemmPortableBench", os.path.join(tmp, "jmh_gemm.json"), jmh_extra, log)
    t_gemm = torch_script("gemm_bench.py", os.path.join(tmp, "torch_gemm.json"), py_extra, log)
    j_moe = jmh("MoeLayerBench", os.path.join(tmp, "jmh_moe.json"), jmh_extra, log)
    t_moe = torch_script("moe_bench.py", os.path.join(tmp, "torch_moe.json"), py_extra, log)
    j_train = jmh("TrainStepBench", os.path.join(tmp, "jmh_train.json"), jmh_extra, log)
    t_train = torch_script("train_step_bench.py", os.path.join(tmp, "torch_train.json"), py_extra, log)
    finished = datetime.now(timezone.utc)

    env = t_gemm["environment"]
    model, simd = cpu_model()
    java_version = subprocess.run([os.path.join(java_home(), "bin", "java"), "-version"], capture_output=True,
                                  text=True).stderr.splitlines()
    lines = []
    lines.append(f"Run {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC. CPU: {model}, {os.cpu_count()} cores, "
                 f"{simd}. JDK: {java_version[1] if len(java_version) > 1 else java_version[0]}. "
                 f"PyTorch {env['torch']} on {env['threads']} threads, BLAS: {env['blas']}.")
    lines.append("")
    lines.append("Load average (1, 5, 15 min) before / after each part:")
    lines.append("")
    for entry in log:
        lines.append(f"- {entry['side']} {entry['bench']}: {entry['load_before']} / {entry['load_after']}")
    lines.append("")

    lines.append("### GEMM (GFLOP/s, median; ratio = moe4j / OpenBLAS, target ≥ "
                 f"{GEMM_TARGET})")
    lines.append("")
    lines.append("| product | m×n×k | moe4j | OpenBLAS (torch) | EJML | moe4j / OpenBLAS | target met |")
    lines.append("|---|---|---:|---:|---:|---:|---|")
    gemm = {}
    for r in j_gemm:
        if r["benchmark"].endswith("GemmBench.gemm"):
            p = r["params"]
            gemm[(p["op"], p["size"], p["impl"])] = secondary(r, "gflop")[0]
    names = {"xw": "X·W", "dyWt": "dY·Wᵀ", "xtDy": "Xᵀ·dY"}
    summary = {"gemm": {}, "moe": {}, "train_step": {}}
    for size in ("ffn", "cube"):
        for op in ("xw", "dyWt", "xtDy"):
            t = t_gemm["gemm"][f"{op}/{size}"]
            ours, ejml = gemm.get((op, size, "moe4j")), gemm.get((op, size, "ejml"))
            ratio = ours / t["median"]
            summary["gemm"][f"{op}/{size}"] = {"moe4j": ours, "openblas": t["median"], "ejml": ejml, "ratio": ratio}
            lines.append(f"| {names[op]} | {t['m']}×{t['n']}×{t['k']} | {ours:.1f} | {t['median']:.1f} | "
                         f"{ejml:.1f} | {ratio:.2f} | {'yes' if ratio >= GEMM_TARGET else 'no'} |")
    portable = {r["params"]["kernel"]: secondary(r, "gflop")[0] for r in j_gemm
                if r["benchmark"].endswith("GemmPortableBench.matmul")}
    if portable:
        n = next(r["params"]["n"] for r in j_gemm if r["benchmark"].endswith("GemmPortableBench.matmul"))
        lines.append("")
        lines.append(f"X·W at {n}³ on the JVM device: Vector-API override {portable.get('simd', 0):.1f} GFLOP/s, "
                     f"portable tiled kernel {portable.get('portable', 0):.2f} GFLOP/s.")
    lines.append("")

    lines.append(f"### MoE layer forward+backward (tokens/s, median; T=4096, D=512, F=2048, GELU, "
                 f"capacity factor 1.25; target ≥ {MOE_TARGET})")
    lines.append("")
    lines.append("| router | capacity C | moe4j | PyTorch | moe4j / PyTorch | target met |")
    lines.append("|---|---:|---:|---:|---:|---|")
    moe = {r["params"]["router"]: secondary(r, "tokens")[0] for r in j_moe}
    for router, t in t_moe["moe"].items():
        ours = moe[router]
        ratio = ours / t["median"]
        summary["moe"][router] = {"moe4j": ours, "pytorch": t["median"], "ratio": ratio}
        lines.append(f"| {router} | {t['capacity']} | {ours:.0f} | {t['median']:.0f} | {ratio:.2f} | "
                     f"{'yes' if ratio >= MOE_TARGET else 'no'} |")
    lines.append("")

    lines.append("### Training step of the default MoE-GPT (tokens/s, median)")
    lines.append("")
    lines.append("| model | moe4j | PyTorch | moe4j / PyTorch |")
    lines.append("|---|---:|---:|---:|")
    ours = secondary(j_train[0], "tokens")[0]
    theirs = t_train["train_step"]["median"]
    summary["train_step"] = {"moe4j": ours, "pytorch": theirs, "ratio": ours / theirs}
    lines.append(f"| default (4×128, 8 experts 2 top-1, batch 16×64, AdamW) | {ours:.0f} | {theirs:.0f} | "
                 f"{ours / theirs:.2f} |")
    lines.append("")

    table = "\n".join(lines)
    with open(os.path.join(args.out_dir, "side_by_side.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out_dir, "side_by_side.json"), "w") as f:
        json.dump({"started": started.isoformat(), "finished": finished.isoformat(), "cpu": model, "simd": simd,
                   "platform": platform.platform(), "environment": env, "load": log, "results": summary},
                  f, indent=1)
    print(table)


if __name__ == "__main__":
    main()
