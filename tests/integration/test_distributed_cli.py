#!/usr/bin/python3
"""Data-parallel pre-training on Gloo over loopback.

Two ranks (started by electra-pretrain --nproc-per-node 2, i.e. with torchrun's variables)
train K steps with global batch B; one process trains K steps with batch B in two
accumulation micro-batches (the same micro-batch slots, so the same data and masks). The
exported weights must agree within 1e-5. Then a rank whose peer never joins must fail with a
clear rendezvous error within a bounded time.

usage: test_distributed_cli.py BIN_DIR TOY_VOCAB CONFIG
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from safetensors_py import read_safetensors  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def finetune(bin_dir, work):
    """Fine-tuning: 2 ranks x half of each global batch == 1 process x the whole batch."""
    import torch
    import make_parity_fixtures as ref
    vocab = ref.make_vocab(120)
    c = ref.Cfg(len(vocab), 32, 32, 2, 2, 64, max_position_embeddings=64)
    torch.manual_seed(0)
    model = ref.ElectraForPreTraining(c)
    state = {k: (v.float() * 0.1).contiguous() for k, v in ref.export_state(model).items()}
    model_dir = os.path.join(work, "ft-model")
    ref.write_model_dir(model_dir, c, "ElectraForPreTraining", state, vocab,
                        config_extra={"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0})
    data = os.path.join(work, "ft-data")
    os.makedirs(data)
    rng = random.Random(5)
    words = [w for w in vocab if w.isalpha() and len(w) == 1]
    for split, n in [("train.tsv", 37), ("dev.tsv", 10)]:  # 37: the last batch splits unevenly
        with open(os.path.join(data, split), "w") as f:
            f.write("sentence\tlabel\n")
            for i in range(n):
                f.write(" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + f"\t{i % 2}\n")
    config = os.path.join(HERE, "..", "..", "configs", "finetune", "custom-classification.json")
    common = [os.path.join(bin_dir, "electra-finetune"), "--config", config, "--model", model_dir, "--data", data,
              "--threads", "1", "--epochs", "2", "--set", "task.format=tsv", "--set", "task.quoting=false",
              "--set", "task.text_a=sentence", "--set", "task.train_file=train.tsv", "--set", "task.dev_file=dev.tsv",
              "--set", "train.batch_size=8", "--set", "optimizer.learning_rate=1e-3", "--set", "train.max_seq_length=64"]
    env = dict(os.environ, MASTER_PORT=str(23000 + os.getpid() % 20000))
    r2 = subprocess.run(common + ["--output", os.path.join(work, "ft-two"), "--nproc-per-node", "2"],
                        capture_output=True, text=True, timeout=600, env=env)
    r1 = subprocess.run(common + ["--output", os.path.join(work, "ft-one")], capture_output=True, text=True, timeout=600)
    check(r2.returncode == 0 and r1.returncode == 0, f"fine-tuning runs finish ({r2.stderr[-1500:]} {r1.stderr[-400:]})")
    if r2.returncode == 0 and r1.returncode == 0:
        a, _ = read_safetensors(os.path.join(work, "ft-two", "best", "model.safetensors"))
        b, _ = read_safetensors(os.path.join(work, "ft-one", "best", "model.safetensors"))
        worst = max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
        moved = max(float((a[k].double() - state[k].double()).abs().max()) for k in state if k in a)
        check(worst <= 1e-5 and moved > 1e-4,
              f"fine-tuning: 2 ranks == 1 process (max |diff| {worst:.2e}; weights moved {moved:.2e})")


def rank_pids(launcher):
    try:
        return [int(p) for p in open(f"/proc/{launcher}/task/{launcher}/children").read().split()]
    except OSError:
        return []


def alive(pid):
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except OSError:
        return False


def orphans(common, work):
    """SIGTERM to the launcher stops its ranks (a checkpoint each); SIGKILL to it ends them too."""
    long_run = [a if a != "4" else "100000" for a in common]  # --steps 4 -> a run that would not end
    for sig, name in [(signal.SIGTERM, "SIGTERM"), (signal.SIGKILL, "SIGKILL")]:
        out = os.path.join(work, "orphans-" + name)
        env = dict(os.environ, MASTER_PORT=str(27000 + os.getpid() % 20000 + sig))
        p = subprocess.Popen(long_run + ["--output", out, "--nproc-per-node", "2"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=env)
        metrics = os.path.join(out, "metrics.jsonl")
        deadline = time.time() + 120
        while time.time() < deadline and not (os.path.exists(metrics) and os.path.getsize(metrics) > 0):
            time.sleep(0.2)
        ranks = rank_pids(p.pid)
        p.send_signal(sig)
        p.wait(timeout=120)
        deadline = time.time() + 60
        while time.time() < deadline and any(alive(r) for r in ranks):
            time.sleep(0.2)
        check(len(ranks) == 2 and not any(alive(r) for r in ranks),
              f"{name} to the launcher: its {len(ranks)} ranks end with it")
        if sig == signal.SIGTERM:
            check(p.returncode == 130 and os.path.isdir(os.path.join(out, "checkpoints")),
                  f"... after a checkpoint (exit {p.returncode})")


def main():
    bin_dir, vocab, config = sys.argv[1:4]
    tool = lambda name: os.path.join(bin_dir, name)  # noqa: E731
    words = [w.strip() for w in open(vocab, encoding="utf-8") if w.strip().isalpha()]
    work = tempfile.mkdtemp(prefix="electra-dist-test-")
    corpus = os.path.join(work, "corpus.txt")
    rng = random.Random(2)
    with open(corpus, "w", encoding="utf-8") as f:
        for _ in range(40):
            for _ in range(8):
                f.write(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + " .\n")
            f.write("\n")
    data = os.path.join(work, "data")
    subprocess.run([tool("electra-prepare"), "--input", corpus, "--vocab", vocab, "--output", data,
                    "--max-seq-len", "32", "--quiet"], check=True)
    common = [tool("electra-pretrain"), "--config", config, "--data", data, "--threads", "1", "--steps", "4",
              "--set", "model.embedding_size=16", "--set", "model.hidden_size=32",
              "--set", "model.num_hidden_layers=2", "--set", "model.num_attention_heads=2",
              "--set", "model.intermediate_size=64", "--set", "model.generator_hidden_fraction=0.5",
              # Dropout draws from each process's own stream; without it the runs are comparable.
              "--set", "model.hidden_dropout_prob=0", "--set", "model.attention_probs_dropout_prob=0",
              "--set", "train.batch_size=8", "--set", "train.log_every=1", "--set", "optimizer.warmup_steps=1"]
    two = os.path.join(work, "two")
    env = dict(os.environ, MASTER_PORT=str(21000 + os.getpid() % 20000))
    r = subprocess.run(common + ["--output", two, "--nproc-per-node", "2"], capture_output=True, text=True,
                       timeout=600, env=env)
    check(r.returncode == 0, f"two ranks finish (exit {r.returncode}) {r.stderr[-600:]}")
    check("data parallel: 2 ranks" in r.stderr, "rank 0 reports the data-parallel group")
    one = os.path.join(work, "one")
    r = subprocess.run(common + ["--output", one, "--set", "train.grad_accum_steps=2"], capture_output=True, text=True,
                       timeout=600)
    check(r.returncode == 0, f"one process finishes {r.stderr[-600:]}")
    for part in ["discriminator", "generator"]:
        a, _ = read_safetensors(os.path.join(two, part, "model.safetensors"))
        b, _ = read_safetensors(os.path.join(one, part, "model.safetensors"))
        worst = max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
        changed = max(float(a[k].double().abs().max()) for k in a)
        check(set(a) == set(b) and worst <= 1e-5 and changed > 0,
              f"{part}: 2 ranks x batch 4 == 1 process x batch 8 (max |diff| {worst:.2e})")

    # Resume with a different world size: the masking streams belong to micro-batch slots, so one
    # process with 2 accumulation steps continues the 2-rank run exactly; 1 x 1 is refused clearly.
    r = subprocess.run(common + ["--output", two, "--resume", "--set", "train.steps=6"], capture_output=True, text=True,
                       timeout=600)
    last = (r.stderr.strip().splitlines() or [""])[-1]
    check(r.returncode == 1 and "train.grad_accum_steps=2" in last and "Traceback" not in r.stderr,
          f"resume with other slots refused clearly ({last})")
    for out in [two, one]:
        r = subprocess.run(common + ["--output", out, "--resume", "--set", "train.steps=6", "--set", "train.grad_accum_steps=2"],
                           capture_output=True, text=True, timeout=600)
        check(r.returncode == 0 and "resumed from" in r.stderr, f"resume {os.path.basename(out)} {r.stderr[-400:]}")
    a, _ = read_safetensors(os.path.join(two, "discriminator", "model.safetensors"))
    b, _ = read_safetensors(os.path.join(one, "discriminator", "model.safetensors"))
    worst = max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
    check(worst <= 1e-5, f"2 ranks + resumed by 1 process == 1 process throughout (max |diff| {worst:.2e})")

    # A GPU asked of a LibTorch without CUDA (or a machine without a GPU): one clear line.
    r = subprocess.run(common + ["--output", os.path.join(work, "gpu"), "--device", "cuda:0"],
                       capture_output=True, text=True, timeout=120)
    last = (r.stderr.strip().splitlines() or [""])[-1]
    if "cuda" in last:
        check(r.returncode == 1 and "Traceback" not in r.stderr and ("without CUDA" in last or "GPU" in last),
              f"--device cuda without a GPU: clear error ({last})")

    # Without --threads or OMP_NUM_THREADS, N local ranks share the cores out (as torchrun does)
    # instead of each taking all of them.
    at = common.index("--threads")
    no_threads = common[:at] + common[at + 2:]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["MASTER_PORT"] = str(25000 + os.getpid() % 20000)
    r = subprocess.run(no_threads + ["--output", os.path.join(work, "shared-cores"), "--nproc-per-node", "2"],
                       capture_output=True, text=True, timeout=600, env=env)
    expected = max(1, (os.cpu_count() or 1) // 2)
    check(r.returncode == 0 and f", {expected} threads" in r.stderr,
          f"2 local ranks default to {expected} intra-op thread(s) each ({r.stderr[-300:]})")

    finetune(bin_dir, work)
    orphans(common, work)

    # Rank 1 of 2 with no rank 0 anywhere: a clear error, not a hang.
    env = dict(os.environ, RANK="1", WORLD_SIZE="2", LOCAL_RANK="1", MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(41000 + os.getpid() % 20000))
    start = time.time()
    r = subprocess.run(common + ["--output", os.path.join(work, "alone"), "--rendezvous-timeout", "3"],
                       capture_output=True, text=True, timeout=120, env=env)
    took = time.time() - start
    last = (r.stderr.strip().splitlines() or [""])[-1]
    check(r.returncode != 0 and took < 60 and "127.0.0.1" in last and "Traceback" not in r.stderr,
          f"missing peer: clear error in {took:.1f}s ({last})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
