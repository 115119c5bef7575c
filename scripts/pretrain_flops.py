#!/usr/bin/env python3
"""Throughput and model FLOPs utilisation of an electra-pretrain run, from its folder.

Reads <run>/config.json (batch), <run>/metrics.jsonl (step, elapsed_seconds, tokens_per_second of
each log window) and the exported discriminator/ and generator/ config.json. Skips the first two
windows (warm-up) and takes the median of the rest.

Model FLOPs per trained token (forward + backward = 3 x forward, 2 FLOPs per multiply-add), for the
discriminator and the generator alike: 6 x (per layer 4H^2 + 2HI, plus E x H for embeddings_project)
+ 12 x L x S x H for the attention scores and their weighted sum; the discriminator head 6 x (H^2 + H);
the generator head only at the masked 15%: 6 x 0.15 x (H_g x E + E x V). Embedding look-ups and
element-wise work are not counted (the usual MFU convention).

Usage: pretrain_flops.py RUN_DIR [--peak FLOP/s measured] [--seq-len 128]
"""
import argparse
import json
import os
import statistics

H200_BF16_DENSE = 989e12  # NVIDIA's data sheet, H200 SXM, dense bf16


def encoder_flops(c, seq_len):
    h, i, layers, e = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"], c["embedding_size"]
    per_layer = 4 * h * h + 2 * h * i
    project = e * h if e != h else 0
    return 6 * (layers * per_layer + project) + 12 * layers * seq_len * h


def flops_per_token(run, seq_len=128):
    """Model FLOPs per trained token of a run folder's exported discriminator and generator."""
    disc = json.load(open(os.path.join(run, "discriminator", "config.json")))
    gen = json.load(open(os.path.join(run, "generator", "config.json")))
    return (encoder_flops(disc, seq_len) + 6 * (disc["hidden_size"] ** 2 + disc["hidden_size"]) +
            encoder_flops(gen, seq_len) +
            6 * 0.15 * (gen["hidden_size"] * gen["embedding_size"] + gen["embedding_size"] * gen["vocab_size"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--peak", type=float, default=0.0)
    ap.add_argument("--seq-len", type=int, default=128)
    a = ap.parse_args()
    records = [json.loads(l) for l in open(os.path.join(a.run, "metrics.jsonl"))]
    train = [r for r in records if r.get("split") == "train"][2:]
    batch = json.load(open(os.path.join(a.run, "config.json")))["train"]["batch_size"]
    per_token = flops_per_token(a.run, a.seq_len)
    steps_per_s = [(b["step"] - p["step"]) / (b["elapsed_seconds"] - p["elapsed_seconds"]) for p, b in zip(train, train[1:])]
    tokens = statistics.median(r["tokens_per_second"] for r in train)
    flops = tokens * per_token
    parts = [f"{statistics.median(steps_per_s) * batch:.0f} seq/s", f"{tokens:.0f} tok/s",
             f"{flops / 1e12:.1f} TFLOP/s"]
    if a.peak > 0:
        parts.append(f"MFU {100 * flops / a.peak:.1f}% of the measured bf16 peak ({a.peak / 1e12:.3g} TFLOP/s)")
    parts.append(f"{100 * flops / H200_BF16_DENSE:.1f}% of H200's 989")
    print(", ".join(parts))


if __name__ == "__main__":
    main()
