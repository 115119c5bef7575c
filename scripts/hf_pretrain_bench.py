#!/usr/bin/env python3
"""The transformers side of scripts/benchmark_pretrain.sh: ELECTRA pre-training steps with the real
`transformers` models, wired the way users wire them: an ElectraForMaskedLM generator sharing the
ElectraForPreTraining discriminator's embeddings (and its output layer tied to them), 15% of the
positions chosen per sequence, the generator's samples written into them, loss = MLM + 50 x
replaced-token detection, torch.optim.AdamW (its default implementation) and clip_grad_norm_(1.0).
Shapes come from the config.json files electra-pretrain exported, so both sides train the same model.

Eager, or with both models under torch.compile (--compile). bf16 through torch.autocast.
Prints one JSON line: tokens/s as the median of --windows timed windows of --steps-per-window steps
after --warmup steps (compilation happens there), and the process's peak resident memory.

Usage: hf_pretrain_bench.py --discriminator DIR --generator DIR [--batch 32] [--seq 128] [--threads 2]
                            [--bf16] [--compile] [--warmup 3] [--windows 3] [--steps-per-window 4]
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn.functional as F
import transformers


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--discriminator", required=True)
    p.add_argument("--generator", required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--windows", type=int, default=3)
    p.add_argument("--steps-per-window", type=int, default=4)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    dc = transformers.ElectraConfig.from_json_file(f"{a.discriminator}/config.json")
    gc = transformers.ElectraConfig.from_json_file(f"{a.generator}/config.json")
    disc = transformers.ElectraForPreTraining(dc)
    gen = transformers.ElectraForMaskedLM(gc)
    gen.electra.embeddings = disc.electra.embeddings  # shared, as in the paper and every HF recipe
    gen.generator_lm_head.weight = disc.electra.embeddings.word_embeddings.weight
    disc.train()
    gen.train()
    params = list({id(q): q for q in list(disc.parameters()) + list(gen.parameters())}.values())
    opt = torch.optim.AdamW(params, lr=5e-4, weight_decay=0.01, eps=1e-6)
    run_gen, run_disc = (torch.compile(gen), torch.compile(disc)) if a.compile else (gen, disc)

    B, S, V = a.batch, a.seq, dc.vocab_size
    n_mask = int(0.15 * S)

    def step():
        ids = torch.randint(1000, V, (B, S))
        ids[:, 0], ids[:, -1] = 101, 102
        mask = torch.ones(B, S, dtype=torch.long)
        types = torch.zeros(B, S, dtype=torch.long)
        scores = torch.rand(B, S)
        scores[:, 0] = scores[:, -1] = -1
        chosen = torch.zeros(B, S, dtype=torch.bool).scatter_(1, scores.topk(n_mask, dim=1).indices, True)
        masked = ids.masked_fill(chosen & (torch.rand(B, S) < 0.85), 103)
        labels = ids.masked_fill(~chosen, -100)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            g = run_gen(input_ids=masked, attention_mask=mask, token_type_ids=types, labels=labels)
            with torch.no_grad():
                sampled = torch.multinomial(torch.softmax(g.logits[chosen].float(), -1), 1).squeeze(-1)
            disc_in = ids.clone()
            disc_in[chosen] = sampled
            replaced = (disc_in != ids).long()
            d = run_disc(input_ids=disc_in, attention_mask=mask, token_type_ids=types, labels=replaced)
        loss = g.loss + 50.0 * d.loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.windows):
        start = time.perf_counter()
        for _ in range(a.steps_per_window):
            loss = step()
        loss.item()
        rates.append(a.steps_per_window * B * S / (time.perf_counter() - start))
    print(json.dumps({"side": "transformers" + (" + torch.compile" if a.compile else " eager"), "bf16": a.bf16,
                      "batch": B, "seq": S, "threads": a.threads, "torch": torch.__version__,
                      "transformers": transformers.__version__, "tokens_per_second": statistics.median(rates),
                      "windows": rates, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
