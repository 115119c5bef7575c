#!/usr/bin/python3
"""An independent ELECTRA pre-training loop in eager PyTorch, written the way Hugging Face users
write it, on the shards electra-prepare made: the learning-curve reference for electra-pretrain.

The `tiny` config's model (the parity-fixture modules: HF's layout and dropout places), masking as
HF's collator does it (each real non-special token chosen with probability 0.15, where electra-pretrain
chooses an exact count; 85% [MASK], 15% kept), loss 1 x MLM + 50 x discriminator,
AdamW (eps 1e-6, weight decay 0.01 except LayerNorm and biases), warmup then linear decay,
global-norm clip 1.0. It shares no code with the C++ trainer, so when both curves agree the
trainer's pace is the objective's, not a bug's.

Prints one JSON line per evaluation: step, held-out MLM accuracy, discriminator AUC and loss.
Usage: reference_pretrain_curve.py --data build/quickstart/data [--minutes 8] [--threads 1] [--bf16]
"""
import argparse
import json
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "tests", "integration"))
import make_parity_fixtures as ref  # noqa: E402
from test_prepare_cli import read_shard  # noqa: E402  (the independent reader of the shard format)


def load_split(data, split):
    with open(os.path.join(data, "manifest.json")) as f:
        manifest = json.load(f)
    examples = []
    for shard in manifest["splits"][split]["shards"]:
        examples += read_shard(os.path.join(data, shard["file"]), verify=False)[1]
    return manifest, examples


def collate(examples, pad):
    S = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), S), pad, dtype=torch.long)
    types = torch.zeros_like(ids)
    for i, (x, len_a) in enumerate(examples):
        ids[i, :len(x)] = torch.tensor(x)
        types[i, len_a:len(x)] = 1
    return ids, types, (ids != pad).long()


def mask_batch(ids, special, mask_id, prob, gen):
    candidates = ~torch.isin(ids, special)
    chosen = candidates & (torch.rand(ids.shape, generator=gen) < prob)
    replace = chosen & (torch.rand(ids.shape, generator=gen) < 0.85)
    return ids.masked_fill(replace, mask_id), chosen


def auc(scores, labels):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):  # average ranks over ties
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return 0.5
    return (sum(r for r, y in zip(ranks, labels) if y) - pos * (pos + 1) / 2) / (pos * neg)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=3000, help="schedule length (decay reaches 0 here)")
    p.add_argument("--minutes", type=float, default=8)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bf16", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.bf16:
        ref.layer_norm_in_fp32()

    manifest, train = load_split(a.data, "train")
    _, held_out = load_split(a.data, "eval")
    sp = manifest["special_ids"]
    V, S = manifest["vocab"]["size"], manifest["max_seq_len"]
    special = torch.tensor([sp["pad"], sp["cls"], sp["sep"], sp["mask"]])

    # tiny: 4 x 128 discriminator, 32-wide generator with one head (as electra-pretrain's tiny config)
    dc = ref.Cfg(V, 128, 128, 4, 2, 512, max_position_embeddings=S, dropout=0.1)
    gc = ref.Cfg(V, 128, 32, 4, 1, 128, max_position_embeddings=S, dropout=0.1)
    def hf_init(model):  # normal(0.02) weights, zero biases, unit LayerNorm
        for mod in model.modules():
            if isinstance(mod, (torch.nn.Linear, torch.nn.Embedding)):
                mod.weight.data.normal_(0.0, 0.02)
            if isinstance(mod, torch.nn.Linear) and mod.bias is not None:
                mod.bias.data.zero_()

    disc, gen, params = ref.pretraining_pair(dc, gc, init=hf_init)
    opt = ref.electra_adamw(params, a.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / a.warmup, max(0.0, (a.steps - s) / max(1, a.steps - a.warmup))))

    def forward(ids, types, attn, gen_rng):
        masked, chosen = mask_batch(ids, special, sp["mask"], 0.15, gen_rng)
        labels = ids.masked_fill(~chosen, -100)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            _, logits = gen(masked, types, attn)  # [B, S, V] at every position
            mlm = F.cross_entropy(logits.float().view(-1, V), labels.view(-1), ignore_index=-100)
            with torch.no_grad():
                sampled = torch.multinomial(torch.softmax(logits.float()[chosen], -1), 1, generator=gen_rng)
                disc_in = ids.clone()
                disc_in[chosen] = sampled.squeeze(-1)
                replaced = (disc_in != ids).float()
            _, disc_logits = disc(disc_in, types, attn)
            real = attn.float()
            dl = (F.binary_cross_entropy_with_logits(disc_logits.float(), replaced, reduction="none") * real).sum() \
                / real.sum()
        return mlm, dl, logits, chosen, disc_logits, replaced

    def evaluate(step):
        disc.eval(), gen.eval()
        rng = torch.Generator().manual_seed(1234)
        scores, labels, correct, masked, dloss, n = [], [], 0, 0, 0.0, 0
        with torch.no_grad():
            for i in range(0, min(len(held_out), 8 * a.batch), a.batch):
                ids, types, attn = collate(held_out[i:i + a.batch], sp["pad"])
                mlm, dl, logits, chosen, disc_logits, replaced = forward(ids, types, attn, rng)
                correct += (logits.argmax(-1)[chosen] == ids[chosen]).sum().item()
                masked += chosen.sum().item()
                keep = attn.bool()
                scores += disc_logits.float()[keep].tolist()
                labels += replaced[keep].bool().tolist()
                dloss, n = dloss + dl.item(), n + 1
        disc.train(), gen.train()
        print(json.dumps({"step": step, "mlm_accuracy": correct / max(1, masked), "disc_auc": auc(scores, labels),
                          "disc_loss": dloss / max(1, n), "elapsed_seconds": round(time.time() - start, 1)}),
              flush=True)

    order = list(range(len(train)))
    random.Random(a.seed).shuffle(order)
    rng = torch.Generator().manual_seed(a.seed)
    start = time.time()
    step, cursor = 0, 0
    while step < a.steps and time.time() - start < a.minutes * 60:
        if cursor + a.batch > len(order):
            random.Random(a.seed + step).shuffle(order)
            cursor = 0
        ids, types, attn = collate([train[j] for j in order[cursor:cursor + a.batch]], sp["pad"])
        cursor += a.batch
        mlm, dl, *_ = forward(ids, types, attn, rng)
        opt.zero_grad()
        (mlm + 50.0 * dl).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        schedule.step()
        step += 1
        if step % a.eval_every == 0:
            evaluate(step)
    evaluate(step)


if __name__ == "__main__":
    main()
