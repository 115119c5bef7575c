#!/usr/bin/python3
"""electra-pretrain end to end on a small generated corpus: a run interrupted with SIGINT
writes a checkpoint and says how to resume; --resume finishes it; the exported
discriminator loads in electra-detect and the generator in fill mode; bad input gets one
clear error line.

usage: test_pretrain_cli.py BIN_DIR TOY_VOCAB CONFIG
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

failures = []
passed = 0


def check(condition, what):
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


# The tiny model these runs train (and test_report.py's): a hundred steps take seconds on one thread.
TINY_MODEL = ["--set", "model.embedding_size=16", "--set", "model.hidden_size=32", "--set", "model.num_hidden_layers=2",
              "--set", "model.num_attention_heads=2", "--set", "model.intermediate_size=64",
              "--set", "model.generator_hidden_fraction=0.5", "--set", "train.batch_size=8"]


def prepare_data(tool, vocab, work):
    """A random corpus over the toy vocabulary's words, prepared into work/data (32 tokens, 10%
    held out). Returns the folder and electra-prepare's completed process."""
    with open(vocab, encoding="utf-8") as f:
        words = [w.strip() for w in f if w.strip().isalpha()]
    corpus = os.path.join(work, "corpus.txt")
    rng = random.Random(1)
    with open(corpus, "w", encoding="utf-8") as f:
        for _ in range(60):
            for _ in range(8):
                f.write(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + " .\n")
            f.write("\n")
    data = os.path.join(work, "data")
    r = subprocess.run([tool("electra-prepare"), "--input", corpus, "--vocab", vocab, "--output", data,
                        "--max-seq-len", "32", "--eval-fraction", "0.1", "--quiet"], capture_output=True, text=True)
    return data, r


def main():
    bin_dir, vocab, config = sys.argv[1:4]
    tool = lambda name: os.path.join(bin_dir, name)  # noqa: E731
    work = tempfile.mkdtemp(prefix="electra-pretrain-test-")
    data, r = prepare_data(tool, vocab, work)
    check(r.returncode == 0, f"prepare: {r.stderr}")

    run_dir = os.path.join(work, "run")
    args = [tool("electra-pretrain"), "--config", config, "--data", data, "--output", run_dir, "--threads", "1",
            *TINY_MODEL, "--set", "train.log_every=1", "--set", "train.eval_every=50", "--set", "train.save_every=1000",
            "--steps", "400"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = os.path.join(run_dir, "metrics.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        if os.path.exists(metrics) and sum(1 for _ in open(metrics)) >= 5:
            break
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    check(p.returncode == 130, f"SIGINT exit code 130 (got {p.returncode}; stderr {err[-500:]})")
    check("--resume" in out, "says how to resume")
    checkpoints = os.path.join(run_dir, "checkpoints")
    saved = sorted(os.listdir(checkpoints)) if os.path.isdir(checkpoints) else []
    check(len(saved) == 1 and not saved[0].endswith(".tmp"), f"one complete checkpoint after SIGINT: {saved}")
    stopped_at = int(saved[0].split("-")[1]) if saved else 0
    check(0 < stopped_at < 400, f"stopped early (step {stopped_at})")

    r = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, f"resume finishes: {r.stderr[-800:]}")
    check(f"resumed from" in r.stderr and f"at step {stopped_at}" in r.stderr, "resume message")
    steps = [json.loads(l)["step"] for l in open(metrics) if '"train"' in l]
    check(steps[-1] == 400 and sorted(set(steps)) == list(range(1, 401)), "every step logged once across the two runs")
    evals = [json.loads(l) for l in open(metrics) if '"eval"' in l]
    check(len(evals) >= 2 and all(0.0 <= e["disc_auc"] <= 1.0 for e in evals), "evaluation records")

    disc = os.path.join(run_dir, "discriminator")
    r = subprocess.run([tool("electra-detect"), "--model", disc, "--text", "the quick brown fox", "--json"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and len(json.loads(r.stdout)["logits"]) > 2, f"detect loads the export: {r.stderr}")
    r = subprocess.run([tool("electra-detect"), "--model", os.path.join(run_dir, "generator"), "--text",
                        "the [MASK] fox", "--json"], capture_output=True, text=True)
    check(r.returncode == 0 and len(json.loads(r.stdout)["masks"]) == 1, f"fill mode on the generator: {r.stderr}")

    def one_error(extra, needle, what):
        r = subprocess.run(extra, capture_output=True, text=True, timeout=120)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == 1 and len(lines) >= 1 and needle in lines[-1] and "terminate" not in r.stderr,
              f"{what}: rc={r.returncode} stderr={r.stderr[-300:]!r}")

    one_error([tool("electra-pretrain"), "--config", config, "--data", os.path.join(work, "nowhere"), "--output",
               os.path.join(work, "x")], "nowhere", "missing data folder")
    one_error([tool("electra-pretrain"), "--config", config, "--data", data, "--output", os.path.join(work, "y"),
               "--set", "train.bacth_size=3"], "train.bacth_size", "unknown config key")
    one_error([tool("electra-pretrain"), "--config", config, "--data", data, "--output", os.path.join(work, "z"),
               "--resume"], "no checkpoint", "resume without a checkpoint")
    # A second run into a folder that holds one is refused unless told what to do with it.
    exported = open(os.path.join(disc, "model.safetensors"), "rb").read()
    one_error(args, "already holds a run", "a new run into a used folder without --resume or --overwrite")
    check(open(os.path.join(disc, "model.safetensors"), "rb").read() == exported, "the earlier run's export is kept")

    # A damaged newest checkpoint: the error names the file and the earlier checkpoint; nothing is removed.
    damaged_run = os.path.join(work, "damaged")
    shutil.copytree(run_dir, damaged_run)
    kept = sorted(os.listdir(os.path.join(damaged_run, "checkpoints")))
    check(len(kept) == 2, f"two checkpoints kept: {kept}")
    newest = os.path.join(damaged_run, "checkpoints", kept[-1], "model.safetensors")
    with open(newest, "r+b") as f:
        f.truncate(4000)
    one_error(args[:6] + [damaged_run] + args[7:] + ["--resume"], "the checkpoint before it", "truncated checkpoint")
    r = subprocess.run(args[:6] + [damaged_run] + args[7:] + ["--resume"], capture_output=True, text=True, timeout=120)
    check(kept[-1] + "/model.safetensors" in r.stderr and kept[0] in r.stderr, f"names both checkpoints: {r.stderr[-300:]}")
    check(sorted(os.listdir(os.path.join(damaged_run, "checkpoints"))) == kept and os.path.getsize(newest) == 4000,
          "the checkpoints are left as they were")
    bad_config = os.path.join(work, "bad.json")
    with open(bad_config, "w") as f:
        f.write('{"model": {"hidden_size": 30, "num_attention_heads": 4}}')
    one_error([tool("electra-pretrain"), "--config", bad_config, "--data", data, "--output", os.path.join(work, "w")],
              "divisible", "bad model config")

    # A time budget shorter than train.steps needs: the schedule is fitted to the steps it allows
    # (once the pace is known, after 30 s here), so the learning rate decays to 0 at that step.
    # Where the run ends depends on the machine's pace (other tests share it), so what is checked
    # is the schedule itself: from the fit on, every logged rate lies on the line to 0 at the fitted
    # step, and the run never goes past it.
    budget_run = os.path.join(work, "budget")
    r = subprocess.run(args[:6] + [budget_run] + args[7:-2] + ["--steps", "1000000", "--max-minutes", "0.75",
                                                                "--set", "train.eval_every=1000000"],
                       capture_output=True, text=True, timeout=300)
    fitted = re.search(r"learning rate now decays to 0 at step (\d+) instead of 1000000", r.stderr)
    records = [json.loads(l) for l in open(os.path.join(budget_run, "metrics.jsonl")) if '"train"' in l]
    etas = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in re.findall(r"ETA (\d+):(\d+):(\d+)", r.stderr)]
    check(r.returncode == 0 and fitted is not None and records, f"the schedule is fitted to the budget: {r.stderr[-400:]}")
    if fitted and records:
        end = int(fitted.group(1))
        peak = json.load(open(os.path.join(budget_run, "config.json")))["optimizer"]["learning_rate"]
        on_line = lambda x: abs(x["learning_rate"] - peak * (1 - (x["step"] - 1) / end)) <= 1e-9 * peak  # noqa: E731
        # The fit happens at one step; every record after the first one on the new line stays on it.
        first = next((i for i, x in enumerate(records) if on_line(x)), None)
        after = records[first:] if first is not None else []
        check(first is not None and all(on_line(x) for x in after) and records[-1]["step"] <= end,
              f"from the fit on, the rate decays linearly to 0 at the fitted step {end} and the run stops by then "
              f"(last: step {records[-1]['step']}, lr {records[-1]['learning_rate']:.2e} of {peak:.2e})")
    check(etas and max(etas) <= 45, f"the ETA never exceeds the 45 s budget (largest {max(etas or [0])} s)")

    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
