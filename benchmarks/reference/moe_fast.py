"""The MoE layer of docs/moe.md written for speed in PyTorch: routing with tensor ops instead of
moe_reference.py's Python loops, and each expert applied to exactly its kept tokens (gathered rows,
no padded (E,C,D) buffer). `check()` compares it with moe_reference.moe_forward (outputs, losses and
every gradient) on small cases, so the benchmark times the same layer the golden fixtures define.

Top-k (k = 1 is Switch) and k top-1 prototyping with GELU experts: the routers the benchmark uses.
"""
import torch
import torch.nn.functional as F

import moe_reference as ref


def _positions(choice_flat: torch.Tensor, experts: int) -> torch.Tensor:
    """Slot of each assignment in its expert's queue, assignments taken in the given order."""
    one_hot = F.one_hot(choice_flat, experts)                       # (A,E)
    return (one_hot.cumsum(0) * one_hot).sum(1) - 1                 # (A,)


def _experts(cfg, params, x, routed):
    """y[tokens] += weights * expert(x[tokens]), expert by expert over the kept assignments."""
    tokens, experts, _, weights = routed
    y = torch.zeros_like(x)
    # Per-expert views through unbind (one stack in backward) rather than params[name][e], whose
    # backward writes a zero gradient of the whole (E,...) tensor for every expert.
    params = {name: (t.unbind(0) if name.startswith("experts.") else t) for name, t in params.items()}
    order = torch.argsort(experts, stable=True)
    tokens, experts, weights = tokens[order], experts[order], weights[order]
    counts = torch.bincount(experts, minlength=cfg.experts).tolist()
    start = 0
    for e, count in enumerate(counts):
        if count == 0:
            continue
        ts = tokens[start:start + count]
        out = ref.expert_forward(cfg, params, e, x[ts])
        y.index_add_(0, ts, weights[start:start + count].unsqueeze(1) * out)   # in place: no (N,D) copy per expert
        start += count
    return y


def route(cfg, params, x):
    """The kept assignments (tokens, experts, slots, combine weights), aux and z of a training pass
    (capacity_factor, no jitter), as ref.moe_forward routes."""
    assert cfg.jitter == 0.0 and not cfg.renormalize
    n, _ = x.shape
    e, k = cfg.experts, cfg.k
    c = ref.capacity(cfg, n)
    h = x @ params["router.weight"]                                 # (N,E)
    tokens = torch.arange(n, device=x.device).repeat(k)
    if cfg.router == "topk":
        p = torch.softmax(h, dim=-1)
        z = (torch.logsumexp(h, dim=-1) ** 2).mean()
        choice = torch.topk(p.detach(), k, dim=-1).indices          # (N,k), decreasing p
        flat = choice.t().reshape(-1)                               # rank-major, then token order
        w = torch.gather(p, 1, choice).t().reshape(-1)
        f = torch.bincount(flat, minlength=e).to(p.dtype) / (n * k)
        aux = e * (f * p.mean(dim=0)).sum()
    elif cfg.router == "prototype":
        g = e // k
        hs = h.view(n, k, g)
        ps = torch.softmax(hs, dim=-1)                              # (N,k,G)
        local = ps.detach().argmax(dim=-1)                          # (N,k); first max on ties
        flat = (local + torch.arange(k, device=x.device) * g).t().reshape(-1)        # group-major, then token order
        w = torch.gather(ps, 2, local.unsqueeze(2)).squeeze(2).t().reshape(-1)
        f = torch.bincount(flat, minlength=e).to(ps.dtype).view(k, g) / n
        aux = (g * (f * ps.mean(dim=0)).sum(dim=1)).mean()
        z = (torch.logsumexp(hs, dim=-1) ** 2).mean()
    else:
        raise ValueError(f"router={cfg.router!r}: the fast layer has topk and prototype")
    slots = _positions(flat, e)
    kept = slots < c
    return (tokens[kept], flat[kept], slots[kept], w[kept]), aux, z


def moe_forward(cfg, params, x):
    """y (N,D), aux (), z (): training pass (capacity_factor, no jitter), as ref.moe_forward."""
    routed, aux, z = route(cfg, params, x)
    return _experts(cfg, params, x, routed), aux, z


def check(forward=None):
    """A layer (this one by default) equals moe_reference's on small cases with drops: outputs,
    losses, every gradient."""
    forward = forward or moe_forward
    cases = [("topk", 4, 1, 1.0), ("topk", 6, 2, 1.0), ("topk", 8, 1, 1.25), ("prototype", 8, 2, 1.0),
             ("prototype", 16, 2, 1.25)]
    for router, e, k, cf in cases:
        cfg = ref.config(router, e, k, cf, False, "gelu", 12)
        g = torch.Generator().manual_seed(e * 10 + k)
        n, d = 64, 10
        x = torch.randn(n, d, generator=g, dtype=torch.float64)
        params = {name: torch.randn(*shape, generator=g, dtype=torch.float64) * 0.5
                  for name, shape in ref.parameter_shapes(cfg, d).items()}
        grad_y = torch.randn(n, d, generator=g, dtype=torch.float64)
        results = []
        for layer in (ref.moe_forward, forward):
            xx = x.clone().requires_grad_()
            pp = {name: t.clone().requires_grad_() for name, t in params.items()}
            y, aux, z = layer(cfg, pp, xx)[:3]
            ref.objective(cfg, y, aux, z, grad_y).backward()
            results.append([y, aux, z, xx.grad] + [pp[name].grad for name in pp])
        for a, b in zip(*results):
            torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    return len(cases)
