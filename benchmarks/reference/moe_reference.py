#!/usr/bin/python3
"""PyTorch reference of the moe4j MoE layer (docs/moe.md) and writer of its golden fixtures.

Needs a python3 with torch (Debian's: `/usr/bin/python3` with `python3-torch`); nothing else.

    /usr/bin/python3 benchmarks/reference/moe_reference.py            # rewrite the fixtures
    /usr/bin/python3 benchmarks/reference/moe_reference.py --check    # self-checks only, write nothing

Each fixture is one safetensors file in engine/src/test/resources/golden/moe/, written by hand
(struct + json) with the moe4j.crc32 checksum the Java reader verifies. It holds the inputs, every
parameter, the outputs y, aux and z, the routing (expert_index/kept or expert_tokens), and the
gradients of  L = sum(y * grad_y) + aux_loss_coef * aux + z_loss_coef * z  with respect to x and
every parameter. engine/.../moe/MoeLayerGoldenTest.java compares the Java layer against them.

The layer here is written for reading, not speed: routing is plain Python loops over tokens in
the priority order docs/moe.md states; the differentiable part (softmax, combine weights,
experts, losses) is ordinary torch autograd.
"""
import argparse
import json
import math
import os
import struct
import sys
import zlib
from dataclasses import asdict, dataclass
from fractions import Fraction

import torch
import torch.nn.functional as F

GOLDEN_VERSION = "1"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "engine", "src", "test", "resources", "golden", "moe")
# Smallest allowed gap between probabilities whose order decides the routing, so that float32
# rounding differences between Java and PyTorch cannot flip a choice.
TIE_GAP = 1e-4


# --------------------------------------------------------------------------------------------
# Configuration (field names are those of the `config` metadata the Java test parses)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MoeConfig:
    router: str                  # "topk" | "prototype" | "expert_choice"
    experts: int                 # E
    k: int                       # choices per token (top-k) or prototypes (k top-1); ignored by expert choice
    capacity_factor: float       # training capacity factor (the fixtures are training passes)
    eval_capacity_factor: float  # evaluation capacity factor (unused here; differs to catch mix-ups)
    renormalize: bool            # top-k only: combine weights renormalised over kept assignments
    aux_loss_coef: float
    z_loss_coef: float
    jitter: float                # always 0.0 in fixtures
    expert: str                  # "gelu" | "swiglu"
    hidden: int                  # F
    every: int                   # MoE every n-th block (1); not used by the layer itself
    shared_experts: int = 0      # dense experts every token passes through, added to the routed output
    gate: str = "softmax"        # "softmax" | "sigmoid" (top-k only: weights over the chosen experts)
    balance: str = "aux_loss"    # "aux_loss" | "bias" (a selection bias, given in the fixture)
    bias_update_rate: float = 0.001  # gamma of bias balancing (not used by one forward)
    aux_scope: str = "batch"     # "batch" | "sequence" (the balance loss per sequence, averaged)
    route_groups: int = 1        # experts in this many groups; a token's experts from its best top_groups
    top_groups: int = 1


def capacity(cfg: MoeConfig, n: int, loads=None) -> int:
    """Expert capacity C of docs/moe.md, computed exactly (rational arithmetic); a capacity factor
    of 0 is dropless: the largest of the experts' loads (assignments before capacity)."""
    if cfg.capacity_factor == 0:
        return max(1, max(loads))
    cf = Fraction(repr(cfg.capacity_factor))
    e, k = cfg.experts, cfg.k
    if cfg.router == "topk":
        exact = Fraction(k * n, e) * cf
    elif cfg.router == "prototype":
        exact = Fraction(n, e // k) * cf
    elif cfg.router == "expert_choice":
        exact = Fraction(n, 1) * cf / e
    else:
        raise ValueError(f"router={cfg.router!r}: expected topk, prototype or expert_choice")
    c = math.ceil(exact)
    # A Java implementation computes the same in double; make sure the cases chosen cannot round
    # to a different integer there (an exact integer, or well away from one).
    assert exact.denominator == 1 or abs(float(exact) - round(float(exact))) > 1e-6, exact
    return c


# --------------------------------------------------------------------------------------------
# Experts
# --------------------------------------------------------------------------------------------

def expert_forward(cfg: MoeConfig, params: dict, e: int, xs: torch.Tensor, prefix: str = "experts.") -> torch.Tensor:
    """Expert e (of the routed experts, or of the shared ones with prefix "shared.") applied to the rows xs (n, D)."""
    if cfg.expert == "gelu":
        h = F.gelu(xs @ params[prefix + "up.weight"][e] + params[prefix + "up.bias"][e], approximate="tanh")
        return h @ params[prefix + "down.weight"][e] + params[prefix + "down.bias"][e]
    if cfg.expert == "swiglu":
        h = F.silu(xs @ params[prefix + "gate.weight"][e]) * (xs @ params[prefix + "up.weight"][e])
        return h @ params[prefix + "down.weight"][e]
    raise ValueError(f"expert={cfg.expert!r}: expected gelu or swiglu")


def expert_shapes(cfg: MoeConfig, prefix: str, e: int, d: int) -> dict:
    f = cfg.hidden
    if cfg.expert == "gelu":
        return {prefix + "up.weight": (e, d, f), prefix + "up.bias": (e, f),
                prefix + "down.weight": (e, f, d), prefix + "down.bias": (e, d)}
    return {prefix + "gate.weight": (e, d, f), prefix + "up.weight": (e, d, f), prefix + "down.weight": (e, f, d)}


def parameter_shapes(cfg: MoeConfig, d: int) -> dict:
    """Parameter names and shapes of docs/moe.md, in a fixed order."""
    shapes = {"router.weight": (d, cfg.experts)}
    shapes.update(expert_shapes(cfg, "experts.", cfg.experts, d))
    if cfg.shared_experts:
        shapes.update(expert_shapes(cfg, "shared.", cfg.shared_experts, d))
    return shapes


# --------------------------------------------------------------------------------------------
# Routing: which (token, expert) assignments are kept. Not differentiable; plain loops.
# --------------------------------------------------------------------------------------------

def ranked(row: torch.Tensor) -> list:
    """Indices of row by decreasing value, ties by lower index first."""
    vals = row.tolist()
    return sorted(range(len(vals)), key=lambda i: (-vals[i], i))


def masked_to_groups(sel: torch.Tensor, groups: int, top: int) -> torch.Tensor:
    """Group-limited routing: a group's score is its best expert's; each token keeps its best `top`
    groups (ties: the lower group) and every other expert's score becomes -inf."""
    n, e = sel.shape
    size = e // groups
    out = sel.clone()
    for t in range(n):
        best = [max(sel[t, g * size:(g + 1) * size].tolist()) for g in range(groups)]
        kept = sorted(range(groups), key=lambda g: (-best[g], g))[:top]
        for g in range(groups):
            if g not in kept:
                out[t, g * size:(g + 1) * size] = float("-inf")
    return out


def route_topk(p: torch.Tensor, k: int, c):
    """Returns choice (N,k) expert ids in decreasing p, kept (N,k) bools, counts (E,) before capacity.
    c is the capacity, or a function of the counts (dropless)."""
    n, e = p.shape
    choice = [ranked(p[t])[:k] for t in range(n)]
    counts = [sum(1 for t in range(n) for r in range(k) if choice[t][r] == ex) for ex in range(e)]
    if callable(c):
        c = c(counts)
    kept = [[False] * k for _ in range(n)]
    filled = [0] * e
    for r in range(k):                 # all first choices, then all second choices, ...
        for t in range(n):             # ... each in token order
            ex = choice[t][r]
            if filled[ex] < c:
                filled[ex] += 1
                kept[t][r] = True
    return choice, kept, counts, c


def route_prototype(p_groups: list, c):
    """p_groups: k tensors (N,G). Returns choice (N,k) global expert ids, kept (N,k), counts per group,
    the capacity (c, or c(all counts) for dropless)."""
    k = len(p_groups)
    n, g = p_groups[0].shape
    choice = [[grp * g + ranked(p[t])[0] for grp, p in enumerate(p_groups)] for t in range(n)]
    counts = [[sum(1 for t in range(n) if choice[t][grp] == grp * g + local) for local in range(g)]
              for grp in range(k)]
    if callable(c):
        c = c([x for cnt in counts for x in cnt])
    kept = [[False] * k for _ in range(n)]
    for grp in range(k):
        filled = [0] * g
        for t in range(n):             # token order within each expert
            local = choice[t][grp] - grp * g
            if filled[local] < c:
                filled[local] += 1
                kept[t][grp] = True
    return choice, kept, counts, c


def route_expert_choice(p: torch.Tensor, c: int):
    """Returns tokens (E,C): the tokens each expert takes, by decreasing p[:,e], ties lower token first."""
    return [ranked(p[:, ex])[:c] for ex in range(p.shape[1])]


# --------------------------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------------------------

def balance_loss(dist: torch.Tensor, choice, g: int, per_token: int, group_of, seq_len: int) -> torch.Tensor:
    """G·Σ_e f_e·P_e for one softmax group, over the batch or (seq_len > 0) per sequence, averaged.
    dist (N,G): the group's distribution; choice: per token, its choices in this group (local ids)."""
    n = dist.shape[0]
    spans = [(b, b + seq_len) for b in range(0, n, seq_len)] if seq_len else [(0, n)]
    parts = []
    for lo, hi in spans:
        counts = [sum(1 for t in range(lo, hi) for ex in group_of(choice[t]) if ex == local) for local in range(g)]
        f = torch.tensor(counts, dtype=dist.dtype) / ((hi - lo) * per_token)      # constants
        parts.append(g * (f * dist[lo:hi].mean(dim=0)).sum())
    return torch.stack(parts).mean()


def moe_forward(cfg: MoeConfig, params: dict, x: torch.Tensor, bias=None):
    """y (N,D), aux (), z (), routing dict. Training pass with jitter 0 (capacity_factor applies).
    x is (N,D), or (B,T,D) for the sequence-wise balance loss; bias (E,) is the selection bias."""
    assert cfg.jitter == 0.0, "the reference does not draw jitter noise"
    seq_len = x.shape[1] if x.dim() == 3 and cfg.aux_scope == "sequence" else 0
    x = x.reshape(-1, x.shape[-1])
    n, d = x.shape
    e, k = cfg.experts, cfg.k
    c = capacity(cfg, n) if cfg.capacity_factor != 0 else (lambda loads: capacity(cfg, n, loads))
    h = x @ params["router.weight"]                    # (N,E) router logits
    y = torch.zeros_like(x)
    routing = {}

    if cfg.router in ("topk", "expert_choice"):
        if cfg.gate == "sigmoid":
            p = torch.sigmoid(h)                       # per-expert scores
            dist = p / p.sum(dim=-1, keepdim=True)     # what the balance loss sees
        else:
            p = torch.softmax(h, dim=-1)               # (N,E), max-subtracted inside torch
            dist = p
        z = (torch.logsumexp(h, dim=-1) ** 2).mean()
    if cfg.router == "topk":
        sel = p.detach() + (bias if bias is not None else 0)
        if cfg.route_groups > 1:
            sel = masked_to_groups(sel, cfg.route_groups, cfg.top_groups)
        choice, kept, counts, c = route_topk(sel, k, c)
        # weight(t, r) = p[t, choice] (times kept); renormalised over the kept ones, or for sigmoid
        # gates over the chosen ones
        idx = torch.tensor(choice, dtype=torch.long)                     # (N,k)
        keep = torch.tensor(kept, dtype=p.dtype)                         # (N,k)
        chosen_p = torch.gather(p, 1, idx)
        w = chosen_p * keep
        if cfg.gate == "sigmoid":
            w = w / chosen_p.sum(dim=1, keepdim=True)
        elif cfg.renormalize:
            denom = w.sum(dim=1, keepdim=True)
            none_kept = (keep.sum(dim=1, keepdim=True) == 0).to(p.dtype)
            w = w / (denom + none_kept)                # 0 / 1 = 0 for a token with nothing kept
        for ex in range(e):
            rows = [(t, r) for t in range(n) for r in range(k) if choice[t][r] == ex and kept[t][r]]
            if rows:
                ts = torch.tensor([t for t, _ in rows])
                rs = torch.tensor([r for _, r in rows])
                out = expert_forward(cfg, params, ex, x[ts])
                y = y.index_add(0, ts, w[ts, rs].unsqueeze(1) * out)
        aux = balance_loss(dist, choice, e, k, lambda cs: cs, seq_len)
        routing.update(expert_index=choice, kept=kept)
    elif cfg.router == "prototype":
        if e % k != 0:
            raise ValueError(f"experts={e} is not divisible by k={k}")
        g = e // k
        hs = [h[:, i * g:(i + 1) * g] for i in range(k)]
        ps = [torch.softmax(hg, dim=-1) for hg in hs]
        sels = [pg.detach() + (bias[i * g:(i + 1) * g] if bias is not None else 0) for i, pg in enumerate(ps)]
        choice, kept, counts, c = route_prototype(sels, c)
        for grp in range(k):
            for local in range(g):
                ex = grp * g + local
                ts = [t for t in range(n) if choice[t][grp] == ex and kept[t][grp]]
                if ts:
                    ts = torch.tensor(ts)
                    out = expert_forward(cfg, params, ex, x[ts])
                    y = y.index_add(0, ts, ps[grp][ts, local].unsqueeze(1) * out)
        aux = torch.stack([balance_loss(ps[i], choice, g, 1, lambda cs, i=i: [cs[i] - i * g], seq_len)
                           for i in range(k)]).mean()
        z = torch.stack([torch.logsumexp(hg, dim=-1) ** 2 for hg in hs]).mean()   # over tokens and prototypes
        routing.update(expert_index=choice, kept=kept, counts=counts)
    elif cfg.router == "expert_choice":
        tokens = route_expert_choice(p.detach(), c)
        for ex in range(e):
            ts = torch.tensor(tokens[ex], dtype=torch.long)
            if len(tokens[ex]):
                out = expert_forward(cfg, params, ex, x[ts])
                y = y.index_add(0, ts, p[ts, ex].unsqueeze(1) * out)
        aux = torch.zeros((), dtype=x.dtype)
        routing.update(expert_tokens=tokens)
    else:
        raise ValueError(f"router={cfg.router!r}: expected topk, prototype or expert_choice")
    for s_ in range(cfg.shared_experts):
        y = y + expert_forward(cfg, params, s_, x, prefix="shared.")
    routing["capacity"] = c
    return y, aux, z, routing


def objective(cfg, y, aux, z, grad_y):
    """L = sum(y * grad_y) + aux_loss_coef * aux + z_loss_coef * z."""
    return (y * grad_y).sum() + cfg.aux_loss_coef * aux + cfg.z_loss_coef * z


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    cfg: MoeConfig
    n: int
    d: int
    seed: int
    router_scale: float = 2.0        # router weights ~ N(0, router_scale^2 / D): well separated p
    zero_expert: int = -1            # if >= 0, this expert is made to receive no token
    note: str = ""
    seq_len: int = 0                 # > 0: x is (N/seq_len, seq_len, D), for the sequence-wise loss
    bias: tuple = ()                 # the selection bias of bias balancing, one value per expert


def make_inputs(case: Case):
    """x, params, grad_y in float32 for the case, redrawn until no routing decision is near a tie."""
    cfg, n, d = case.cfg, case.n, case.d
    gen = torch.Generator().manual_seed(case.seed)
    for attempt in range(100):
        x = torch.randn(n, d, generator=gen)
        params = {}
        for name, shape in parameter_shapes(cfg, d).items():
            fan_in = shape[-2] if len(shape) >= 2 else shape[-1]
            if name == "router.weight":
                std = case.router_scale / math.sqrt(d)
            elif name.endswith(".bias"):
                std = 0.1
            else:
                std = 1.0 / math.sqrt(fan_in)
            params[name] = torch.randn(*shape, generator=gen) * std
        if case.zero_expert >= 0:
            # Feature 0 of x is positive for every token and pushes this expert's logit far down.
            x[:, 0] = x[:, 0].abs() + 1.0
            params["router.weight"][0, case.zero_expert] = -8.0
        grad_y = torch.randn(n, d, generator=gen)
        if routing_margin(cfg, params, x, selection_bias(case)) > TIE_GAP:
            if case.seq_len:
                x = x.reshape(n // case.seq_len, case.seq_len, d)
            return x, params, grad_y, attempt
    raise RuntimeError(f"{case.name}: could not draw inputs without near-ties in 100 attempts")


def selection_bias(case: Case):
    return torch.tensor(case.bias, dtype=torch.float32) if case.bias else None


def routing_margin(cfg: MoeConfig, params: dict, x: torch.Tensor, bias=None) -> float:
    """Smallest gap between scores whose order decides the routing (float32): the selection scores
    (gate scores plus the bias) of the choices, and the group scores at the top_groups boundary."""
    h = x @ params["router.weight"]
    n = x.shape[0]
    if cfg.router == "topk":
        sel = (torch.sigmoid(h) if cfg.gate == "sigmoid" else torch.softmax(h, dim=-1)) + (
            bias if bias is not None else 0)
        gaps = []
        if cfg.route_groups > 1:
            size = cfg.experts // cfg.route_groups
            best = sel.reshape(n, cfg.route_groups, size).max(dim=-1).values
            s = torch.sort(best, dim=-1, descending=True).values
            gaps.append(float((s[:, cfg.top_groups - 1] - s[:, cfg.top_groups]).min()))
            sel = masked_to_groups(sel, cfg.route_groups, cfg.top_groups)
        # The order of the first k choices matters (choice rank sets slot priority), and the
        # k-th against the (k+1)-th decides the set.
        s = torch.sort(sel, dim=-1, descending=True).values[:, :cfg.k + 1]
        gaps.append(float((s[:, :-1] - s[:, 1:]).min()))
        return min(gaps)
    if cfg.router == "prototype":
        g = cfg.experts // cfg.k
        gaps = []
        for i in range(cfg.k):
            sel = torch.softmax(h[:, i * g:(i + 1) * g], dim=-1) + (bias[i * g:(i + 1) * g] if bias is not None else 0)
            s = torch.sort(sel, dim=-1, descending=True).values
            gaps.append(float((s[:, 0] - s[:, 1]).min()))
        return min(gaps)
    # expert choice: per expert, the C-th against the (C+1)-th token (and the order is irrelevant)
    c = capacity(cfg, n)
    s = torch.sort(torch.softmax(h, dim=-1), dim=0, descending=True).values
    return float((s[c - 1] - s[c]).min()) if c < n else 1.0


# --------------------------------------------------------------------------------------------
# Fixture cases
# --------------------------------------------------------------------------------------------

def config(router, experts, k, cf, renormalize, expert, hidden, **modern):
    """A fixture's config; `modern` sets the routing options of current MoE models (shared_experts,
    gate, balance, aux_scope, route_groups, top_groups)."""
    return MoeConfig(router=router, experts=experts, k=k, capacity_factor=cf, eval_capacity_factor=2.0,
                     renormalize=renormalize, aux_loss_coef=0.1, z_loss_coef=0.01, jitter=0.0,
                     expert=expert, hidden=hidden, every=1, **modern)


CASES = [
    Case("topk_k1_cf1.0_gelu_seed1", config("topk", 4, 1, 1.0, False, "gelu", 16), n=30, d=12, seed=1,
         note="Switch (top-1); k*N/E = 7.5 is not an integer (C = 8); drops"),
    Case("topk_k1_cf0.5_renorm_swiglu_seed2", config("topk", 4, 1, 0.5, True, "swiglu", 12), n=32, d=8, seed=2,
         note="Switch with renormalisation (weight 1 for kept); heavy drops"),
    Case("topk_k2_cf1.0_gelu_seed1", config("topk", 6, 2, 1.0, False, "gelu", 20), n=48, d=16, seed=1,
         note="GShard-style top-2 without renormalisation; drops of first and second choices"),
    Case("topk_k2_cf1.0_renorm_swiglu_seed3", config("topk", 6, 2, 1.0, True, "swiglu", 20), n=48, d=16, seed=3,
         note="top-2 renormalised over kept assignments"),
    Case("topk_k2_cf0.5_renorm_gelu_seed4", config("topk", 4, 2, 0.5, True, "gelu", 16), n=40, d=10, seed=4,
         router_scale=3.0, note="top-2 renormalised, heavy drops: tokens with one or no kept assignment"),
    Case("topk_k2_cf4.0_gelu_seed5", config("topk", 4, 2, 4.0, False, "gelu", 16), n=24, d=12, seed=5,
         note="capacity large enough: nothing dropped (the dense mixture)"),
    Case("topk_k2_cf1.25_zeroexpert_gelu_seed6", config("topk", 5, 2, 1.25, False, "gelu", 12), n=32, d=12,
         seed=6, zero_expert=3, note="expert 3 receives no token (its gradients are zero)"),
    Case("prototype_k1_cf1.0_gelu_seed1", config("prototype", 4, 1, 1.0, False, "gelu", 16), n=30, d=12,
         seed=1, note="one prototype: same inputs as topk_k1_cf1.0_gelu_seed1 and must equal it"),
    Case("prototype_k2_cf1.0_gelu_seed1", config("prototype", 8, 2, 1.0, False, "gelu", 16), n=48, d=16,
         seed=1, note="2 top-1 prototyping (G = 4); drops"),
    Case("prototype_k2_cf0.5_swiglu_seed2", config("prototype", 8, 2, 0.5, False, "swiglu", 24), n=64, d=16,
         seed=2, note="2 top-1 with SwiGLU experts, heavy drops"),
    Case("prototype_k4_cf1.0_gelu_seed3", config("prototype", 8, 4, 1.0, False, "gelu", 12), n=36, d=12,
         seed=3, note="4 top-1 prototypes of G = 2 experts"),
    Case("expert_choice_cf1.0_gelu_seed1", config("expert_choice", 4, 2, 1.0, False, "gelu", 16), n=32, d=12,
         seed=1, note="expert choice, C = 8; k is ignored; some tokens taken by none or several"),
    Case("expert_choice_cf0.5_swiglu_seed2", config("expert_choice", 6, 1, 0.5, False, "swiglu", 20), n=40,
         d=16, seed=2, note="expert choice, C = ceil(40*0.5/6) = 4: most tokens taken by no expert"),
    Case("topk_k2_cf1.0_shared2_gelu_seed7", config("topk", 6, 2, 1.0, False, "gelu", 12, shared_experts=2),
         n=36, d=12, seed=7, note="top-2 and 2 shared experts that every token passes through (DeepSeekMoE)"),
    Case("topk_k2_cf1.0_sigmoid_gelu_seed8", config("topk", 6, 2, 1.0, False, "gelu", 16, gate="sigmoid"),
         n=36, d=12, seed=8, note="sigmoid gates, weights normalised over the chosen experts; drops"),
    Case("topk_k2_cf1.25_sigmoid_bias_swiglu_seed9", config("topk", 6, 2, 1.25, False, "swiglu", 12,
         gate="sigmoid", balance="bias"), n=36, d=12, seed=9, bias=(0.05, -0.1, 0.0, 0.08, -0.02, 0.03),
         note="sigmoid gates, experts selected with a balance bias that the weights do not see (DeepSeek-V3)"),
    Case("topk_k2_cf1.0_sigmoid_sequence_gelu_seed10", config("topk", 6, 2, 1.0, False, "gelu", 12,
         gate="sigmoid", aux_scope="sequence"), n=48, d=12, seed=10, seq_len=8,
         note="the sequence-wise balance loss over 6 sequences of 8 tokens, sigmoid gates"),
    Case("prototype_k2_cf1.0_sequence_gelu_seed11", config("prototype", 8, 2, 1.0, False, "gelu", 12,
         aux_scope="sequence"), n=40, d=12, seed=11, seq_len=10,
         note="2 top-1 prototyping with the sequence-wise balance loss per prototype"),
    Case("topk_k2_dropless_gelu_seed12", config("topk", 6, 2, 0.0, False, "gelu", 12), n=36, d=12, seed=12,
         note="dropless: the capacity is the largest expert load, nothing is dropped"),
    Case("topk_k2_cf1.0_groups4_top2_gelu_seed13", config("topk", 8, 2, 1.0, False, "gelu", 12, route_groups=4,
         top_groups=2), n=40, d=12, seed=13, note="group-limited: each token's 2 experts within its best 2 of 4 groups"),
]


# --------------------------------------------------------------------------------------------
# Safetensors writer (by hand, no extra package)
# --------------------------------------------------------------------------------------------

def write_safetensors(path: str, tensors: dict, metadata: dict):
    """tensors: name -> torch tensor (float32 or int32), written in dict order."""
    codes = {torch.float32: "F32", torch.int32: "I32"}
    header = {"__metadata__": dict(metadata)}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    data = b"".join(chunks)
    header["__metadata__"]["moe4j.crc32"] = "%08x" % (zlib.crc32(data) & 0xFFFFFFFF)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        f.write(data)


def read_safetensors(path: str):
    """Inverse of write_safetensors (used by the self-checks)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    data = raw[8 + n:]
    assert meta["moe4j.crc32"] == "%08x" % zlib.crc32(data)
    dt = {"F32": torch.float32, "I32": torch.int32}
    out = {}
    for name, h in header.items():
        b, e = h["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=dt[h["dtype"]]).reshape(h["shape"])
    return out, meta


# --------------------------------------------------------------------------------------------
# One fixture
# --------------------------------------------------------------------------------------------

def run_case(case: Case):
    """Inputs, outputs and gradients of a case, all float32, plus the routing."""
    x, params, grad_y, attempt = make_inputs(case)
    x = x.clone().requires_grad_(True)
    params = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    y, aux, z, routing = moe_forward(case.cfg, params, x, selection_bias(case))
    objective(case.cfg, y, aux, z, grad_y).backward()
    return x, params, grad_y, y, aux, z, routing, attempt


def fixture_tensors(case: Case):
    x, params, grad_y, y, aux, z, routing, _ = run_case(case)
    t = {"x": x.detach()}
    t.update({k: v.detach() for k, v in params.items()})
    if case.bias:
        t["balance_bias"] = selection_bias(case)
    t["grad_y"] = grad_y
    t["y"] = y.detach()
    t["aux"] = aux.detach().reshape(())
    t["z"] = z.detach().reshape(())
    if "expert_index" in routing:
        t["expert_index"] = torch.tensor(routing["expert_index"], dtype=torch.int32)
        t["kept"] = torch.tensor(routing["kept"], dtype=torch.int32)
    else:
        t["expert_tokens"] = torch.tensor(routing["expert_tokens"], dtype=torch.int32)
    t["grad.x"] = x.grad
    for k, v in params.items():
        t["grad." + k] = v.grad
    return t, routing


def drops(routing, n) -> int:
    """Dropped assignments (top-k, prototype) or tokens taken by no expert (expert choice)."""
    if "kept" in routing:
        return sum(1 for row in routing["kept"] for kept in row if not kept)
    taken = {t for ts in routing["expert_tokens"] for t in ts}
    return n - len(taken)


def expert_loads(case: Case, routing) -> list:
    loads = [0] * case.cfg.experts
    if "kept" in routing:
        for row_e, row_k in zip(routing["expert_index"], routing["kept"]):
            for ex, kept in zip(row_e, row_k):
                loads[ex] += int(kept)
    else:
        for ex, ts in enumerate(routing["expert_tokens"]):
            loads[ex] = len(ts)
    return loads


def write_case(case: Case, out_dir: str):
    tensors, routing = fixture_tensors(case)
    cfg = asdict(case.cfg)
    cfg["width"] = case.d
    meta = {
        "moe4j.golden.version": GOLDEN_VERSION,
        "config": json.dumps(cfg, separators=(",", ":")),
        "seed": str(case.seed),
        "capacity": str(routing["capacity"]),
        "dropped": str(drops(routing, case.n)),
        "loads": json.dumps(expert_loads(case, routing)),
        "note": case.note,
        "generator": "benchmarks/reference/moe_reference.py (torch " + torch.__version__ + ")",
    }
    path = os.path.join(out_dir, case.name + ".safetensors")
    write_safetensors(path, tensors, meta)
    return path, routing


# --------------------------------------------------------------------------------------------
# Self-checks of the reference (float64, independent formulations)
# --------------------------------------------------------------------------------------------

def to64(x, params, grad_y):
    return (x.double().detach(), {k: v.double().detach() for k, v in params.items()}, grad_y.double())


def check_gradcheck(case: Case):
    """Finite differences (float64) of the whole objective w.r.t. x and every parameter."""
    x, params, grad_y, _ = make_inputs(case)
    x, params, grad_y = to64(x, params, grad_y)
    bias = selection_bias(case).double() if case.bias else None
    names = list(params)
    _, _, _, routing0 = moe_forward(case.cfg, params, x, bias)

    def fn(xx, *ps):
        pd = dict(zip(names, ps))
        y, aux, z, routing = moe_forward(case.cfg, pd, xx, bias)
        # perturbations must not change the routing (inputs are kept away from ties)
        assert {k: v for k, v in routing.items()} == routing0, "routing changed under perturbation"
        return objective(case.cfg, y, aux, z, grad_y)

    inputs = [x.requires_grad_(True)] + [params[k].requires_grad_(True) for k in names]
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5), case.name


def dense_mixture(cfg: MoeConfig, params, x):
    """Top-k with no capacity limit, written densely: y[t] = sum_e gate[t,e] * expert_e(x[t])."""
    p = torch.softmax(x @ params["router.weight"], dim=-1)
    top = torch.topk(p, cfg.k, dim=-1).indices
    mask = torch.zeros_like(p).scatter(1, top, 1.0)
    gate = p * mask
    if cfg.renormalize:
        gate = gate / gate.sum(dim=1, keepdim=True)
    outs = torch.stack([expert_forward(cfg, params, e, x) for e in range(cfg.experts)], dim=1)  # (N,E,D)
    return (gate.unsqueeze(2) * outs).sum(dim=1)


def check_dense(case: Case):
    x, params, grad_y, _ = make_inputs(case)
    x, params, grad_y = to64(x, params, grad_y)
    y, _, _, routing = moe_forward(case.cfg, params, x)
    assert drops(routing, case.n) == 0, case.name
    assert torch.allclose(y, dense_mixture(case.cfg, params, x), atol=1e-12, rtol=1e-10), case.name


def check_prototype_k1_equals_switch():
    a = fixture_tensors(next(c for c in CASES if c.name == "topk_k1_cf1.0_gelu_seed1"))[0]
    b = fixture_tensors(next(c for c in CASES if c.name == "prototype_k1_cf1.0_gelu_seed1"))[0]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"prototype k=1 differs from Switch in {k}"


def check_aux_balanced():
    """aux = 1 when routing and probabilities are perfectly uniform."""
    cfg = config("topk", 4, 1, 1.0, False, "gelu", 4)
    d = 4
    x = torch.zeros(8, d, dtype=torch.float64)
    params = {k: torch.zeros(s, dtype=torch.float64) for k, s in parameter_shapes(cfg, d).items()}
    # all p equal: every token picks expert 0 (ties: lower index), f = (1,0,0,0), P = 1/4 -> aux = 1
    _, aux, z, routing = moe_forward(cfg, params, x)
    assert abs(float(aux) - 1.0) < 1e-12 and abs(float(z) - math.log(4) ** 2) < 1e-12
    assert all(row[0] == 0 for row in routing["expert_index"])


def self_check():
    check_aux_balanced()
    check_prototype_k1_equals_switch()
    check_dense(next(c for c in CASES if c.name == "topk_k2_cf4.0_gelu_seed5"))
    for renorm in (False, True):
        big = Case("dense", config("topk", 4, 2, 8.0, renorm, "swiglu", 8), n=16, d=6, seed=11)
        check_dense(big)
    small = [
        Case("gc_topk1", config("topk", 4, 1, 1.0, False, "gelu", 5), n=10, d=4, seed=21),
        Case("gc_topk2r", config("topk", 4, 2, 0.5, True, "swiglu", 5), n=10, d=4, seed=22, router_scale=3.0),
        Case("gc_topk2", config("topk", 3, 2, 1.0, False, "gelu", 5), n=9, d=4, seed=23),
        Case("gc_proto", config("prototype", 4, 2, 1.0, False, "swiglu", 5), n=10, d=4, seed=24),
        Case("gc_ec", config("expert_choice", 4, 2, 0.5, False, "gelu", 5), n=10, d=4, seed=25),
        Case("gc_zero", config("topk", 4, 2, 1.0, False, "gelu", 5), n=10, d=4, seed=26, zero_expert=2),
        Case("gc_shared", config("topk", 4, 2, 1.0, False, "swiglu", 5, shared_experts=1), n=10, d=4, seed=27),
        Case("gc_sigmoid_bias", config("topk", 4, 2, 1.0, False, "gelu", 5, gate="sigmoid", balance="bias"), n=10,
             d=4, seed=28, bias=(0.1, -0.05, 0.0, 0.02)),
        Case("gc_sequence", config("topk", 4, 2, 1.0, False, "gelu", 5, aux_scope="sequence"), n=12, d=4, seed=29,
             seq_len=4),
        Case("gc_dropless", config("topk", 4, 2, 0.0, False, "gelu", 5), n=10, d=4, seed=30),
        Case("gc_groups", config("topk", 8, 2, 1.0, False, "gelu", 5, route_groups=4, top_groups=2), n=10, d=4,
             seed=31),
    ]
    for case in small:
        check_gradcheck(case)
    print(f"self-checks passed: aux/z balanced, prototype k=1 == Switch, dense mixture, "
          f"gradcheck of {len(small)} small cases")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="run the self-checks only, write nothing")
    ap.add_argument("--out", default=OUT_DIR, help="fixture folder (default: engine test resources)")
    args = ap.parse_args()
    torch.set_num_threads(1)           # same summation order every run: same bytes
    torch.use_deterministic_algorithms(True)
    self_check()
    if args.check:
        return
    os.makedirs(args.out, exist_ok=True)
    print(f"{'case':42s} {'N':>3s} {'D':>3s} {'E':>2s} {'F':>3s} {'C':>3s} {'drops':>5s}  loads")
    for case in CASES:
        path, routing = write_case(case, args.out)
        tensors, meta = read_safetensors(path)
        assert meta["moe4j.golden.version"] == GOLDEN_VERSION
        print(f"{case.name:42s} {case.n:3d} {case.d:3d} {case.cfg.experts:2d} {case.cfg.hidden:3d} "
              f"{routing['capacity']:3d} {drops(routing, case.n):5d}  {meta['loads']}")


if __name__ == "__main__":
    sys.exit(main())
