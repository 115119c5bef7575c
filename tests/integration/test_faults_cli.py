#!/usr/bin/python3
"""Hostile inputs and faults, through the tools as users run them: every case ends with one clear
error line naming the problem, a non-zero exit (1; 2 for a bad command line), no crash or hang,
and nothing an earlier run wrote is lost.

usage: test_faults_cli.py BIN_DIR TOY_VOCAB PRETRAIN_CONFIG FINETUNE_CONFIG_DIR
"""
import fcntl
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import make_parity_fixtures as ref  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def run(args, timeout=300):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -999, "", "timed out (a hang)")


def one_error(args, needle, what, code=1, timeout=300):
    """Exit `code`, the last stderr line holds `needle` (a usage error: the lines before the
    pointer to --help), no trace of a crash."""
    r = run(args, timeout)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    if code == 2 and lines and lines[-1].startswith("Run with --help"):
        lines = lines[:-1]
    ok = (r.returncode == code and lines and needle in lines[-1] and "terminate" not in r.stderr
          and "Traceback" not in r.stderr and "Segmentation" not in r.stderr)
    check(ok, f"{what}: rc={r.returncode} last line={lines[-1] if lines else ''!r}")
    return r


def make_model(path, nan=False):
    vocab = ref.make_vocab(120)
    c = ref.Cfg(len(vocab), 32, 32, 2, 2, 64, max_position_embeddings=128)
    torch.manual_seed(0)
    model = ref.ElectraForPreTraining(c)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" not in name:
                p.normal_(0.0, 0.02) if p.dim() > 1 else p.zero_()
    state = {k: v.float().contiguous() for k, v in ref.export_state(model).items()}
    ref.write_model_dir(path, c, "ElectraForPreTraining", state, vocab)
    if nan:  # one float of a LayerNorm weight becomes NaN, in the file itself
        weights = os.path.join(path, "model.safetensors")
        raw = bytearray(open(weights, "rb").read())
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        key = next(k for k in header if "LayerNorm.weight" in k)
        at = 8 + n + header[key]["data_offsets"][0] + 3 * 4
        raw[at:at + 4] = struct.pack("<f", float("nan"))
        open(weights, "wb").write(bytes(raw))


def with_config(src, dst, text=None, edit=None):
    """A copy of model directory `src` whose config.json is `text` or the original after `edit`."""
    shutil.copytree(src, dst)
    path = os.path.join(dst, "config.json")
    if edit:
        config = json.load(open(path))
        edit(config)
        text = json.dumps(config)
    if text is not None:
        with open(path, "w") as f:
            f.write(text)
    return dst


def hostile_model_dirs(bin_dir, model, work):
    detect = lambda d: [os.path.join(bin_dir, "electra-detect"), "--model", d, "--text", "the fox"]  # noqa: E731
    deep = "{\"x\": " + "[" * 200000 + "]" * 200000 + "}"
    one_error(detect(with_config(model, os.path.join(work, "deep"), text=deep)), "nested deeper",
              "config.json nested 200,000 deep")
    original = open(os.path.join(model, "config.json")).read()
    twice = "{\"vocab_size\": 7, " + original.lstrip()[1:]
    one_error(detect(with_config(model, os.path.join(work, "twice"), text=twice)), "appears twice",
              "config.json naming a key twice")
    layers = with_config(model, os.path.join(work, "layers"), edit=lambda c: c.update(num_hidden_layers=10**9))
    one_error(detect(layers), "num_hidden_layers", "num_hidden_layers 10^9")
    vocab = with_config(model, os.path.join(work, "vocab"), edit=lambda c: c.update(vocab_size=10**12))
    one_error(detect(vocab), "vocab_size", "vocab_size 10^12")
    zero = with_config(model, os.path.join(work, "zero"))
    os.remove(os.path.join(zero, "config.json"))
    os.symlink("/dev/zero", os.path.join(zero, "config.json"))
    one_error(detect(zero), "not a regular file", "config.json linked to /dev/zero", timeout=60)
    fifo = with_config(model, os.path.join(work, "fifo"))
    os.remove(os.path.join(fifo, "vocab.txt"))
    os.mkfifo(os.path.join(fifo, "vocab.txt"))
    one_error(detect(fifo), "not a regular file", "vocab.txt that is a FIFO", timeout=60)
    nan = os.path.join(work, "nan-model")
    make_model(nan, nan=True)
    one_error(detect(nan), "NaN or Inf", "a NaN in a LayerNorm weight")
    latin1 = with_config(model, os.path.join(work, "latin1"))
    lines = open(os.path.join(latin1, "vocab.txt"), "rb").read().splitlines()
    lines[-1] = b"caf\xe9"  # the same size, one token in Latin-1
    open(os.path.join(latin1, "vocab.txt"), "wb").write(b"\n".join(lines) + b"\n")
    one_error(detect(latin1), "not valid UTF-8", "a vocab.txt line that is not UTF-8")


def classification_files(folder, rows=40):
    rng = random.Random(1)
    os.makedirs(folder, exist_ok=True)
    for split in ["train", "dev"]:
        with open(os.path.join(folder, split + ".csv"), "w") as f:
            f.write("text,label\n")
            for i in range(rows):
                words = [rng.choice(["a", "b", "c", "d", "fox", "dog"]) for _ in range(6)] + (["x"] if i % 2 else [])
                f.write(f"{' '.join(words)},{'yes' if i % 2 else 'no'}\n")
    return folder


def finetune_faults(bin_dir, config_dir, model, work):
    finetune = os.path.join(bin_dir, "electra-finetune")
    config = os.path.join(config_dir, "custom-classification.json")
    data = classification_files(os.path.join(work, "cls"))
    base = [finetune, "--config", config, "--model", model, "--data", data, "--threads", "1",
            "--set", "train.batch_size=8"]

    # A finished run, then attempts on its folder that must not cost it anything.
    done = os.path.join(work, "done")
    r = run(base + ["--output", done, "--epochs", "1"])
    check(r.returncode == 0, f"a small fine-tuning run: {r.stderr[-300:]}")
    kept = open(os.path.join(done, "best", "model.safetensors"), "rb").read()
    one_error([finetune, "--config", config, "--model", os.path.join(work, "nowhere"), "--data", data,
               "--output", done, "--overwrite"], "nowhere", "--overwrite with a missing --model")
    check(open(os.path.join(done, "best", "model.safetensors"), "rb").read() == kept and
          os.path.exists(os.path.join(done, "metrics.jsonl")), "... leaves the earlier run as it was")
    with open(os.path.join(done, ".electra-lock"), "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        one_error(base + ["--output", done, "--resume"], "another run is using", "a second run on a locked folder")
    check(open(os.path.join(done, "best", "model.safetensors"), "rb").read() == kept, "... is refused before it writes")

    # Inputs that used to be ignored or misread.
    empty = os.path.join(work, "empty")
    os.makedirs(empty)
    open(os.path.join(empty, "train.csv"), "w").write("text,label\n")
    shutil.copy(os.path.join(data, "dev.csv"), empty)
    one_error(base[:6] + [empty] + base[7:] + ["--output", os.path.join(work, "e1")], "holds no examples",
              "a header-only train.csv")
    open(os.path.join(work, "nothing.csv"), "w").write("")
    one_error(base + ["--output", os.path.join(work, "e2"), "--predict", os.path.join(work, "nothing.csv")],
              "holds no examples", "an empty --predict file")
    one_error(base + ["--output", os.path.join(work, "e3"), "--epochs", "-1"], "--epochs", "--epochs -1", code=2)

    conll = os.path.join(work, "conll")
    os.makedirs(conll)
    sentence = "the DT B-NP\nfox NN I-NP\njumps VBZ B-VP\n\n"
    open(os.path.join(conll, "train.conll"), "w").write(sentence * 20)
    open(os.path.join(conll, "dev.conll"), "w").write(sentence + "dog NN\n\n")
    one_error([finetune, "--config", os.path.join(config_dir, "custom-tagging.json"), "--model", model,
               "--data", conll, "--output", os.path.join(work, "e4")], "dev.conll:5: found 2 column(s)",
              "a CoNLL line without its chunk tag")

    squad = os.path.join(work, "squad")
    os.makedirs(squad)
    open(os.path.join(squad, "dev.json"), "w").write("[" * 100000 + "]" * 100000)
    one_error([finetune, "--config", os.path.join(config_dir, "squad1.json"), "--model", model, "--data", squad,
               "--output", os.path.join(work, "e5"), "--epochs", "0", "--set", "task.dev_file=dev.json"],
              "nested deeper", "a SQuAD file nested 100,000 deep")

    open(os.path.join(work, "outside.csv"), "w").write("text,label\nsecret line,yes\n")
    r = one_error(base + ["--output", os.path.join(work, "e7"), "--set", "task.train_file=../outside.csv"],
                  "outside the --data folder", "a task file outside --data")
    check("secret" not in r.stderr, "... is neither read nor quoted")
    nan = os.path.join(work, "nan-model")
    one_error(base[:4] + [nan] + base[5:] + ["--output", os.path.join(work, "e6")], "NaN or Inf",
              "fine-tuning a model with a NaN weight")
    r = one_error(base + ["--output", os.path.join(work, "diverged"), "--epochs", "20",
                          "--set", "optimizer.learning_rate=1e8"], "not finite", "a learning rate of 1e8")
    check(not os.path.exists(os.path.join(work, "diverged", "best")) or
          "nan" not in open(os.path.join(work, "diverged", "best", "eval_results.json")).read().lower(),
          "... keeps no NaN model as best")


def pretrain_faults(bin_dir, vocab, config, work):
    prepare, pretrain = os.path.join(bin_dir, "electra-prepare"), os.path.join(bin_dir, "electra-pretrain")
    words = [w.strip() for w in open(vocab, encoding="utf-8") if w.strip().isalpha()]
    rng = random.Random(2)
    corpus = os.path.join(work, "corpus.txt")
    with open(corpus, "w") as f:
        for _ in range(40):
            for _ in range(6):
                f.write(" ".join(rng.choice(words) for _ in range(10)) + " .\n")
            f.write("\n")
    my_vocab = os.path.join(work, "v.txt")
    shutil.copy(vocab, my_vocab)
    data = os.path.join(work, "data")
    r = run([prepare, "--input", corpus, "--vocab", my_vocab, "--output", data, "--max-seq-len", "32", "--quiet"])
    check(r.returncode == 0, f"prepare: {r.stderr[-300:]}")
    small = ["--set", "model.embedding_size=16", "--set", "model.hidden_size=32", "--set", "model.num_hidden_layers=2",
             "--set", "model.num_attention_heads=2", "--set", "model.intermediate_size=64", "--set",
             "train.batch_size=8", "--threads", "1"]
    base = [pretrain, "--config", config, "--data", data] + small

    one_error(base + ["--output", os.path.join(work, "p0"), "--steps", "0"], "--steps", "--steps 0", code=2)
    one_error(base + ["--output", os.path.join(work, "p0"), "--steps", "-3"], "--steps", "--steps -3", code=2)
    one_error(base + ["--output", os.path.join(work, "p0"), "--nproc-per-node", "-1"], "--nproc-per-node",
              "--nproc-per-node -1", code=2)
    one_error(base + ["--output", os.path.join(work, "p0"), "--set", "optimizer.warmup_steps=-10"],
              "warmup_steps", "warmup_steps -10")

    run_dir = os.path.join(work, "run")
    r = run(base + ["--output", run_dir, "--steps", "6", "--set", "train.save_every=3"])
    check(r.returncode == 0, f"a small pre-training run: {r.stderr[-300:]}")
    kept = open(os.path.join(run_dir, "discriminator", "model.safetensors"), "rb").read()
    damaged = os.path.join(work, "damaged-data")
    shutil.copytree(data, damaged)
    with open(os.path.join(damaged, "manifest.json"), "w") as f:
        f.write("{")
    one_error([pretrain, "--config", config, "--data", damaged, "--output", run_dir, "--overwrite"] + small,
              "manifest.json", "--overwrite with a damaged --data")
    check(open(os.path.join(run_dir, "discriminator", "model.safetensors"), "rb").read() == kept and
          os.path.isdir(os.path.join(run_dir, "checkpoints")), "... leaves the earlier run as it was")

    # A damaged checkpoint file is found by its checksum; a planted link is not resumed from; a
    # stray temporary checkpoint is removed by the next save.
    flipped = os.path.join(work, "flipped")
    shutil.copytree(run_dir, flipped)
    newest = sorted(os.listdir(os.path.join(flipped, "checkpoints")))[-1]
    weights = os.path.join(flipped, "checkpoints", newest, "model.safetensors")
    raw = bytearray(open(weights, "rb").read())
    raw[-5] ^= 0x10
    open(weights, "wb").write(bytes(raw))
    one_error(base + ["--output", flipped, "--resume", "--steps", "9"], "checksum", "a flipped byte in a checkpoint")
    planted = os.path.join(work, "planted")
    shutil.copytree(run_dir, planted)
    os.symlink(os.path.join(flipped, "checkpoints", newest), os.path.join(planted, "checkpoints", "step-000000099"))
    os.makedirs(os.path.join(planted, "checkpoints", "step-000000007.tmp"))
    r = run(base + ["--output", planted, "--resume", "--steps", "9", "--set", "train.save_every=3"])
    check(r.returncode == 0 and f"resumed from {os.path.join(planted, 'checkpoints', newest)}" in r.stderr,
          f"a symlink planted among the checkpoints is not resumed from: {r.stderr[-300:]}")
    check(not os.path.exists(os.path.join(planted, "checkpoints", "step-000000007.tmp")),
          "a stray temporary checkpoint is removed")

    with open(my_vocab, "a") as f:
        f.write("zzzextra\n")
    one_error(base + ["--output", os.path.join(work, "p1"), "--steps", "2"], "is not the vocabulary",
              "a vocabulary changed after the data was prepared")
    shutil.copy(vocab, my_vocab)

    # A disk that fills while the optimizer state is written: room for the weights, not for AdamW.
    checkpoint = os.path.join(run_dir, "checkpoints", sorted(os.listdir(os.path.join(run_dir, "checkpoints")))[-1])
    weights = os.path.getsize(os.path.join(checkpoint, "model.safetensors"))
    adam = os.path.getsize(os.path.join(checkpoint, "optimizer.pt"))
    mount = os.path.join(work, "full")
    os.makedirs(mount)
    size_kb = (4 * weights + adam // 2) // 1024 + 64  # config, metrics, the weights, half of AdamW
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", mount],
                      capture_output=True).returncode != 0:
        print("skip: cannot mount a tmpfs here (not root?): the full-disk case is not checked")
        return
    try:
        out = os.path.join(mount, "run")
        r = one_error(base + ["--output", out, "--steps", "6", "--set", "train.save_every=3"], "disk full",
                      "a disk that fills during a checkpoint")
        check(r.returncode != -6, "... is no abort")
        left = os.listdir(os.path.join(out, "checkpoints")) if os.path.isdir(os.path.join(out, "checkpoints")) else []
        check(not any(".tmp" in name for name in left), f"... leaves no partial checkpoint: {left}")
        # Two ranks: rank 0 fails to write, and rank 1 stops with it instead of waiting out the
        # collective timeout (30 minutes by default).
        shutil.rmtree(out)
        env = dict(os.environ, MASTER_PORT=str(24000 + os.getpid() % 20000))
        r = subprocess.run(base + ["--output", out, "--steps", "6", "--set", "train.save_every=3", "--nproc-per-node", "2"],
                           capture_output=True, text=True, timeout=300, env=env)
        check(r.returncode == 1 and "disk full" in r.stderr and "rank 0 failed while writing a checkpoint" in r.stderr,
              f"... with 2 ranks, both stop at once: rc={r.returncode} {r.stderr[-400:]!r}")
    finally:
        subprocess.run(["umount", mount])


def main():
    bin_dir, vocab, pretrain_config, finetune_configs = sys.argv[1:5]
    work = tempfile.mkdtemp(prefix="electra-faults-")
    try:
        model = os.path.join(work, "model")
        make_model(model)
        hostile_model_dirs(bin_dir, model, work)
        finetune_faults(bin_dir, finetune_configs, model, work)
        pretrain_faults(bin_dir, vocab, pretrain_config, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
