#!/usr/bin/python3
"""Baseline for the pre-training throughput benchmark: one ELECTRA step written in eager
PyTorch the way Hugging Face users write it (generator logits over every position,
ignore_index for unmasked tokens), with the same sizes, dropout (0.1, HF's places), masking
rule, loss weights, optimizer and clipping as electra-pretrain.

Prints one JSON line: {"tokens_per_second": ..., "seconds_per_step": ..., ...}.
Usage: bench_pretrain_torch.py --size small --batch 32 --seq 128 --steps 10 --threads 2 [--bf16]
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_parity_fixtures as ref  # noqa: E402

SIZES = {  # discriminator E, H, layers, heads, FFN; generator width = H / 4 (paper)
    "tiny": (128, 128, 4, 2, 512, 32),
    "small": (128, 256, 12, 4, 1024, 64),
    "base": (768, 768, 12, 12, 3072, 256),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="small", choices=SIZES)
    p.add_argument("--vocab", type=int, default=30522)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.bf16:
        ref.layer_norm_in_fp32()
    torch.manual_seed(0)
    E, H, L, heads, ffn, gh = SIZES[a.size]
    dc = ref.Cfg(a.vocab, E, H, L, heads, ffn, max_position_embeddings=max(512, a.seq), dropout=0.1)
    gc = ref.Cfg(a.vocab, E, gh, L, max(1, gh // 64), 4 * gh, max_position_embeddings=max(512, a.seq),
                 dropout=0.1)
    disc, gen, params = ref.pretraining_pair(dc, gc)
    opt = ref.electra_adamw(params, 5e-4)
    B, S, V = a.batch, a.seq, a.vocab
    n_mask = int((0.15 + 0.005) * S)

    def step():
        ids = torch.randint(1000, V, (B, S))
        ids[:, 0] = 101
        ids[:, -1] = 102
        mask = torch.ones(B, S, dtype=torch.long)
        types = torch.zeros(B, S, dtype=torch.long)
        scores = torch.rand(B, S)
        scores[:, 0] = scores[:, -1] = -1
        positions = scores.topk(n_mask, dim=1).indices
        chosen = torch.zeros(B, S, dtype=torch.bool).scatter_(1, positions, True)
        masked = ids.masked_fill(chosen & (torch.rand(B, S) < 0.85), 103)
        labels = ids.masked_fill(~chosen, -100)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            _, logits = gen(masked, types, mask)  # [B, S, V] at every position
            mlm = F.cross_entropy(logits.float().view(-1, V), labels.view(-1), ignore_index=-100)
            with torch.no_grad():
                probs = torch.softmax(logits.float()[chosen], -1)
                sampled = torch.multinomial(probs, 1).squeeze(-1)
            disc_in = ids.clone()
            disc_in[chosen] = sampled
            replaced = (disc_in != ids).float()
            _, disc_logits = disc(disc_in, types, mask)
            dl = F.binary_cross_entropy_with_logits(disc_logits.float(), replaced)
        loss = mlm + 50.0 * dl
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = (time.perf_counter() - start) / a.steps
    print(json.dumps({"impl": "pytorch-eager-hf-style", "size": a.size, "batch": B, "seq": S, "threads": a.threads,
                      "bf16": a.bf16, "seconds_per_step": seconds, "tokens_per_second": B * S / seconds}))


if __name__ == "__main__":
    main()
