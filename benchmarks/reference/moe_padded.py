"""The MoE layer of docs/moe.md written the usual padded way in PyTorch: moe_fast.py's routing, then
every expert's kept tokens copied into a zero (E, C, D) buffer (index_copy), one batched matrix
product per expert matrix for all experts at once (torch.baddbmm, bias added in it), and the outputs
gathered back and added into the tokens' rows (index_select, index_add). `check()` compares it with
moe_reference.moe_forward like moe_fast.check.

Top-k (k = 1 is Switch) and k top-1 prototyping with GELU experts: the routers the benchmark uses.
"""
import torch
import torch.nn.functional as F

import moe_fast
import moe_reference as ref


def moe_forward(cfg, params, x):
    """y (N,D), aux (), z (): training pass (capacity_factor, no jitter), as ref.moe_forward."""
    assert cfg.expert == "gelu"
    (tokens, experts, slots, weights), aux, z = moe_fast.route(cfg, params, x)
    n, d = x.shape
    e, c = cfg.experts, ref.capacity(cfg, n)
    rows = experts * c + slots                                      # each kept assignment's row of (E*C, D)
    buffer = x.new_zeros(e * c, d).index_copy(0, rows, x.index_select(0, tokens))
    h = torch.baddbmm(params["experts.up.bias"].unsqueeze(1), buffer.view(e, c, d), params["experts.up.weight"])
    out = torch.baddbmm(params["experts.down.bias"].unsqueeze(1), F.gelu(h, approximate="tanh"),
                        params["experts.down.weight"]).view(e * c, d)
    y = x.new_zeros(n, d).index_add(0, tokens, weights.unsqueeze(1) * out.index_select(0, rows))
    return y, aux, z


def check():
    """The padded layer equals moe_reference's on small cases with drops."""
    return moe_fast.check(moe_forward)
