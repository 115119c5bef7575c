#!/usr/bin/python3
"""electra-detect end to end: tokens and logits against an independent Python reference.

Writes a small random Hugging Face-format discriminator and generator (with the real BERT
uncased vocabulary when ELECTRA_DATA_DIR is set, a toy one otherwise), runs the tool with
--json and compares its tokens with scripts/reference_wordpiece.py and its logits with the
Python ELECTRA of scripts/make_parity_fixtures.py (max |diff| <= 1e-4). Then feeds it broken
inputs and checks for one clear error line and a non-zero exit.

Usage: test_detect_cli.py PATH/TO/electra-detect
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import make_parity_fixtures as ref  # noqa: E402
import reference_wordpiece as wp  # noqa: E402

TOLERANCE = 1e-4
failures = []
passed = 0


def check(condition, what):
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def run(tool, *args):
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)


def load_vocab_list():
    data = os.environ.get("ELECTRA_DATA_DIR")
    path = os.path.join(data, "vocab", "bert-base-uncased-vocab.txt") if data else None
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f], True
    return ref.make_vocab(80), False


def expected_encoding(text, pair, vocab_ids):
    _, a = wp.tokenize(text, vocab_ids, lowercase=True)
    tokens = ["[CLS]"] + a + ["[SEP]"]
    types = [0] * len(tokens)
    if pair is not None:
        _, b = wp.tokenize(pair, vocab_ids, lowercase=True)
        tokens += b + ["[SEP]"]
        types += [1] * (len(b) + 1)
    return tokens, [vocab_ids[t] for t in tokens], types


def main():
    tool = sys.argv[1]
    vocab, real = load_vocab_list()
    vocab_ids = {t: i for i, t in enumerate(vocab)}
    print(f"vocabulary: {'BERT uncased' if real else 'toy'} ({len(vocab)} tokens)")
    work = tempfile.mkdtemp(prefix="electra-detect-test-")
    try:
        disc_cfg = ref.Cfg(vocab_size=len(vocab), embedding_size=16, hidden_size=32, num_hidden_layers=2,
                           num_attention_heads=4, intermediate_size=64, max_position_embeddings=64)
        disc = ref.ElectraForPreTraining(disc_cfg)
        ref.randomize(disc, 11)
        disc_state = ref.export_state(disc)
        disc_dir = os.path.join(work, "disc")
        ref.write_model_dir(disc_dir, disc_cfg, disc.ARCH, disc_state, vocab)

        cases = [("The quick brown fox fake over the lazy dog", None),
                 ("Héllo, wörld! ¿Qué tal?", "unaffable naïve café: 東京 is big..."),
                 ("  \t ", None)]
        for text, pair in cases:
            args = ["--model", disc_dir, "--text", text, "--json"] + (["--text-pair", pair] if pair else [])
            r = run(tool, *args)
            check(r.returncode == 0, f"exit 0 for {text!r} (stderr: {r.stderr.strip()})")
            if r.returncode != 0:
                continue
            out = json.loads(r.stdout)
            tokens, ids, types = expected_encoding(text, pair, vocab_ids)
            check(out["tokens"] == tokens, f"tokens for {text!r}: {out['tokens']} != {tokens}")
            check(out["input_ids"] == ids, f"input_ids for {text!r}")
            check(out["token_type_ids"] == types, f"token_type_ids for {text!r}")
            t = lambda v: torch.tensor([v], dtype=torch.long)  # noqa: E731
            _, logits = ref.run64(ref.ElectraForPreTraining, disc_cfg, disc_state, t(ids), t(types),
                                  torch.ones(1, len(ids), dtype=torch.long))
            got = torch.tensor(out["logits"], dtype=torch.float64)
            diff = (got - logits[0]).abs().max().item()
            print(f"{text!r}: {len(tokens)} tokens, max |logit diff| = {diff:.2e}")
            check(diff <= TOLERANCE, f"logits for {text!r} within {TOLERANCE} (got {diff})")
            probs = torch.tensor(out["probabilities"], dtype=torch.float64)
            check((probs - torch.sigmoid(logits[0])).abs().max().item() <= TOLERANCE, "probabilities = sigmoid(logits)")
            check(len(out["probabilities"]) == len(tokens), "one probability per position")

        r = run(tool, "--model", disc_dir, "--text", "the quick brown fox")
        check(r.returncode == 0 and "p(replaced)" in r.stdout and "[CLS]" in r.stdout, "table output")

        gen_cfg = ref.Cfg(vocab_size=len(vocab), embedding_size=16, hidden_size=24, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=48, max_position_embeddings=64)
        gen = ref.ElectraForMaskedLM(gen_cfg)
        ref.randomize(gen, 12)
        gen_state = ref.export_state(gen)
        gen_dir = os.path.join(work, "gen")
        ref.write_model_dir(gen_dir, gen_cfg, gen.ARCH, gen_state, vocab)
        text = "the quick [MASK] fox jumps over the [MASK] dog"
        r = run(tool, "--model", gen_dir, "--text", text, "--json", "--top-k", "3")
        check(r.returncode == 0, f"fill mode runs (stderr: {r.stderr.strip()})")
        if r.returncode == 0:
            out = json.loads(r.stdout)
            ids = out["input_ids"]
            t = lambda v: torch.tensor([v], dtype=torch.long)  # noqa: E731
            _, logits = ref.run64(ref.ElectraForMaskedLM, gen_cfg, gen_state, t(ids), torch.zeros(1, len(ids), dtype=torch.long),
                                  torch.ones(1, len(ids), dtype=torch.long))
            masks = [i for i, tok in enumerate(out["tokens"]) if tok == "[MASK]"]
            check([m["position"] for m in out["masks"]] == masks, "one prediction per [MASK]")
            for m in out["masks"]:
                best = vocab[int(logits[0, m["position"]].argmax())]
                check(m["candidates"][0]["token"] == best, f"top candidate at {m['position']}: {best}")
                check(len(m["candidates"]) == 3, "top-k honoured")

        def expect_error(args, needle, what):
            r = run(tool, *args)
            lines = [line for line in r.stderr.strip().splitlines() if line]
            ok = (r.returncode != 0 and len(lines) == 1 and needle in lines[0]
                  and "terminate" not in r.stderr and "Exception raised" not in r.stderr)
            check(ok, f"{what}: rc={r.returncode} stderr={r.stderr.strip()!r}")

        broken = os.path.join(work, "broken")
        shutil.copytree(disc_dir, broken)
        st = os.path.join(broken, "model.safetensors")
        with open(st, "rb") as f:
            data = f.read()
        with open(st, "wb") as f:
            f.write(data[: len(data) // 2])
        expect_error(["--model", broken, "--text", "hi"], "model.safetensors", "truncated checkpoint")
        with open(st, "wb") as f:
            f.write(b"\x00" * 3)
        expect_error(["--model", broken, "--text", "hi"], "truncated", "tiny checkpoint")
        with open(os.path.join(broken, "config.json")) as f:
            cfg = json.load(f)
        cfg["num_attention_heads"] = 5
        with open(os.path.join(broken, "config.json"), "w") as f:
            json.dump(cfg, f)
        expect_error(["--model", broken, "--text", "hi"], "hidden_size", "bad config")
        with open(os.path.join(broken, "config.json"), "w") as f:
            f.write("{not json")
        expect_error(["--model", broken, "--text", "hi"], "config.json", "malformed config")
        expect_error(["--model", os.path.join(work, "missing"), "--text", "hi"], "does not exist", "missing dir")

        small_vocab = os.path.join(work, "smallvocab")
        shutil.copytree(disc_dir, small_vocab)
        cfg = ref.hf_config(disc_cfg, disc.ARCH)
        cfg["vocab_size"] = len(vocab) - 10
        with open(os.path.join(small_vocab, "config.json"), "w") as f:
            json.dump(cfg, f)
        expect_error(["--model", small_vocab, "--text", "hi"], "vocab", "vocabulary larger than the model")

        os.remove(os.path.join(small_vocab, "vocab.txt"))
        expect_error(["--model", small_vocab, "--text", "hi"], "vocab.txt", "missing vocabulary")

        r = run(tool, "--model", disc_dir)
        check(r.returncode != 0 and "--text" in r.stderr, "missing --text is a usage error")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
