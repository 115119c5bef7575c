#!/usr/bin/python3
"""electra-finetune end to end on tiny synthetic tasks, one per family.

A small random discriminator (scripts/make_parity_fixtures.py) is fine-tuned on tasks a tiny
model can learn in seconds: sentence classification (a keyword decides the label), regression
(the target counts keywords), tagging (a word's tag is fixed by the word) and SQuAD-style span
extraction (the answer follows "is"). Each run must reach a clear score, and the score it
reports must equal the score recomputed here from the prediction files it wrote. Then broken
inputs must fail with one clear error line, a non-zero exit and no traceback.

Usage: test_finetune_cli.py BIN_DIR CONFIG_DIR
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import make_parity_fixtures as ref  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


WORDS = ["quick", "brown", "fox", "jumps", "over", "lazy", "dog", "fake", "real", "a", "b", "c", "d", "e",
         "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w"]
KEY = "x"       # the classification keyword
ANSWERS = ["y", "z"] + [w for w in WORDS[9:20]]


def make_model(path):
    vocab = ref.make_vocab(120)
    c = ref.Cfg(len(vocab), 32, 32, 2, 2, 64, max_position_embeddings=128)
    torch.manual_seed(0)
    model = ref.ElectraForPreTraining(c)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                continue
            p.normal_(0.0, 0.02) if p.dim() > 1 else p.zero_()
    state = {k: v.float().contiguous() for k, v in ref.export_state(model).items()}
    ref.write_model_dir(path, c, "ElectraForPreTraining", state, vocab)


def sentence(rng, with_key):
    words = [rng.choice(WORDS) for _ in range(rng.randint(4, 10))]
    if with_key:
        words.insert(rng.randint(0, len(words)), KEY)
    return " ".join(words)


def run(bin_dir, args, expect_ok=True):
    p = subprocess.run([os.path.join(bin_dir, "electra-finetune")] + args, capture_output=True, text=True,
                       timeout=600)
    if expect_ok and p.returncode != 0:
        print(p.stdout, p.stderr)
    return p


def reported(stdout, metric):
    m = re.search(r"dev \(epoch [^)]*\): (.*)", stdout)
    values = dict(re.findall(r"(\w+) (-?[\d.]+)", m.group(1))) if m else {}
    return float(values[metric]) if metric in values else None


def classification_data(work):
    """The keyword task as CSV files (written once per test run)."""
    data = os.path.join(work, "cls")
    if os.path.isdir(data):
        return data
    rng = random.Random(1)
    os.makedirs(data)
    for split, n in [("train", 300), ("dev", 60)]:
        with open(os.path.join(data, split + ".csv"), "w") as f:
            f.write("id,text,label\n")
            for i in range(n):
                label = i % 2
                f.write(f'{split}-{i},"{sentence(rng, label)}",{"yes" if label else "no"}\n')
    return data


def safetensors_names(path):
    raw = open(path, "rb").read()
    return set(json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])) - {"__metadata__"}


def classification(bin_dir, config_dir, model, work):
    data = classification_data(work)
    out = os.path.join(work, "cls-out")
    p = run(bin_dir, ["--config", os.path.join(config_dir, "custom-classification.json"), "--model", model,
                      "--data", data, "--output", out, "--epochs", "10", "--set", "optimizer.learning_rate=2e-3",
                      "--set", "task.id=id", "--set", "train.batch_size=16", "--predict", os.path.join(data, "dev.csv")])
    check(p.returncode == 0, "classification run exits 0")
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "dev_predictions.tsv"))]
    check(rows[0] == ["index", "prediction", "label"], "dev_predictions.tsv header")
    acc = 100.0 * sum(r[1] == r[2] for r in rows[1:]) / (len(rows) - 1)
    check(abs(acc - reported(p.stdout, "accuracy")) < 0.01, f"reported accuracy equals recomputed ({acc:.2f})")
    check(acc >= 90.0, f"classification learns the keyword rule (dev accuracy {acc:.1f} >= 90)")
    sub = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "predictions.tsv"))]
    check(sub[0] == ["index", "prediction"] and len(sub) == 61 and sub[1][0] == "dev-0",
          "--predict writes a submission TSV (index, prediction) for every row")
    cfg = json.load(open(os.path.join(out, "best", "config.json")))
    check(cfg["architectures"] == ["ElectraForSequenceClassification"] and cfg["id2label"] == {"0": "no", "1": "yes"},
          "best/config.json names the transformers head and its labels")
    names = safetensors_names(os.path.join(out, "best", "model.safetensors"))
    check({"classifier.dense.weight", "classifier.out_proj.weight", "classifier.out_proj.bias"} <= names,
          "head saved under transformers' names")
    # Evaluate-only from the fine-tuned directory reproduces the kept model's score.
    p2 = run(bin_dir, ["--config", os.path.join(config_dir, "custom-classification.json"), "--model",
                       os.path.join(out, "best"), "--data", data, "--output", os.path.join(work, "cls-eval"),
                       "--epochs", "0", "--set", "task.id=id"])
    check(p2.returncode == 0 and abs(reported(p2.stdout, "accuracy") - acc) < 0.01,
          "a fine-tuned directory reloads with its head (same dev accuracy)")


def resume(bin_dir, config_dir, model, work):
    """Ctrl-C writes a checkpoint; --resume then gives the uninterrupted run's losses and kept model."""
    data = classification_data(work)
    base = ["--config", os.path.join(config_dir, "custom-classification.json"), "--model", model, "--data", data,
            "--epochs", "30", "--set", "optimizer.learning_rate=2e-3", "--set", "task.id=id", "--set",
            "train.batch_size=16", "--set", "train.log_every=1", "--threads", "1"]
    whole, parts = os.path.join(work, "resume-whole"), os.path.join(work, "resume-parts")
    p = run(bin_dir, base + ["--output", whole])
    check(p.returncode == 0 and not os.path.exists(os.path.join(whole, "checkpoints")),
          "an uninterrupted run exits 0 and removes its checkpoints")
    proc = subprocess.Popen([os.path.join(bin_dir, "electra-finetune")] + base + ["--output", parts],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = os.path.join(parts, "metrics.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(metrics) and sum('"train"' in line for line in open(metrics)) >= 40:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    saved = os.listdir(os.path.join(parts, "checkpoints")) if os.path.isdir(os.path.join(parts, "checkpoints")) else []
    check(proc.returncode == 130 and "--resume" in out and len(saved) == 1,
          f"Ctrl-C exits 130, writes one checkpoint and says how to resume (rc {proc.returncode}, {saved})")
    p = run(bin_dir, base + ["--output", parts, "--resume"])
    check(p.returncode == 0 and "resumed from" in p.stderr, "--resume finishes the run")

    def records(path, split):
        return {r["step"]: r for r in map(json.loads, open(path)) if r["split"] == split}

    a, b = records(os.path.join(whole, "metrics.jsonl"), "train"), records(metrics, "train")
    check(sorted(a) == sorted(b) and max(abs(a[s]["loss"] - b[s]["loss"]) for s in a) <= 1e-6,
          f"every step's loss equals the uninterrupted run's ({len(a)} steps, interrupted at {saved})")
    dev_a, dev_b = records(os.path.join(whole, "metrics.jsonl"), "dev"), records(metrics, "dev")
    check(dev_a.keys() == dev_b.keys() and all(dev_a[s]["accuracy"] == dev_b[s]["accuracy"] for s in dev_a),
          "every evaluation equals the uninterrupted run's")
    same = [open(os.path.join(d, "best", "model.safetensors"), "rb").read() for d in (whole, parts)]
    check(same[0] == same[1], "the kept model is byte-identical")
    p = run(bin_dir, base + ["--output", parts, "--resume"], expect_ok=False)
    check(p.returncode == 1 and "no checkpoint" in p.stderr, "--resume after a completed run says there is nothing to resume")
    p = run(bin_dir, base + ["--output", parts], expect_ok=False)
    check(p.returncode == 1 and "already holds a run" in p.stderr and
          open(os.path.join(parts, "best", "model.safetensors"), "rb").read() == same[1],
          "a new run into a used folder is refused and the kept model stays")
    p = run(bin_dir, base + ["--output", parts, "--overwrite"])
    check(p.returncode == 0 and sum('"train"' in line for line in open(metrics)) == len(a),
          "--overwrite starts the folder afresh (one metrics record per step)")

    # A killed run (no chance to save) continues from the checkpoint written after its last epoch.
    killed = os.path.join(work, "resume-killed")
    proc = subprocess.Popen([os.path.join(bin_dir, "electra-finetune")] + base + ["--output", killed],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = os.path.join(killed, "checkpoints")
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if os.path.isdir(checkpoints) and any(not n.endswith(".tmp") for n in os.listdir(checkpoints)):
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    p = run(bin_dir, base + ["--output", killed, "--resume"])
    c = records(os.path.join(killed, "metrics.jsonl"), "train")  # re-run steps: the later record wins
    check(p.returncode == 0 and sorted(c) == sorted(a) and max(abs(a[s]["loss"] - c[s]["loss"]) for s in a) <= 1e-6,
          "after a kill, --resume from the last epoch's checkpoint gives the uninterrupted run's losses")


def linear_head(bin_dir, config_dir, model, work):
    """The official code's head: one Linear on [CLS], recorded in config.json, reloaded as such."""
    data = classification_data(work)
    out = os.path.join(work, "linear-out")
    config = os.path.join(config_dir, "custom-classification.json")
    p = run(bin_dir, ["--config", config, "--model", model, "--data", data, "--output", out, "--epochs", "10",
                      "--set", "optimizer.learning_rate=2e-3", "--set", "train.batch_size=16",
                      "--set", "task.classifier_head=linear"])
    check(p.returncode == 0, "linear-head run exits 0")
    acc = reported(p.stdout, "accuracy")
    check(acc is not None and acc >= 90.0, f"the linear head learns the keyword rule (dev accuracy {acc} >= 90)")
    head = {n for n in safetensors_names(os.path.join(out, "best", "model.safetensors")) if n.startswith("classifier.")}
    check(head == {"classifier.out_proj.weight", "classifier.out_proj.bias"}, f"linear head saved as {sorted(head)}")
    cfg = json.load(open(os.path.join(out, "best", "config.json")))
    check(cfg.get("classifier_head") == "linear", "best/config.json records the linear head")
    again = [config, "--model", os.path.join(out, "best"), "--data", data, "--epochs", "0"]
    p2 = run(bin_dir, ["--config"] + again + ["--output", os.path.join(work, "linear-eval"),
                                              "--set", "task.classifier_head=linear"])
    check(p2.returncode == 0 and reported(p2.stdout, "accuracy") == acc,
          "a linear-head directory reloads with its head (same dev accuracy)")
    p3 = run(bin_dir, ["--config"] + again + ["--output", os.path.join(work, "linear-mismatch")])
    check(p3.returncode == 0 and "holds a linear classifier head" in p3.stdout + p3.stderr,
          "reloading with the other head says the head starts anew")
    p4 = run(bin_dir, ["--config", os.path.join(config_dir, "custom-classification.json"), "--model", model,
                       "--data", data, "--output", os.path.join(work, "linear-bad"), "--set", "task.type=tagging",
                       "--set", "task.classifier_head=linear"], expect_ok=False)
    check(p4.returncode != 0 and "task.classifier_head" in p4.stderr, "classifier_head on a tagging task is refused")


def regression(bin_dir, config_dir, model, work):
    rng = random.Random(2)
    data = os.path.join(work, "reg")
    os.makedirs(data)
    for split, n in [("train", 300), ("dev", 60)]:
        with open(os.path.join(data, split + ".tsv"), "w") as f:
            f.write("sentence\tscore\n")
            for i in range(n):
                k = i % 4
                words = sentence(rng, False).split() + [KEY] * k
                rng.shuffle(words)
                f.write(" ".join(words) + f"\t{k * 1.5:.1f}\n")
    out = os.path.join(work, "reg-out")
    p = run(bin_dir, ["--config", os.path.join(config_dir, "custom-classification.json"), "--model", model,
                      "--data", data, "--output", out, "--epochs", "6", "--set", "task.type=regression",
                      "--set", "task.format=tsv", "--set", "task.quoting=false", "--set", "task.text_a=sentence",
                      "--set", "task.label=score", "--set", "task.train_file=train.tsv", "--set", "task.dev_file=dev.tsv",
                      "--set", 'task.metrics=["pearson","spearman"]', "--set", "optimizer.learning_rate=2e-3",
                      "--set", "train.batch_size=16"])
    check(p.returncode == 0, "regression run exits 0")
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "dev_predictions.tsv"))][1:]
    x = torch.tensor([float(r[1]) for r in rows], dtype=torch.float64)
    y = torch.tensor([float(r[2]) for r in rows], dtype=torch.float64)
    r = float(torch.corrcoef(torch.stack([x, y]))[0, 1]) * 100
    check(abs(r - reported(p.stdout, "pearson")) < 0.05, f"reported Pearson equals recomputed ({r:.2f})")
    check(r >= 80.0, f"regression learns the count (Pearson {r:.1f} >= 80)")


TAGS = {"quick": "B-ADJP", "brown": "I-ADJP", "fox": "B-NP", "dog": "B-NP", "jumps": "B-VP", "over": "B-PP"}


def tagging_data(work):
    """train.conll and dev.conll: "word POS tag" lines, each word's tag fixed by the word."""
    rng = random.Random(3)
    data = os.path.join(work, "tag")
    os.makedirs(data)
    for split, n in [("train.conll", 300), ("dev.conll", 60)]:
        with open(os.path.join(data, split), "w") as f:
            for _ in range(n):
                for _ in range(rng.randint(3, 9)):
                    w = rng.choice(list(TAGS) + WORDS[9:15])
                    f.write(f"{w} POS {TAGS.get(w, 'O')}\n")
                f.write("\n")
    return data


def tagging(bin_dir, config_dir, model, work):
    data = tagging_data(work)
    out = os.path.join(work, "tag-out")
    p = run(bin_dir, ["--config", os.path.join(config_dir, "custom-tagging.json"), "--model", model, "--data", data,
                      "--output", out, "--epochs", "4", "--set", "optimizer.learning_rate=2e-3",
                      "--set", "train.batch_size=16"])
    check(p.returncode == 0, "tagging run exits 0")
    lines = [l.split() for l in open(os.path.join(out, "dev_predictions.txt")) if l.strip()]
    check(all(len(l) == 3 for l in lines), "dev_predictions.txt has word, gold and predicted tag")
    acc = 100.0 * sum(l[1] == l[2] for l in lines) / len(lines)
    check(abs(acc - reported(p.stdout, "accuracy")) < 0.01, f"reported token accuracy equals recomputed ({acc:.2f})")
    f1 = reported(p.stdout, "f1")
    check(f1 is not None and f1 >= 90.0, f"tagging learns the word tags (chunk F1 {f1} >= 90)")


def synthetic_squad(work, name, seed, version_2=False):
    """train.json (240 questions) and dev.json (40): "what is it ?" over filler words, answered by
    the word after "is". version_2: every other question's context lacks "is" and has no answer."""
    rng = random.Random(seed)
    data = os.path.join(work, name)
    os.makedirs(data)
    for split, n in [("train.json", 240), ("dev.json", 40)]:
        paragraphs = []
        for i in range(n):
            filler = [rng.choice(WORDS[:9]) for _ in range(rng.randint(2, 12))]
            answer = rng.choice(ANSWERS)
            at = rng.randint(0, len(filler))
            qa = {"id": f"{split}-{i}", "question": "what is it ?"}
            if version_2 and i % 2 == 0:
                words = filler[:at] + [answer] + filler[at:]
                qa.update(answers=[], is_impossible=True)
            else:
                words = filler[:at] + ["is", answer] + filler[at:]
                start = len(" ".join(words[:at + 1])) + 1
                assert " ".join(words)[start:start + len(answer)] == answer
                qa["answers"] = [{"text": answer, "answer_start": start}]
                if version_2:
                    qa["is_impossible"] = False
            paragraphs.append({"context": " ".join(words), "qas": [qa]})
        with open(os.path.join(data, split), "w") as f:
            json.dump({"version": "v2.0" if version_2 else "1.1",
                       "data": [{"title": "synthetic", "paragraphs": paragraphs}]}, f)
    return data


def squad(bin_dir, config_dir, model, work):
    data = synthetic_squad(work, "squad", 4)
    out = os.path.join(work, "squad-out")
    p = run(bin_dir, ["--config", os.path.join(config_dir, "squad1.json"), "--model", model, "--data", data,
                      "--output", out, "--epochs", "6", "--set", "task.train_file=train.json", "--set",
                      "task.dev_file=dev.json", "--set", "train.max_seq_length=64", "--set", "squad.doc_stride=32",
                      "--set", "squad.max_query_length=16", "--set", "optimizer.learning_rate=2e-3",
                      "--set", "train.batch_size=16"])
    check(p.returncode == 0, "squad run exits 0")
    preds = json.load(open(os.path.join(out, "dev_predictions.json")))
    nbest = json.load(open(os.path.join(out, "dev_nbest_predictions.json")))
    gold = {}
    for para in json.load(open(os.path.join(data, "dev.json")))["data"][0]["paragraphs"]:
        for qa in para["qas"]:
            gold[qa["id"]] = qa["answers"][0]["text"]
    em = 100.0 * sum(preds.get(q) == a for q, a in gold.items()) / len(gold)
    check(abs(em - reported(p.stdout, "exact")) < 0.01, f"reported exact match equals recomputed ({em:.2f})")
    check(em >= 80.0, f"span extraction finds the word after 'is' (EM {em:.1f} >= 80)")
    check(all(abs(sum(c["probability"] for c in v) - 1) < 1e-3 for v in nbest.values()),
          "n-best probabilities sum to 1")


def squad2_answerable(bin_dir, config_dir, model, work):
    """SQuAD 2.0 with the answerability classifier: a question is answerable exactly when its
    context holds 'is'; the classifier's logit becomes the null odds and must separate the two."""
    data = synthetic_squad(work, "squad2", 5, version_2=True)
    out = os.path.join(work, "squad2-out")
    args = ["--config", os.path.join(config_dir, "squad2.json"), "--data", data, "--set", "task.train_file=train.json",
            "--set", "task.dev_file=dev.json", "--set", "train.max_seq_length=64", "--set", "squad.doc_stride=32",
            "--set", "squad.max_query_length=16", "--set", "squad.answerable_classifier=true"]
    p = run(bin_dir, args + ["--model", model, "--output", out, "--epochs", "6", "--set", "optimizer.learning_rate=2e-3",
                             "--set", "train.batch_size=16"])
    check(p.returncode == 0, "squad2 run with the answerability classifier exits 0")
    best = os.path.join(out, "best")
    check(json.load(open(os.path.join(best, "config.json"))).get("answerable_classifier") is True,
          "best/config.json records the answerability classifier")
    names = safetensors_names(os.path.join(best, "model.safetensors"))
    check({"answerable_classifier.dense.weight", "answerable_classifier.out_proj.weight", "qa_outputs.weight"} <= names,
          "the classifier is saved beside qa_outputs")

    def null_odds_auc(run_dir):  # how well null_odds.json ranks unanswerable above answerable questions
        odds = json.load(open(os.path.join(run_dir, "dev_null_odds.json")))
        impossible = [odds[f"dev.json-{i}"] for i in range(0, 40, 2)]
        possible = [odds[f"dev.json-{i}"] for i in range(1, 40, 2)]
        return sum((a > b) + 0.5 * (a == b) for a in impossible for b in possible) / (len(impossible) * len(possible))

    auc, best_f1 = null_odds_auc(out), reported(p.stdout, "best_f1")
    check(auc >= 0.7 and best_f1 is not None and best_f1 >= 70.0,
          f"the classifier's null odds separate the questions (AUC {auc:.2f} >= 0.7, best_f1 {best_f1} >= 70)")
    # The same run without it: the span scores' null odds, as BERT's run_squad.py computes them.
    plain = os.path.join(work, "squad2-plain")
    p0 = run(bin_dir, args[:-2] + ["--model", model, "--output", plain, "--epochs", "6",
                                   "--set", "optimizer.learning_rate=2e-3", "--set", "train.batch_size=16"])
    plain_auc, plain_f1 = null_odds_auc(plain), reported(p0.stdout, "best_f1")
    check(p0.returncode == 0 and plain_f1 is not None and best_f1 >= plain_f1 + 10 and auc > plain_auc,
          f"the classifier beats span-score null odds (best_f1 {best_f1} vs {plain_f1}, AUC {auc:.2f} vs {plain_auc:.2f})")
    p2 = run(bin_dir, args + ["--model", best, "--output", os.path.join(work, "squad2-eval"), "--epochs", "0"])
    check(p2.returncode == 0 and reported(p2.stdout, "best_f1") == best_f1,
          "a directory with the classifier reloads with it (same best_f1)")
    p3 = run(bin_dir, args[:-2] + ["--model", best, "--output", os.path.join(work, "squad2-without"), "--epochs", "0"])
    check(p3.returncode == 0 and "holds an answerability classifier" in p3.stdout + p3.stderr,
          "reloading without the classifier says it is left out")


def errors(bin_dir, config_dir, model, work):
    data = os.path.join(work, "bad")
    os.makedirs(data)
    with open(os.path.join(data, "train.csv"), "w") as f:
        f.write("id,text,label\n1,a b c,yes\n2,c d e,no\n")
    with open(os.path.join(data, "dev.csv"), "w") as f:
        f.write("id,text,label\n1,a b c,yes\n2,c d e,maybe\n")
    cfg = os.path.join(config_dir, "custom-classification.json")

    def fails(args, needle, what):
        p = run(bin_dir, args, expect_ok=False)
        text = p.stdout + p.stderr
        check(p.returncode != 0 and needle in text and "Traceback" not in text and "terminate called" not in text,
              what + f" (exit {p.returncode}: {text.strip().splitlines()[-1] if text.strip() else ''})")

    base = ["--config", cfg, "--model", model, "--data", data, "--output", os.path.join(work, "bad-out")]
    fails(base, "dev.csv", "an unknown dev label names the file")
    fails(base[:2] + ["--model", os.path.join(work, "missing")] + base[4:], "missing", "a missing model directory")
    big = os.path.join(work, "bigvocab")
    os.makedirs(big)
    for name in ["config.json", "model.safetensors"]:
        os.symlink(os.path.join(model, name), os.path.join(big, name))
    with open(os.path.join(big, "vocab.txt"), "w") as f:
        f.write("\n".join(ref.make_vocab(120) + [f"extra{i}" for i in range(50)]) + "\n")
    fails(base[:2] + ["--model", big] + base[4:], "vocab", "a vocabulary larger than the model is refused")
    broken = os.path.join(work, "broken.json")
    with open(broken, "w") as f:
        f.write('{"task": {"type": "glue", "name": "mrpc"}, "train": {"epochs": "three"}}')
    fails(["--config", broken] + base[2:], "train.epochs", "a config with a wrong type names the key")
    with open(broken, "w") as f:
        f.write('{"task": {"type": "glue", "name": "nosuchtask"}}')
    fails(["--config", broken] + base[2:], "nosuchtask", "an unknown GLUE task is named")
    squad_data = synthetic_squad(work, "squad-test-file", 5)
    test_file = json.load(open(os.path.join(squad_data, "dev.json")))
    for para in test_file["data"][0]["paragraphs"]:
        for qa in para["qas"]:
            qa["answers"] = []  # a test file: answers held back
    json.dump(test_file, open(os.path.join(squad_data, "test.json"), "w"))
    fails(["--config", os.path.join(config_dir, "squad2.json"), "--model", model, "--data", squad_data, "--output",
           os.path.join(work, "squad-test-out"), "--set", "task.train_file=train.json", "--set",
           "task.dev_file=test.json", "--epochs", "1"], "test.json: no question in the evaluation examples",
          "a SQuAD file without gold answers is refused as the dev set, naming the file")


def main():
    bin_dir, config_dir = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="electra-finetune-test-") as work:
        model = os.path.join(work, "model")
        make_model(model)
        only = sys.argv[3:] or ["classification", "resume", "linear_head", "regression", "tagging", "squad",
                                 "squad2_answerable", "errors"]
        for name in only:
            globals()[name](bin_dir, config_dir, model, work)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
