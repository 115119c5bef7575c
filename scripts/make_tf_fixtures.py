#!/usr/bin/env python3
"""TensorFlow checkpoint fixtures for libelectra's TF reader and converter tests (tests/fixtures/tf/).

Makes, with real TensorFlow as the independent reference:
  bert_tiny_digest.json        TensorFlow's own reading of the bert-tiny checkpoint in the data folder
                               (tf_checkpoints/bert-tiny, not committed): per variable its dtype, shape,
                               sha256 of the little-endian bytes, float64 sum and first 4 values.
  electra_tiny/                a tiny ELECTRA checkpoint under the official release's variable names,
                               written by tf.compat.v1.train.Saver (V2 bundle: model.ckpt.index,
                               model.ckpt.data-00000-of-00001, `checkpoint`; no .meta), with global_step,
                               a few Adam slots a converter must skip, and a 64-entry vocab.txt.
  electra_tiny_expected.json   Hugging Face transformers' ElectraForPreTraining / ElectraForMaskedLM run
                               on those weights (mapped by this script's own name table), in float64,
                               eval mode, on two fixed rows (the second padded, two segments).

Two stages in two environments: TensorFlow and transformers do not share one here.
  1. needs TensorFlow (not installed for CI; this script is NOT run by the build or the tests):
       python3 -m venv /root/.cache/libelectra/venv-tf
       /root/.cache/libelectra/venv-tf/bin/pip install tensorflow-cpu==2.21.0 numpy
       /root/.cache/libelectra/venv-tf/bin/python scripts/make_tf_fixtures.py \
           [--data /work/shared/data] [--torch-python /root/.cache/libelectra/venv-57bee6476d09/bin/python]
  2. is started by stage 1 with --torch-python (torch + transformers, no TensorFlow); the weights pass
     between them through a temporary .npz that is deleted afterwards.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "tf")
DEFAULT_TORCH_PYTHON = "/root/.cache/libelectra/venv-57bee6476d09/bin/python"

# Sizes of the tiny ELECTRA (the names are HF's config keys).
DISCRIMINATOR = dict(vocab_size=64, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu",
                     layer_norm_eps=1e-12)
GENERATOR = dict(DISCRIMINATOR, hidden_size=16, num_attention_heads=2, intermediate_size=32)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + """
the of and to in is was for on that with as by at from his her it an were are which this be or
has had not but first one their its new after who they two have been also he she we all more
other time over some city year most only people state world between under
""".split()

# Two rows of 12 ids: [CLS] a [SEP] b [SEP]; the second row is padded at the end.
INPUT_IDS = [[2, 10, 25, 41, 7, 3, 18, 33, 52, 60, 11, 3],
             [2, 44, 9, 3, 30, 14, 58, 3, 0, 0, 0, 0]]
ATTENTION_MASK = [[1] * 12, [1] * 8 + [0] * 4]
TOKEN_TYPE_IDS = [[0] * 6 + [1] * 6, [0] * 4 + [1] * 4 + [0] * 4]


# ---------------------------------------------------------------- stage 1: TensorFlow

def layer_shapes(scope, hidden, inter, layers):
    shapes = {}
    for l in range(layers):
        p = f"{scope}/encoder/layer_{l}/"
        for qkv in ("query", "key", "value"):
            shapes[p + f"attention/self/{qkv}/kernel"] = [hidden, hidden]
            shapes[p + f"attention/self/{qkv}/bias"] = [hidden]
        shapes[p + "attention/output/dense/kernel"] = [hidden, hidden]
        shapes[p + "attention/output/dense/bias"] = [hidden]
        shapes[p + "attention/output/LayerNorm/gamma"] = [hidden]
        shapes[p + "attention/output/LayerNorm/beta"] = [hidden]
        shapes[p + "intermediate/dense/kernel"] = [hidden, inter]
        shapes[p + "intermediate/dense/bias"] = [inter]
        shapes[p + "output/dense/kernel"] = [inter, hidden]
        shapes[p + "output/dense/bias"] = [hidden]
        shapes[p + "output/LayerNorm/gamma"] = [hidden]
        shapes[p + "output/LayerNorm/beta"] = [hidden]
    return shapes


def electra_shapes():
    """Official ELECTRA names (google-research/electra), TF kernels [in, out]. The generator shares
    electra/embeddings; it has its own embeddings_project only when its hidden size differs from
    the embedding size (not here: 16 and 16), exactly as the official model builds it."""
    d, g = DISCRIMINATOR, GENERATOR
    e, v = d["embedding_size"], d["vocab_size"]
    shapes = {
        "electra/embeddings/word_embeddings": [v, e],
        "electra/embeddings/position_embeddings": [d["max_position_embeddings"], e],
        "electra/embeddings/token_type_embeddings": [d["type_vocab_size"], e],
        "electra/embeddings/LayerNorm/gamma": [e],
        "electra/embeddings/LayerNorm/beta": [e],
        "discriminator_predictions/dense/kernel": [d["hidden_size"], d["hidden_size"]],
        "discriminator_predictions/dense/bias": [d["hidden_size"]],
        "discriminator_predictions/dense_1/kernel": [d["hidden_size"], 1],
        "discriminator_predictions/dense_1/bias": [1],
        "generator_predictions/dense/kernel": [g["hidden_size"], e],
        "generator_predictions/dense/bias": [e],
        "generator_predictions/LayerNorm/gamma": [e],
        "generator_predictions/LayerNorm/beta": [e],
        "generator_predictions/output_bias": [v],
    }
    for scope, cfg in (("electra", d), ("generator", g)):
        if cfg["hidden_size"] != e:
            shapes[f"{scope}/embeddings_project/kernel"] = [e, cfg["hidden_size"]]
            shapes[f"{scope}/embeddings_project/bias"] = [cfg["hidden_size"]]
        shapes.update(layer_shapes(scope, cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]))
    return shapes


def make_arrays(np):
    rng = np.random.default_rng(20240607)
    arrays = {}
    for name, shape in sorted(electra_shapes().items()):
        x = rng.standard_normal(shape).astype(np.float32) * np.float32(0.2)
        if name.endswith("/gamma"):
            x = (np.float32(1.0) + x * np.float32(0.5)).astype(np.float32)
        arrays[name] = x
    return arrays


def bert_tiny_digest(np, tf, prefix):
    reader = tf.train.load_checkpoint(prefix)
    variables = {}
    for name, shape in tf.train.list_variables(prefix):
        a = np.asarray(reader.get_tensor(name))
        raw = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).tobytes()
        flat = a.reshape(-1)
        variables[name] = {
            "dtype": a.dtype.name,
            "shape": [int(s) for s in a.shape],
            "sha256": hashlib.sha256(raw).hexdigest(),
            "sum": float(np.sum(a, dtype=np.float64)),
            "first": [float(x) for x in flat[:4]],
        }
    return {"source": "tf_checkpoints/bert-tiny/bert_model.ckpt", "tensorflow_version": tf.__version__,
            "variables": variables}


def write_electra_checkpoint(np, tf, arrays, out_dir):
    for name in os.listdir(out_dir) if os.path.isdir(out_dir) else []:
        os.remove(os.path.join(out_dir, name))
    os.makedirs(out_dir, exist_ok=True)
    slots = ["electra/embeddings/word_embeddings", "discriminator_predictions/dense/kernel"]
    rng = np.random.default_rng(7)
    with tf.Graph().as_default():
        var_list = {}
        for name, value in arrays.items():
            var_list[name] = tf.compat.v1.Variable(value, name=name.replace("/", "__"))
        for name in slots:  # what a pre-training run leaves behind; a converter skips them
            for slot in ("adam_m", "adam_v"):
                value = (np.abs(rng.standard_normal(arrays[name].shape)) * 1e-3).astype(np.float32)
                var_list[f"{name}/{slot}"] = tf.compat.v1.Variable(value, name=f"{name}/{slot}".replace("/", "__"))
        var_list["global_step"] = tf.compat.v1.Variable(np.int64(1000000), dtype=tf.int64, name="global_step")
        saver = tf.compat.v1.train.Saver(var_list=var_list, save_relative_paths=True)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, os.path.join(out_dir, "model.ckpt"), write_meta_graph=False)
    with open(os.path.join(out_dir, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    assert len(VOCAB) == DISCRIMINATOR["vocab_size"], len(VOCAB)


def stage_tf(args):
    import numpy as np
    import tensorflow as tf

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    bert = os.path.join(args.data, "tf_checkpoints", "bert-tiny", "bert_model.ckpt")
    with open(os.path.join(out, "bert_tiny_digest.json"), "w") as f:
        json.dump(bert_tiny_digest(np, tf, bert), f, indent=1, sort_keys=True)
        f.write("\n")

    arrays = make_arrays(np)
    ckpt_dir = os.path.join(out, "electra_tiny")
    write_electra_checkpoint(np, tf, arrays, ckpt_dir)
    # The checkpoint as TensorFlow reads it back is what stage 2 gets.
    reader = tf.train.load_checkpoint(os.path.join(ckpt_dir, "model.ckpt"))
    read_back = {name: reader.get_tensor(name) for name in arrays}
    for name, value in arrays.items():
        assert np.array_equal(read_back[name], value), name

    with tempfile.TemporaryDirectory() as tmp:
        npz = os.path.join(tmp, "electra_tiny.npz")
        np.savez(npz, **read_back)
        subprocess.run([args.torch_python, os.path.abspath(__file__), "--stage", "torch", "--arrays", npz,
                        "--out", out], check=True)


# ---------------------------------------------------------------- stage 2: transformers

def hf_name(tf_name, scope):
    """The transformers parameter name for an official ELECTRA variable, and whether it is a TF
    kernel to transpose. `scope` is the encoder scope of the model being filled."""
    name = tf_name
    if name.startswith("electra/embeddings/"):
        name = "electra." + name[len("electra/"):]
    elif name.startswith(scope + "/"):
        name = "electra/" + name[len(scope) + 1:]
    elif name.startswith("generator_predictions/output_bias"):
        return "generator_lm_head.bias", False
    elif not name.startswith(("discriminator_predictions/", "generator_predictions/")):
        return None, False
    name = name.replace("/encoder/layer_", "/encoder/layer/").replace("dense_1/", "dense_prediction/")
    if name.endswith("_embeddings"):
        name += "/weight"
    kernel = name.endswith("/kernel")
    for tf_leaf, hf_leaf in (("/kernel", "/weight"), ("/gamma", "/weight"), ("/beta", "/bias")):
        if name.endswith(tf_leaf):
            name = name[: -len(tf_leaf)] + hf_leaf
    return name.replace("/", "."), kernel


def fill(model, arrays, scope, torch):
    state = model.state_dict()
    filled = set()
    for tf_name, value in arrays.items():
        name, kernel = hf_name(tf_name, scope)
        if name is None or name not in state:
            continue
        t = torch.from_numpy(value.T.copy() if kernel else value).to(torch.float64)
        assert tuple(t.shape) == tuple(state[name].shape), (tf_name, name, t.shape, state[name].shape)
        state[name] = t
        filled.add(name)
    if "generator_lm_head.weight" in state:  # tied to the word embeddings, as in ELECTRA
        state["generator_lm_head.weight"] = state["electra.embeddings.word_embeddings.weight"]
        filled.add("generator_lm_head.weight")
    missing = [k for k in state if k not in filled and not k.endswith("position_ids")]
    assert not missing, missing
    model.load_state_dict(state)


def stage_torch(args):
    import numpy as np
    import torch
    from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

    arrays = dict(np.load(args.arrays))
    ids = torch.tensor(INPUT_IDS)
    mask = torch.tensor(ATTENTION_MASK)
    types = torch.tensor(TOKEN_TYPE_IDS)
    results = {}
    for key, cls, cfg, scope in (("discriminator", ElectraForPreTraining, DISCRIMINATOR, "electra"),
                                 ("generator", ElectraForMaskedLM, GENERATOR, "generator")):
        config = ElectraConfig(**cfg, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
        config._attn_implementation = "eager"
        model = cls(config).to(torch.float64).eval()
        fill(model, arrays, scope, torch)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
        results[key + "_logits"] = logits.tolist()

    expected = {
        "note": "transformers " + __import__("transformers").__version__ + ", float64, eval mode; "
                "weights from electra_tiny/model.ckpt (scripts/make_tf_fixtures.py)",
        "discriminator_config": DISCRIMINATOR,
        "generator_config": GENERATOR,
        "input_ids": INPUT_IDS,
        "attention_mask": ATTENTION_MASK,
        "token_type_ids": TOKEN_TYPE_IDS,
        **results,
    }
    with open(os.path.join(args.out, "electra_tiny_expected.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("ELECTRA_DATA_DIR", "/work/shared/data"))
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--torch-python", default=DEFAULT_TORCH_PYTHON)
    ap.add_argument("--stage", choices=["tf", "torch"], default="tf")
    ap.add_argument("--arrays", help="stage 2 only: the .npz stage 1 wrote")
    args = ap.parse_args()
    if args.stage == "tf":
        stage_tf(args)
    else:
        stage_torch(args)


if __name__ == "__main__":
    sys.exit(main())
