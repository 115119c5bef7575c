#!/usr/bin/python3
"""Two hosts and a cut link: one rank in each of two network namespaces joined by a veth pair
(MASTER_ADDR on the veth address, GLOO_SOCKET_IFNAME set), as a 2-node job runs.

1. A 2-node pre-training run ends with the weights of one process with 2 accumulation steps.
2. The link is cut mid-run: every rank exits with one clear line within the collective timeout.
3. With the link back, --resume on both nodes continues from the last checkpoint to the weights
   of one process that was never interrupted.

Needs root and iproute2 (network namespaces); exits 77 (skipped) without them.
usage: test_two_hosts.py BIN_DIR TOY_VOCAB PRETRAIN_CONFIG
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from safetensors_py import read_safetensors  # noqa: E402

failures = []
SKIP = 77
COLLECTIVE_TIMEOUT = 15


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


class Link:
    """Namespaces A and B, and a veth pair between them: 10.R.0.1 (A) and 10.R.0.2 (B)."""

    def __init__(self):
        tag = str(os.getpid() % 100000)
        self.ns = ["electra-a" + tag, "electra-b" + tag]
        self.dev = ["eva" + tag, "evb" + tag]
        self.addr = [f"10.{200 + os.getpid() % 50}.0.1", f"10.{200 + os.getpid() % 50}.0.2"]

    def up(self):
        steps = [["ip", "netns", "add", self.ns[0]], ["ip", "netns", "add", self.ns[1]],
                 ["ip", "link", "add", self.dev[0], "type", "veth", "peer", "name", self.dev[1]]]
        for i in range(2):
            steps += [["ip", "link", "set", self.dev[i], "netns", self.ns[i]],
                      ["ip", "-n", self.ns[i], "addr", "add", self.addr[i] + "/24", "dev", self.dev[i]],
                      ["ip", "-n", self.ns[i], "link", "set", self.dev[i], "up"],
                      ["ip", "-n", self.ns[i], "link", "set", "lo", "up"]]
        for step in steps:
            r = sh(*step)
            if r.returncode != 0:
                return f"{' '.join(step)}: {r.stderr.strip()}"
        return None

    def set(self, state):
        sh("ip", "-n", self.ns[0], "link", "set", self.dev[0], state)

    def down(self):
        for ns in self.ns:
            sh("ip", "netns", "del", ns)


def launch(link, args, port):
    """One rank per namespace; returns the two processes."""
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR=link.addr[0],
                   MASTER_PORT=str(port), GLOO_SOCKET_IFNAME=link.dev[rank], OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen(["ip", "netns", "exec", link.ns[rank]] + args, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


def finish(procs, timeout):
    results = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err += "\n(killed: it hung)"
        results.append((p.returncode, err))
    return results


def weights(run):
    return read_safetensors(os.path.join(run, "discriminator", "model.safetensors"))[0]


def max_diff(a, b):
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def main():
    bin_dir, vocab, config = sys.argv[1:4]
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("skip: needs root and iproute2 for network namespaces")
        return SKIP
    link = Link()
    problem = link.up()
    if problem:
        link.down()
        print(f"skip: cannot make network namespaces here ({problem})")
        return SKIP
    work = tempfile.mkdtemp(prefix="electra-two-hosts-")
    try:
        words = [w.strip() for w in open(vocab, encoding="utf-8") if w.strip().isalpha()]
        rng = random.Random(3)
        corpus = os.path.join(work, "corpus.txt")
        with open(corpus, "w") as f:
            for _ in range(60):
                for _ in range(8):
                    f.write(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + " .\n")
                f.write("\n")
        data = os.path.join(work, "data")
        subprocess.run([os.path.join(bin_dir, "electra-prepare"), "--input", corpus, "--vocab", vocab, "--output",
                        data, "--max-seq-len", "32", "--quiet"], check=True)
        common = [os.path.join(bin_dir, "electra-pretrain"), "--config", config, "--data", data, "--threads", "1",
                  "--set", "model.embedding_size=16", "--set", "model.hidden_size=32",
                  "--set", "model.num_hidden_layers=2", "--set", "model.num_attention_heads=2",
                  "--set", "model.intermediate_size=64", "--set", "model.generator_hidden_fraction=0.5",
                  # Dropout draws from each process's own stream; without it the runs are comparable.
                  "--set", "model.hidden_dropout_prob=0", "--set", "model.attention_probs_dropout_prob=0",
                  "--set", "train.batch_size=8", "--set", "optimizer.warmup_steps=2",
                  "--collective-timeout", str(COLLECTIVE_TIMEOUT), "--rendezvous-timeout", str(COLLECTIVE_TIMEOUT)]
        port = 31000 + os.getpid() % 20000

        # 1. Two nodes == one process with two accumulation steps.
        two, one = os.path.join(work, "two"), os.path.join(work, "one")
        results = finish(launch(link, common + ["--output", two, "--steps", "6"], port), 300)
        check(all(rc == 0 for rc, _ in results), f"a 2-node run finishes: {[e[-400:] for _, e in results]}")
        r = subprocess.run(common + ["--output", one, "--steps", "6", "--set", "train.grad_accum_steps=2"],
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"one process finishes: {r.stderr[-300:]}")
        if all(rc == 0 for rc, _ in results) and r.returncode == 0:
            diff = max_diff(weights(two), weights(one))
            check(diff <= 1e-5, f"2 nodes over a veth link == 1 process x 2 accumulation steps (max |diff| {diff:.2e})")

        # 2. The link is cut mid-run: one clear line from every rank, well within the timeout.
        steps = "2000"
        cut = os.path.join(work, "cut")
        args = common + ["--output", cut, "--steps", steps, "--set", "train.save_every=5", "--set", "train.log_every=1"]
        procs = launch(link, args, port + 1)
        metrics = os.path.join(cut, "metrics.jsonl")
        deadline = time.time() + 120
        while time.time() < deadline and not (os.path.exists(metrics) and sum(1 for _ in open(metrics)) >= 12):
            time.sleep(0.1)
        link.set("down")
        start = time.time()
        results = finish(procs, COLLECTIVE_TIMEOUT + 90)
        took = time.time() - start
        link.set("up")
        for rank, (rc, err) in enumerate(results):
            lines = [l for l in err.splitlines() if l.strip()]
            last = lines[-1] if lines else ""
            check(rc == 1 and "error" in last and "Traceback" not in err and "terminate" not in err,
                  f"rank {rank} exits with one clear line after the cut (exit {rc}): {last[:300]!r}")
        check(took <= COLLECTIVE_TIMEOUT + 30, f"... within the collective timeout ({took:.0f} s)")

        # 3. --resume on both nodes continues to the weights of an uninterrupted run.
        saved = sorted(os.listdir(os.path.join(cut, "checkpoints"))) if os.path.isdir(os.path.join(cut, "checkpoints")) else []
        check(len(saved) >= 1, f"a checkpoint was written before the cut: {saved}")
        results = finish(launch(link, args + ["--resume"], port + 2), 600)
        check(all(rc == 0 for rc, _ in results) and "resumed from" in results[0][1],
              f"--resume on both nodes finishes: {[e[-300:] for _, e in results]}")
        whole = os.path.join(work, "whole")
        r = subprocess.run(common + ["--output", whole, "--steps", steps, "--set", "train.save_every=5",
                                     "--set", "train.grad_accum_steps=2"], capture_output=True, text=True, timeout=600)
        if all(rc == 0 for rc, _ in results) and r.returncode == 0:
            diff = max_diff(weights(cut), weights(whole))
            check(diff <= 1e-5, f"cut, resumed 2-node run == uninterrupted single process (max |diff| {diff:.2e})")
    finally:
        link.down()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
