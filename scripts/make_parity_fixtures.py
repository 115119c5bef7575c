#!/usr/bin/python3
"""Parity fixtures for libelectra's Hugging Face ELECTRA compatibility tests.

A plain torch.nn re-implementation of Hugging Face's ELECTRA (ElectraModel, ElectraForPreTraining,
ElectraForMaskedLM), dropout in HF's places (Cfg.dropout, 0 by default: the fixtures are eval-mode
outputs; the throughput baseline trains with 0.1), with HF's exact
parameter names and module registration order. Written from the architecture description in
docs/electra-reference.md sections 1 and 5; no transformers / safetensors packages needed.

Usage:
  /usr/bin/python3 scripts/make_parity_fixtures.py --out DIR     # toy checkpoints + expected outputs
  /usr/bin/python3 scripts/make_parity_fixtures.py --names DIR   # state-dict name/shape lists, real sizes

Numerics of expected.safetensors: parameters are drawn in float32 (those exact float32 values are
what the checkpoint files hold; for the BF16/F16 variants the stored, rounded values), the forward
pass is then computed in FLOAT64 and the results stored as F32. So the reference is the exact
function of the stored weights up to float32 output rounding; a float32 implementation should agree
to roughly 1e-5 relative.
"""

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_py import read_safetensors, write_safetensors  # noqa: E402


# ----------------------------------------------------------------------------------------------
# Model (HF ELECTRA semantics, eval mode)
# ----------------------------------------------------------------------------------------------

@dataclass
class Cfg:
    vocab_size: int
    embedding_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    dropout: float = 0.0  # hidden and attention-probability dropout


class Embeddings(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.embedding_size, **fk)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.embedding_size, **fk)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.embedding_size, **fk)
        self.LayerNorm = nn.LayerNorm(c.embedding_size, eps=c.layer_norm_eps, **fk)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, input_ids, token_type_ids):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, device=input_ids.device).unsqueeze(0)
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
             + self.position_embeddings(pos))
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        assert c.hidden_size % c.num_attention_heads == 0
        self.heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size, **fk)
        self.key = nn.Linear(c.hidden_size, c.hidden_size, **fk)
        self.value = nn.Linear(c.hidden_size, c.hidden_size, **fk)
        self.dropout = nn.Dropout(c.dropout)

    def _split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)  # [B, nh, S, hd]

    def forward(self, x, ext_mask):
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + ext_mask  # [B, 1, 1, S] additive key mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).transpose(1, 2).contiguous()
        return ctx.view(x.shape[0], x.shape[1], -1)


class SelfOutput(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size, **fk)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps, **fk)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class Attention(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.self = SelfAttention(c, **fk)
        self.output = SelfOutput(c, **fk)

    def forward(self, x, ext_mask):
        return self.output(self.self(x, ext_mask), x)


class Intermediate(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size, **fk)

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact erf GELU


class Output(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size, **fk)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps, **fk)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class Layer(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.attention = Attention(c, **fk)
        self.intermediate = Intermediate(c, **fk)
        self.output = Output(c, **fk)

    def forward(self, x, ext_mask):
        a = self.attention(x, ext_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c, **fk) for _ in range(c.num_hidden_layers)])

    def forward(self, x, ext_mask):
        for layer in self.layer:
            x = layer(x, ext_mask)
        return x


class ElectraModel(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.embeddings = Embeddings(c, **fk)
        if c.embedding_size != c.hidden_size:
            self.embeddings_project = nn.Linear(c.embedding_size, c.hidden_size, **fk)
        self.encoder = Encoder(c, **fk)

    def forward(self, input_ids, token_type_ids, attention_mask):
        x = self.embeddings(input_ids, token_type_ids)
        if hasattr(self, "embeddings_project"):
            x = self.embeddings_project(x)
        dt = x.dtype
        # HF rule: (1 - mask) * finfo(dtype).min added to the scores of masked keys.
        ext = (1.0 - attention_mask[:, None, None, :].to(dt)) * torch.finfo(dt).min
        return self.encoder(x, ext)


class DiscriminatorPredictions(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size, **fk)
        self.dense_prediction = nn.Linear(c.hidden_size, 1, **fk)

    def forward(self, h):
        return self.dense_prediction(F.gelu(self.dense(h))).squeeze(-1)


class GeneratorPredictions(nn.Module):
    def __init__(self, c, **fk):
        super().__init__()
        # HF registers LayerNorm before dense in this module (state_dict order follows).
        self.LayerNorm = nn.LayerNorm(c.embedding_size, eps=c.layer_norm_eps, **fk)
        self.dense = nn.Linear(c.hidden_size, c.embedding_size, **fk)

    def forward(self, h):
        return self.LayerNorm(F.gelu(self.dense(h)))


class ElectraForPreTraining(nn.Module):
    ARCH = "ElectraForPreTraining"

    def __init__(self, c, **fk):
        super().__init__()
        self.electra = ElectraModel(c, **fk)
        self.discriminator_predictions = DiscriminatorPredictions(c, **fk)

    def forward(self, input_ids, token_type_ids, attention_mask):
        h = self.electra(input_ids, token_type_ids, attention_mask)
        return h, self.discriminator_predictions(h)


class ElectraForMaskedLM(nn.Module):
    ARCH = "ElectraForMaskedLM"
    TIED = ("generator_lm_head.weight",)

    def __init__(self, c, **fk):
        super().__init__()
        self.electra = ElectraModel(c, **fk)
        self.generator_predictions = GeneratorPredictions(c, **fk)
        self.generator_lm_head = nn.Linear(c.embedding_size, c.vocab_size, **fk)
        self.generator_lm_head.weight = self.electra.embeddings.word_embeddings.weight  # tied

    def forward(self, input_ids, token_type_ids, attention_mask):
        h = self.electra(input_ids, token_type_ids, attention_mask)
        return h, self.generator_lm_head(self.generator_predictions(h))


def export_state(model):
    """HF state dict as it appears in model.safetensors: registration order, tied weight dropped."""
    tied = getattr(model, "TIED", ())
    return {k: v for k, v in model.state_dict().items() if k not in tied}


def unique_param_count(model):
    return sum(p.numel() for p in model.parameters())  # parameters() de-duplicates tied tensors


# ----------------------------------------------------------------------------------------------
# Training in eager PyTorch (the benchmark baseline and the learning-curve reference)
# ----------------------------------------------------------------------------------------------

def layer_norm_in_fp32():
    """1.13's CPU autocast leaves layer_norm alone and its kernel refuses bf16 input with fp32
    weights: normalise in fp32, as electra-pretrain does."""
    plain = nn.LayerNorm.forward
    nn.LayerNorm.forward = lambda self, x: plain(self, x.float())


def pretraining_pair(dc, gc, init=None):
    """Discriminator and generator sharing the embeddings, the generator's output tied to the word
    embeddings (as in the paper); returns them and their parameters, each counted once.
    init(model), when given, runs on each model before the sharing."""
    disc, gen = ElectraForPreTraining(dc), ElectraForMaskedLM(gc)
    if init:
        init(disc)
        init(gen)
    gen.electra.embeddings = disc.electra.embeddings
    gen.generator_lm_head.weight = disc.electra.embeddings.word_embeddings.weight
    params = list({id(q): q for q in list(disc.parameters()) + list(gen.parameters())}.values())
    return disc, gen, params


def electra_adamw(params, lr):
    """AdamW as the paper sets it: eps 1e-6, weight decay 0.01 except LayerNorm and biases."""
    return torch.optim.AdamW([{"params": [q for q in params if q.dim() > 1], "weight_decay": 0.01},
                              {"params": [q for q in params if q.dim() <= 1], "weight_decay": 0.0}],
                             lr=lr, eps=1e-6)


# ----------------------------------------------------------------------------------------------
# Toy fixtures
# ----------------------------------------------------------------------------------------------

def randomize(model, seed):
    """Deterministic float32 parameters with visible scale (no 1/0 LayerNorm, no zero biases)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied weight visited once
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * r)
            elif "LayerNorm.bias" in name:
                p.copy_(0.1 * r)
            elif name.endswith("embeddings.weight"):
                p.copy_(0.5 * r)
            elif name.endswith(".bias"):
                p.copy_(0.1 * r)
            else:
                p.copy_(0.2 * r)


def load_state(model, state):
    """Load (possibly rounded) tensors into a float64 model; missing tied weight handled by tying."""
    own = model.state_dict()
    tied = getattr(model, "TIED", ())
    with torch.no_grad():
        for k, v in own.items():
            if k in tied:
                continue
            v.copy_(state[k].to(torch.float64))
    return model


def hf_config(c, arch, extra=None):
    cfg = {
        "architectures": [arch],
        "attention_probs_dropout_prob": 0.1,
        "embedding_size": c.embedding_size,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": c.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": c.intermediate_size,
        "layer_norm_eps": c.layer_norm_eps,
        "max_position_embeddings": c.max_position_embeddings,
        "model_type": "electra",
        "num_attention_heads": c.num_attention_heads,
        "num_hidden_layers": c.num_hidden_layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "summary_activation": "gelu",
        "summary_last_dropout": 0.1,
        "summary_type": "first",
        "summary_use_proj": True,
        "torch_dtype": "float32",
        "type_vocab_size": c.type_vocab_size,
        "vocab_size": c.vocab_size,
    }
    if extra:
        cfg.update(extra)
    return cfg


WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "fake", "real", ".", ",",
         "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r",
         "s", "t", "u", "v", "w", "x", "y", "z", "is", "was", "and", "of", "to", "in", "it",
         "##s", "##ing", "##ed", "##er", "##ly", "##est", "##a", "##b", "##c", "##d", "##e"]


def make_vocab(v):
    toks = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
    i = 0
    while len(toks) < v:
        toks.append(f"[unused{i}]")
        i += 1
    toks = toks[:v]
    assert len(set(toks)) == v
    return toks


def make_inputs(vocab_size):
    """B=3, S=12. Row 0: single sentence (uses the last vocab id); row 1: a pair with token types
    0..0 1..1 and a [MASK]; row 2: padded (trailing pad id 0, attention_mask 0)."""
    top = vocab_size - 1
    ids = torch.tensor([
        [2, 5, 6, 7, 8, 9, 10, 5, 11, 12, top, 3],
        [2, 5, 13, 4, 3, 17, 18, 19, 20, 21, 22, 3],
        [2, 23, 24, 25, 26, 3, 0, 0, 0, 0, 0, 0],
    ], dtype=torch.int64)
    tt = torch.tensor([
        [0] * 12,
        [0] * 5 + [1] * 7,
        [0] * 12,
    ], dtype=torch.int64)
    mask = torch.tensor([
        [1] * 12,
        [1] * 12,
        [1] * 6 + [0] * 6,
    ], dtype=torch.int64)
    return ids, tt, mask


CASES = {
    "proj": dict(
        disc=Cfg(vocab_size=60, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=64, max_position_embeddings=40),
        gen=Cfg(vocab_size=60, embedding_size=16, hidden_size=24, num_hidden_layers=2,
                num_attention_heads=2, intermediate_size=48, max_position_embeddings=40),
        seed=1234),
    "noproj": dict(
        disc=Cfg(vocab_size=50, embedding_size=24, hidden_size=24, num_hidden_layers=3,
                 num_attention_heads=2, intermediate_size=40, max_position_embeddings=32),
        gen=Cfg(vocab_size=50, embedding_size=24, hidden_size=24, num_hidden_layers=3,
                num_attention_heads=1, intermediate_size=36, max_position_embeddings=32),
        seed=5678),
}


def run64(cls, c, state, ids, tt, mask):
    m = load_state(cls(c, dtype=torch.float64).eval(), state)
    with torch.no_grad():
        return m(ids, tt, mask)


def write_model_dir(path, c, arch, state, vocab, config_extra=None, **write_kw):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(hf_config(c, arch, config_extra), f, indent=2)
        f.write("\n")
    with open(os.path.join(path, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    fn = os.path.join(path, "model.safetensors")
    write_safetensors(fn, state, **write_kw)
    # read back and verify bit-exactness
    back, md = read_safetensors(fn)
    assert md == {"format": "pt"}, md
    assert set(back) == set(state), (set(back) ^ set(state))
    for k, v in state.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        assert torch.equal(back[k], v), k


def check_mask_invariance(cls, c, state, ids, tt, mask, ref_hidden):
    """Changing ids at padded positions must not change outputs at unpadded positions."""
    ids2 = ids.clone()
    ids2[mask == 0] = 7
    h2, _ = run64(cls, c, state, ids2, tt, mask)
    keep = mask.bool()
    assert torch.allclose(h2[keep], ref_hidden[keep], rtol=0, atol=1e-12)


def make_case(out, name, spec):
    dc, gc = spec["disc"], spec["gen"]
    V = dc.vocab_size
    vocab = make_vocab(V)
    ids, tt, mask = make_inputs(V)
    case_dir = os.path.join(out, name)

    disc = ElectraForPreTraining(dc)
    randomize(disc, spec["seed"])
    gen = ElectraForMaskedLM(gc)
    randomize(gen, spec["seed"] + 1)
    dstate = {k: v.detach().clone() for k, v in export_state(disc).items()}
    gstate = {k: v.detach().clone() for k, v in export_state(gen).items()}

    d_h, d_l = run64(ElectraForPreTraining, dc, dstate, ids, tt, mask)
    g_h, g_l = run64(ElectraForMaskedLM, gc, gstate, ids, tt, mask)
    check_mask_invariance(ElectraForPreTraining, dc, dstate, ids, tt, mask, d_h)

    # float32 forward of the same model: sanity check of the float64 reference
    with torch.no_grad():
        d_h32, d_l32 = disc.eval()(ids, tt, mask)
    err32 = (d_l32.double() - d_l).abs().max().item()
    assert err32 < 1e-3, err32

    expected = {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask,
                "disc_hidden": d_h.float(), "disc_logits": d_l.float(),
                "gen_hidden": g_h.float(), "gen_logits": g_l.float()}

    # discriminator checkpoint(s)
    if name == "noproj":
        # old-style file: an I64 position_ids buffer the loader must ignore
        dfile = dict(dstate)
        dfile["electra.embeddings.position_ids"] = torch.arange(
            dc.max_position_embeddings, dtype=torch.int64).unsqueeze(0)
    else:
        dfile = dstate
    write_model_dir(os.path.join(case_dir, "discriminator"), dc, disc.ARCH, dfile, vocab)

    if name == "proj":
        for tag, dt, cfg_dt in (("bf16", torch.bfloat16, "bfloat16"), ("f16", torch.float16, "float16")):
            rstate = {k: v.to(dt) for k, v in dstate.items()}
            write_model_dir(os.path.join(case_dir, f"discriminator_{tag}"), dc, disc.ARCH, rstate, vocab,
                            config_extra={"torch_dtype": cfg_dt})
            rh, rl = run64(ElectraForPreTraining, dc, rstate, ids, tt, mask)
            expected[f"disc_hidden_{tag}"] = rh.float()
            expected[f"disc_logits_{tag}"] = rl.float()
            print(f"  {name}: max |disc_logits_{tag} - disc_logits| = {(rl - d_l).abs().max().item():.3e}")

    if name == "noproj":
        # old-style generator file: also a token_type_ids buffer to ignore; JSON header keys in an
        # order unrelated to the data layout, "__metadata__" last.
        gfile = dict(gstate)
        gfile["electra.embeddings.token_type_ids"] = torch.zeros(
            1, gc.max_position_embeddings, dtype=torch.int64)
        keys = list(gfile)
        write_model_dir(os.path.join(case_dir, "generator"), gc, gen.ARCH, gfile, vocab,
                        data_order=keys, header_order=keys[::-1], metadata_first=False)
    else:
        write_model_dir(os.path.join(case_dir, "generator"), gc, gen.ARCH, gstate, vocab)

    efile = os.path.join(case_dir, "expected.safetensors")
    order = list(expected)
    write_safetensors(efile, expected, data_order=order)
    back, _ = read_safetensors(efile)
    for k, v in expected.items():
        assert torch.equal(back[k], v), k
    print(f"  {name}: disc logits range [{d_l.min():.3f}, {d_l.max():.3f}], "
          f"gen logits std {g_l.std():.3f}, float32-vs-float64 disc logits err {err32:.2e}")


# ----------------------------------------------------------------------------------------------
# Name lists for the released sizes
# ----------------------------------------------------------------------------------------------

def real_cfg(e, h, layers, heads, ffn):
    return Cfg(vocab_size=30522, embedding_size=e, hidden_size=h, num_hidden_layers=layers,
               num_attention_heads=heads, intermediate_size=ffn, max_position_embeddings=512,
               type_vocab_size=2)


SIZES = {
    "small": (real_cfg(128, 256, 12, 4, 1024), real_cfg(128, 256, 12, 4, 1024), 13.55e6),
    "base": (real_cfg(768, 768, 12, 12, 3072), real_cfg(768, 256, 12, 4, 1024), 109.5e6),
    "large": (real_cfg(1024, 1024, 24, 16, 4096), real_cfg(1024, 256, 24, 4, 1024), 335.1e6),
}


def write_names(out):
    os.makedirs(out, exist_ok=True)
    meta = torch.device("meta")
    for size, (dc, gc, expect) in SIZES.items():
        for kind, cls, c in (("discriminator", ElectraForPreTraining, dc), ("generator", ElectraForMaskedLM, gc)):
            m = cls(c, device=meta)
            st = export_state(m)
            with open(os.path.join(out, f"{size}_{kind}.txt"), "w") as f:
                for k, v in st.items():
                    f.write(f"{k}\t{','.join(str(d) for d in v.shape)}\n")
            n = unique_param_count(m)
            assert n == sum(v.numel() for v in st.values())
            print(f"  {size:5s} {kind:13s} tensors {len(st):4d}  params {n:,} ({n / 1e6:.2f}M)")
            if kind == "discriminator":
                assert abs(n - expect) / expect < 0.002, (size, n, expect)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write toy checkpoints and expected outputs under this directory")
    ap.add_argument("--names", help="write HF state-dict name/shape lists for small/base/large here")
    a = ap.parse_args()
    if not a.out and not a.names:
        ap.error("give --out DIR and/or --names DIR")
    torch.set_num_threads(1)
    if a.out:
        for name, spec in CASES.items():
            make_case(a.out, name, spec)
        print(f"fixtures written to {a.out}")
    if a.names:
        write_names(a.names)
        print(f"name lists written to {a.names}")


if __name__ == "__main__":
    main()
