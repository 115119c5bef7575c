#!/usr/bin/python3
"""Recomputes the ELECTRA pre-training losses of one batch, independently of the C++ code.

Input: a folder with discriminator/ and generator/ (Hugging Face format, as exported by the
trainer) and batch.safetensors holding the batch (input_ids, attention_mask, token_type_ids),
what the C++ step drew (masked_input_ids, positions, weights, sampled) and its losses
(mlm_loss, disc_loss). The generator and discriminator are run by the Python ELECTRA of
make_parity_fixtures.py; the losses follow the paper: MLM cross-entropy averaged over the
chosen positions, sigmoid cross-entropy averaged over real tokens, a sample equal to the
original labelled real. Exit status 0 when both losses agree within 1e-5.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_parity_fixtures as ref  # noqa: E402
from safetensors_py import read_safetensors  # noqa: E402


def load(directory, cls):
    with open(os.path.join(directory, "config.json")) as f:
        c = json.load(f)
    cfg = ref.Cfg(vocab_size=c["vocab_size"], embedding_size=c["embedding_size"], hidden_size=c["hidden_size"],
                  num_hidden_layers=c["num_hidden_layers"], num_attention_heads=c["num_attention_heads"],
                  intermediate_size=c["intermediate_size"], max_position_embeddings=c["max_position_embeddings"],
                  type_vocab_size=c["type_vocab_size"], layer_norm_eps=c["layer_norm_eps"])
    state, _ = read_safetensors(os.path.join(directory, "model.safetensors"))
    return ref.load_state(cls(cfg, dtype=torch.float64).eval(), state)


def main():
    folder = sys.argv[1]
    b, _ = read_safetensors(os.path.join(folder, "batch.safetensors"))
    gen = load(os.path.join(folder, "generator"), ref.ElectraForMaskedLM)
    disc = load(os.path.join(folder, "discriminator"), ref.ElectraForPreTraining)
    ids, mask, types = b["input_ids"], b["attention_mask"], b["token_type_ids"]
    positions, weights, sampled = b["positions"], b["weights"].double(), b["sampled"]
    with torch.no_grad():
        _, logits = gen(b["masked_input_ids"], types, mask)  # [B, S, V]
        chosen = logits.gather(1, positions.unsqueeze(-1).expand(-1, -1, logits.size(-1)))  # [B, N, V]
        labels = ids.gather(1, positions)
        ce = F.cross_entropy(chosen.reshape(-1, chosen.size(-1)), labels.reshape(-1), reduction="none")
        mlm = (ce * weights.reshape(-1)).sum() / weights.sum()

        disc_input = ids.clone()
        for row in range(ids.size(0)):
            for k in range(positions.size(1)):
                if weights[row, k] > 0:
                    disc_input[row, positions[row, k]] = sampled[row, k]
        replaced = (disc_input != ids).double()
        _, disc_logits = disc(disc_input, types, mask)
        real = mask.double()
        bce = F.binary_cross_entropy_with_logits(disc_logits, replaced, reduction="none")
        disc_loss = (bce * real).sum() / real.sum()

    ok = True
    for name, ours, theirs in (("mlm_loss", float(mlm), float(b["mlm_loss"])),
                               ("disc_loss", float(disc_loss), float(b["disc_loss"]))):
        diff = abs(ours - theirs)
        print(f"{name}: python {ours:.7f}  C++ {theirs:.7f}  |diff| {diff:.2e}")
        ok &= diff <= 1e-5
    print(f"replaced tokens: {int(replaced.sum())} of {int(real.sum())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
