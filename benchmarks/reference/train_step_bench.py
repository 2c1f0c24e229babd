#!/usr/bin/python3
"""One training step of moe4j's default MoE-GPT in PyTorch, as TrainStepBench runs it in Java: byte
vocabulary 256, context 64, 4 pre-RMSNorm blocks of width 128 with 4 heads (qkv and projection with
biases), an MoE feed-forward in every block (8 GELU experts of hidden 256, 2 top-1 prototyping,
capacity factor 1.25, aux/z loss coefficients 0.01/0.001), final RMSNorm, an untied head with bias;
batch 16 x 64 tokens; AdamW (lr 3e-3, betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices and
embeddings), gradient norm clipped to 1.0; 2 threads.

    /usr/bin/python3 benchmarks/reference/train_step_bench.py [--runs 5] [--out FILE]

The MoE layer is moe_padded.py's or moe_fast.py's (both checked against moe_reference.py): the two
models (same initialisation) are timed in turn, round by round, and the baseline is the faster.
Output: JSON with tokens/s per run and median per layer, and the baseline's name and median.
"""
import argparse
import math

import torch
import torch.nn.functional as F

import bench_common as bc
import moe_fast
import moe_padded
import moe_reference as ref

VOCAB, CONTEXT, BLOCKS, HEADS, WIDTH = 256, 64, 4, 4, 128
BATCH = 16
MOE = ref.MoeConfig(router="prototype", experts=8, k=2, capacity_factor=1.25, eval_capacity_factor=2.0,
                    renormalize=False, aux_loss_coef=0.01, z_loss_coef=0.001, jitter=0.0, expert="gelu",
                    hidden=256, every=1)
INIT_STD = 0.02


class RmsNorm(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


LAYERS = {"padded": moe_padded.moe_forward, "fast": moe_fast.moe_forward}


class Moe(torch.nn.Module):
    def __init__(self, residual_std, forward):
        super().__init__()
        self.layer = forward
        shapes = ref.parameter_shapes(MOE, WIDTH)
        self.names = list(shapes)
        for name, shape in shapes.items():
            std = residual_std if name.startswith("experts.down.weight") else INIT_STD
            t = torch.zeros(*shape) if name.endswith("bias") else torch.randn(*shape) * std
            self.register_parameter(name.replace(".", "_"), torch.nn.Parameter(t))

    def forward(self, x):
        params = {name: getattr(self, name.replace(".", "_")) for name in self.names}
        y, aux, z = self.layer(MOE, params, x.reshape(-1, WIDTH))
        return y.view_as(x), MOE.aux_loss_coef * aux + MOE.z_loss_coef * z


class Block(torch.nn.Module):
    def __init__(self, residual_std, forward):
        super().__init__()
        self.attention_norm = RmsNorm(WIDTH)
        self.qkv = torch.nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = torch.nn.Linear(WIDTH, WIDTH)
        self.ff_norm = RmsNorm(WIDTH)
        self.moe = Moe(residual_std, forward)
        mask = torch.triu(torch.full((CONTEXT, CONTEXT), float("-inf")), diagonal=1)
        self.register_buffer("mask", mask)

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (u.view(b, t, HEADS, d // HEADS).transpose(1, 2) for u in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // HEADS) + self.mask[:t, :t]
        out = torch.softmax(att, dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        y, losses = self.moe(self.ff_norm(x))
        return x + y, losses


class MoeGpt(torch.nn.Module):
    def __init__(self, forward):
        super().__init__()
        residual_std = INIT_STD / math.sqrt(2 * BLOCKS)
        self.token_embedding = torch.nn.Parameter(torch.randn(VOCAB, WIDTH) * INIT_STD)
        self.position_embedding = torch.nn.Parameter(torch.randn(CONTEXT, WIDTH) * INIT_STD)
        self.blocks = torch.nn.ModuleList(Block(residual_std, forward) for _ in range(BLOCKS))
        self.final_norm = RmsNorm(WIDTH)
        self.head = torch.nn.Linear(WIDTH, VOCAB)

    def loss(self, tokens, targets):
        x = self.token_embedding[tokens] + self.position_embedding[: tokens.shape[1]]
        aux = 0.0
        for block in self.blocks:
            x, losses = block(x)
            aux = aux + losses
        logits = self.head(self.final_norm(x))
        return F.cross_entropy(logits.view(-1, VOCAB), targets.reshape(-1)) + aux


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args()
    bc.setup()
    g = torch.Generator().manual_seed(1337)
    data = torch.randint(0, VOCAB, (64, BATCH, CONTEXT + 1), generator=g)
    steps = {kind: training_step(forward, data) for kind, forward in LAYERS.items()}
    bc.log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {bc.blas()}")
    seconds = bc.time_alternating(steps, args.runs, warmup=3, min_seconds=2.0)
    entry = {}
    for kind, runs in seconds.items():
        tps = [BATCH * CONTEXT / s for s in runs]
        entry[kind] = {"tokens_per_s": tps, "median": bc.median(tps)}
    entry["baseline"] = max(LAYERS, key=lambda kind: entry[kind]["median"])
    entry["median"] = entry[entry["baseline"]]["median"]
    bc.log("train step: " + ", ".join(f"{kind} {entry[kind]['median']:.0f}" for kind in LAYERS) + " tokens/s")
    bc.emit({"environment": bc.environment(), "train_step": entry}, args.out)


def training_step(forward, data):
    """One training step of a fresh model (seed 1337) whose MoE layers run `forward`."""
    torch.manual_seed(1337)
    model = MoeGpt(forward)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=3e-3, betas=(0.9, 0.95), eps=1e-8)
    state = {"i": 0}

    def step():
        batch = data[state["i"] % len(data)]
        state["i"] += 1
        loss = model.loss(batch[:, :-1], batch[:, 1:])
        loss.item()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)

    return step

if __name__ == "__main__":
    main()
