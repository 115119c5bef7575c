"""The TensorBoard event files of electra-finetune and electra-pretrain, read by the real `tensorboard`
package (the pinned version in scripts/requirements.txt).

1. A tiny fine-tuning run and a tiny pre-training run: TensorBoard's EventAccumulator loads
   <output>/tensorboard, finds the expected tags (train/loss, train/learning_rate, eval/<metric>, ...),
   and every scalar equals the metrics.jsonl value at the same step (as a float32), one event per
   record and number.
2. Resuming: a fine-tuning run stopped with Ctrl-C and one killed after it had logged steps past its
   last checkpoint are resumed; afterwards neither metrics.jsonl nor the event files (read record by
   record, without TensorBoard's own clean-up of restarted runs) hold a step twice, and the steps
   increase.

Usage: test_tensorboard.py BIN_DIR SOURCE_DIR   (run with the venv's python)
"""

import glob
import json
import math
import os
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

import torch
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboard.compat.proto.event_pb2 import Event

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_finetune_cli as cli  # noqa: E402  (the tiny model and the synthetic keyword task)

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def as_float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def tag_prefix(split):
    return "eval/" if split in ("dev", "eval") else split + "/"


def expected_scalars(run_dir):
    """{tag: {step: value}} from metrics.jsonl, as the trainers promise to write them."""
    out = {}
    for line in open(os.path.join(run_dir, "metrics.jsonl")):
        record = json.loads(line)
        for key, value in record.items():
            if key in ("split", "step") or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value):
                continue
            steps = out.setdefault(tag_prefix(record["split"]) + key, {})
            if record["step"] in steps:
                failures.append(f"metrics.jsonl holds {key} at step {record['step']} twice")
            steps[record["step"]] = value
    return out


def event_files(run_dir):
    return sorted(glob.glob(os.path.join(run_dir, "tensorboard", "events.out.tfevents.*")))


def raw_scalars(run_dir):
    """{tag: [(step, value), ...]} in file order, every event as written (nothing merged or purged)."""
    out = {}
    for path in event_files(run_dir):
        for event in map(Event.FromString, RawEventFileLoader(path).Load()):  # as stored: no data_compat
            for value in event.summary.value:
                out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def same_as_metrics(run_dir, required, what):
    """TensorBoard's EventAccumulator sees exactly the metrics.jsonl numbers."""
    files = event_files(run_dir)
    names_ok = all(re.fullmatch(r"events\.out\.tfevents\.\d+\..+\.\d+\.libelectra", os.path.basename(f)) for f in files)
    check(len(files) >= 1 and names_ok, f"{what}: event files named events.out.tfevents.<time>.<host>.<pid>.libelectra "
                                        f"({[os.path.basename(f) for f in files]})")
    acc = event_accumulator.EventAccumulator(os.path.join(run_dir, "tensorboard"),
                                             size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    want = expected_scalars(run_dir)
    check(required <= tags, f"{what}: the expected tags are there (missing {sorted(required - tags)})")
    check(tags == set(want), f"{what}: one tag per number in metrics.jsonl (only in the events: "
                             f"{sorted(tags - set(want))}, only in metrics.jsonl: {sorted(set(want) - tags)})")
    mismatches, count = [], 0
    start = os.path.getmtime(os.path.join(run_dir, "metrics.jsonl")) - 3600
    for tag in sorted(tags & set(want)):
        events = acc.Scalars(tag)
        got = {e.step: e.value for e in events}
        if len(events) != len(want[tag]) or set(got) != set(want[tag]):
            mismatches.append(f"{tag}: steps {sorted(got)} vs {sorted(want[tag])}")
            continue
        for step, value in want[tag].items():
            count += 1
            if got[step] != as_float32(value):
                mismatches.append(f"{tag} step {step}: {got[step]} vs {value}")
        if not all(start < e.wall_time < time.time() + 60 for e in events):
            mismatches.append(f"{tag}: wall times outside the run")
    check(count > 0 and not mismatches, f"{what}: all {count} scalars equal metrics.jsonl as float32 {mismatches[:5]}")


def finetune_base(work):
    model = os.path.join(work, "model")
    if not os.path.isdir(model):
        cli.make_model(model)
    return ["--config", os.path.join(SOURCE, "configs", "finetune", "custom-classification.json"), "--model", model,
            "--data", cli.classification_data(work), "--set", "optimizer.learning_rate=2e-3", "--set", "task.id=id",
            "--set", "train.batch_size=16", "--set", "train.log_every=1", "--threads", "1"]


def finetune(bin_dir, work):
    out = os.path.join(work, "ft")
    p = cli.run(bin_dir, finetune_base(work) + ["--epochs", "2", "--output", out])
    check(p.returncode == 0, "fine-tuning run exits 0")
    same_as_metrics(out, {"train/loss", "train/learning_rate", "train/examples_per_second", "train/tokens_per_second",
                          "eval/accuracy", "eval/f1", "eval/epoch"}, "fine-tuning")


def pretrain(bin_dir, work):
    vocab = os.path.join(SOURCE, "tests", "fixtures", "wordpiece_toy_vocab.txt")
    words = [w.strip() for w in open(vocab, encoding="utf-8") if w.strip().isalpha()]
    rng = random.Random(1)
    corpus = os.path.join(work, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        for _ in range(40):
            for _ in range(8):
                f.write(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + " .\n")
            f.write("\n")
    data = os.path.join(work, "pretrain-data")
    p = subprocess.run([os.path.join(bin_dir, "electra-prepare"), "--input", corpus, "--vocab", vocab, "--output", data,
                        "--max-seq-len", "32", "--eval-fraction", "0.1", "--quiet"], capture_output=True, text=True)
    check(p.returncode == 0, "electra-prepare exits 0" + ("" if p.returncode == 0 else p.stderr[-500:]))
    out = os.path.join(work, "pt")
    p = subprocess.run([os.path.join(bin_dir, "electra-pretrain"), "--config",
                        os.path.join(SOURCE, "configs", "pretrain", "tiny.json"), "--data", data, "--output", out,
                        "--threads", "1", "--set", "model.embedding_size=16", "--set", "model.hidden_size=32",
                        "--set", "model.num_hidden_layers=2", "--set", "model.num_attention_heads=2",
                        "--set", "model.intermediate_size=64", "--set", "model.generator_hidden_fraction=0.5",
                        "--set", "train.batch_size=8", "--set", "train.log_every=2", "--set", "train.eval_every=5",
                        "--set", "train.eval_batches=2", "--steps", "12"], capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, "pre-training run exits 0" + ("" if p.returncode == 0 else p.stderr[-800:]))
    same_as_metrics(out, {"train/loss", "train/mlm_loss", "train/disc_loss", "train/learning_rate",
                          "train/tokens_per_second", "eval/mlm_accuracy", "eval/disc_auc"}, "pre-training")


def no_step_twice(run_dir, what):
    """metrics.jsonl and the raw event files: each tag's steps strictly increase (so none twice)."""
    steps = {}
    for line in open(os.path.join(run_dir, "metrics.jsonl")):
        record = json.loads(line)
        steps.setdefault(record["split"], []).append(record["step"])
    increasing = lambda s: all(a < b for a, b in zip(s, s[1:]))  # noqa: E731
    check(steps and all(increasing(s) for s in steps.values()),
          f"{what}: metrics.jsonl steps increase, none twice ({ {k: len(v) for k, v in steps.items()} } records)")
    raw = raw_scalars(run_dir)
    bad = [tag for tag, events in raw.items() if not increasing([s for s, _ in events])]
    check(raw and not bad, f"{what}: event-file steps increase per tag, none twice (bad: {bad})")
    want = expected_scalars(run_dir)
    same = set(raw) == set(want) and all({s: v for s, v in raw[t]} == {s: as_float32(v) for s, v in want[t].items()}
                                         for t in want)
    check(same, f"{what}: the event files hold exactly the metrics.jsonl numbers")
    return steps


def checkpoint_steps(run_dir):
    folder = os.path.join(run_dir, "checkpoints")
    names = os.listdir(folder) if os.path.isdir(folder) else []
    return [int(n.split("-")[1]) for n in names if re.fullmatch(r"step-\d+", n)]


def train_steps(metrics):
    if not os.path.exists(metrics):
        return []
    return [json.loads(l)["step"] for l in open(metrics) if l.endswith("\n") and '"train"' in l]


def resume(bin_dir, work):
    base = finetune_base(work) + ["--epochs", "30"]
    steps_per_epoch = 19  # 300 examples, batch 16
    total = 30 * steps_per_epoch

    # Ctrl-C part way: a checkpoint at the step it stopped; --resume continues after it.
    out = os.path.join(work, "ft-sigint")
    proc = subprocess.Popen([os.path.join(bin_dir, "electra-finetune")] + base + ["--output", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = os.path.join(out, "metrics.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(train_steps(metrics)) < 30:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    check(proc.returncode == 130 and len(checkpoint_steps(out)) == 1,
          f"Ctrl-C stops the run with a checkpoint (rc {proc.returncode}, {checkpoint_steps(out)})")
    p = cli.run(bin_dir, base + ["--output", out, "--resume"])
    check(p.returncode == 0 and "resumed from" in p.stderr, "--resume after Ctrl-C finishes the run")
    steps = no_step_twice(out, "Ctrl-C and --resume")
    check(steps.get("train") == list(range(1, total + 1)), "every training step logged once")
    check(len(event_files(out)) == 2, f"one event file per process ({len(event_files(out))})")

    # Killed after logging steps past its last checkpoint: those records go, the resumed run logs them anew.
    out = os.path.join(work, "ft-killed")
    proc = subprocess.Popen([os.path.join(bin_dir, "electra-finetune")] + base + ["--output", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = os.path.join(out, "metrics.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        saved = checkpoint_steps(out)
        if saved and max(train_steps(metrics), default=0) >= max(saved) + 5:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    saved = checkpoint_steps(out)
    logged = train_steps(metrics)
    check(len(saved) >= 1 and max(logged, default=0) > max(saved, default=total),
          f"the killed run had logged steps past its checkpoint (logged up to {max(logged, default=0)}, "
          f"checkpoints {saved})")
    before = raw_scalars(out).get("train/loss", [])
    check(max(before, default=(0, 0))[0] == max(logged, default=0), "and its event file holds them too")
    p = cli.run(bin_dir, base + ["--output", out, "--resume"])
    check(p.returncode == 0 and "dropped" in p.stderr, "--resume after a kill finishes and says what it dropped")
    steps = no_step_twice(out, "kill and --resume")
    check(steps.get("train") == list(range(1, total + 1)), "every training step logged once")
    acc = event_accumulator.EventAccumulator(os.path.join(out, "tensorboard"), size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    check([e.step for e in acc.Scalars("train/loss")] == list(range(1, total + 1)),
          "TensorBoard shows each step once")


def main():
    global SOURCE
    bin_dir, SOURCE = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="electra-tensorboard-test-") as work:
        for name in sys.argv[3:] or ["finetune", "pretrain", "resume"]:
            globals()[name](bin_dir, work)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
