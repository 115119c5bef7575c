#!/usr/bin/env python3
"""End-to-end test of electra-prepare: runs the binary on a small generated corpus and
checks its output with an independent reader of the shard format (include/electra/data/
shard.h), and on the Brown corpus when ELECTRA_DATA_DIR is set.

usage: test_prepare_cli.py ELECTRA_PREPARE TOY_VOCAB
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK = (1 << 64) - 1


def fnv1a64(data, h=FNV_OFFSET):
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def vocab_fingerprint(path):
    with open(path, encoding="utf-8") as f:
        tokens = [line.rstrip("\r\n") for line in f]
    while tokens and tokens[-1] == "":
        tokens.pop()
    return fnv1a64(b"".join(t.encode("utf-8") + b"\n" for t in tokens))


def pad8(n):
    return (n + 7) // 8 * 8


def read_shard(path, verify=True):
    """Returns (header dict, list of (ids, len_a)); asserts the format's invariants."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"ELECSHRD", f"{path}: bad magic"
    (version, header_bytes, vocab_size, id_bytes, max_seq_len, flags, n, t, fingerprint, payload, checksum,
     header_checksum) = struct.unpack_from("<IIIIIIQQQQQQ", data, 8)
    assert version == 1 and header_bytes == 80 and flags == 0, path
    assert header_checksum == fnv1a64(data[:72]), f"{path}: header checksum"
    assert id_bytes == (2 if vocab_size <= 65536 else 4), path
    assert payload == len(data) - 80, f"{path}: payload size"
    assert payload == pad8(t * id_bytes) + 8 * (n + 1) + pad8(2 * n), f"{path}: layout"
    if verify:
        assert checksum == fnv1a64(data[80:]), f"{path}: payload checksum"
    ids_at = 80
    offsets_at = ids_at + pad8(t * id_bytes)
    len_a_at = offsets_at + 8 * (n + 1)
    offsets = struct.unpack_from(f"<{n + 1}Q", data, offsets_at)
    len_a = struct.unpack_from(f"<{n}H", data, len_a_at)
    ids = struct.unpack_from(f"<{t}{'H' if id_bytes == 2 else 'I'}", data, ids_at)
    examples = [(list(ids[offsets[i]:offsets[i + 1]]), len_a[i]) for i in range(n)]
    header = dict(vocab_size=vocab_size, id_bytes=id_bytes, max_seq_len=max_seq_len, examples=n, tokens=t,
                  fingerprint=fingerprint, checksum=checksum)
    return header, examples


def check_dataset(out, vocab, max_seq_len, cls_id, sep_id):
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    assert m["format"] == "electra-pretraining-data" and m["format_version"] == 1
    assert m["max_seq_len"] == max_seq_len
    assert int(m["vocab"]["fingerprint"], 16) == vocab_fingerprint(vocab), "vocab fingerprint"
    assert m["special_ids"]["cls"] == cls_id and m["special_ids"]["sep"] == sep_id
    totals = {}
    for split in ("train", "eval"):
        s = m["splits"][split]
        count = 0
        for shard in s["shards"]:
            header, examples = read_shard(os.path.join(out, shard["file"]))
            assert header["examples"] == shard["examples"] == len(examples)
            assert header["tokens"] == shard["tokens"]
            assert "%016x" % header["checksum"] == shard["checksum"]
            assert header["fingerprint"] == int(m["vocab"]["fingerprint"], 16)
            assert header["max_seq_len"] == max_seq_len
            for ids, len_a in examples:
                assert 3 <= len(ids) <= max_seq_len, ids
                assert ids[0] == cls_id and ids[-1] == sep_id and ids[len_a - 1] == sep_id, (ids, len_a)
                assert len_a >= 3
                assert len_a == len(ids) or len(ids) - len_a >= 2, (ids, len_a)
                assert all(0 <= i < header["vocab_size"] for i in ids)
            count += len(examples)
        assert count == s["examples"], split
        totals[split] = count
    return m, totals


def run(cmd, expect_rc=0):
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == expect_rc, f"{cmd}\nrc={p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def make_corpus(path_lines, path_prose):
    rnd = random.Random(5)
    words = "the quick brown fox jumps over the lazy dog hello world running cafe state of the art".split()
    with open(path_lines, "w") as f:
        for _ in range(150):
            for _ in range(rnd.randint(1, 10)):
                f.write(" ".join(rnd.choice(words) for _ in range(rnd.randint(2, 20))).capitalize() + ".\n")
            f.write("\n")
    with open(path_prose, "w") as f:
        for chapter in range(5):
            f.write(f"CHAPTER {chapter + 1}\n\n\n")
            for _ in range(8):
                sentences = [" ".join(rnd.choice(words) for _ in range(rnd.randint(2, 15))).capitalize() + "."
                             for _ in range(rnd.randint(2, 6))]
                text = " ".join(sentences)
                # hard-wrap at 60 columns
                line = ""
                for word in text.split():
                    if len(line) + len(word) > 60:
                        f.write(line.rstrip() + "\n")
                        line = ""
                    line += word + " "
                f.write(line.rstrip() + "\n\n")
            f.write("\n\n")


def main():
    binary, toy_vocab = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        lines, prose = os.path.join(tmp, "lines.txt"), os.path.join(tmp, "book.txt")
        make_corpus(lines, prose)
        out = os.path.join(tmp, "out")
        base = [binary, "--input", lines, "--prose-input", prose, "--vocab", toy_vocab, "--output", out,
                "--max-seq-len", "64", "--seed", "7", "--examples-per-shard", "50"]
        p = run(base + ["--threads", "2"])
        assert "examples:" in p.stdout and "train" in p.stdout, p.stdout
        assert "[prepare]" in p.stderr and "done" in p.stderr, p.stderr  # not a TTY: plain lines
        m, totals = check_dataset(out, toy_vocab, 64, 2, 3)
        assert totals["train"] > 100 and totals["eval"] > 0, totals
        assert len(m["splits"]["train"]["shards"]) > 2
        assert m["summary"]["documents"] > 150  # 150 lines-mode documents + the book's chapters
        assert [f["mode"] for f in m["files"]] == ["lines", "prose"]
        first = {f: open(os.path.join(out, f), "rb").read() for f in os.listdir(out) if f.endswith(".shard")}
        manifest = open(os.path.join(out, "manifest.json"), "rb").read()

        # An existing dataset is never replaced without --overwrite.
        p = run(base + ["--threads", "1"], expect_rc=1)
        assert "already holds a dataset" in p.stderr and "--overwrite" in p.stderr, p.stderr
        assert open(os.path.join(out, "manifest.json"), "rb").read() == manifest

        # With --overwrite and one thread: byte-identical shards.
        run(base + ["--threads", "1", "--overwrite", "--quiet"])
        again = {f: open(os.path.join(out, f), "rb").read() for f in os.listdir(out) if f.endswith(".shard")}
        assert again == first, "1 thread and 2 threads give different shards"

        # Errors: bad command line -> 2, bad input -> 1 naming it.
        run(base + ["--max-seq-len", "4"], expect_rc=2)
        p = run([binary, "--input", os.path.join(tmp, "nope.txt"), "--vocab", toy_vocab, "--output",
                 os.path.join(tmp, "o2")], expect_rc=1)
        assert "nope.txt" in p.stderr, p.stderr
        empty = os.path.join(tmp, "empty.txt")
        open(empty, "w").write("\n \n")
        p = run([binary, "--input", empty, "--vocab", toy_vocab, "--output", os.path.join(tmp, "o3")], expect_rc=1)
        assert "no examples" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(tmp, "o3"))

        data_dir = os.environ.get("ELECTRA_DATA_DIR")
        if data_dir:
            brown = os.path.join(data_dir, "corpus", "brown", "brown.txt")
            bert = os.path.join(data_dir, "vocab", "bert-base-uncased-vocab.txt")
            out = os.path.join(tmp, "brown")
            run([binary, "--input", brown, "--vocab", bert, "--output", out, "--quiet"])
            m, totals = check_dataset(out, bert, 128, 101, 102)
            s = m["summary"]
            assert s["documents"] == 500, s
            assert totals["train"] > 8000 and totals["eval"] > 0, totals
            assert s["unk_tokens"] < 0.001 * s["input_tokens"], s
            print(f"brown: {totals['train']} train / {totals['eval']} eval examples, {s['seconds']:.2f} s")
        else:
            print("ELECTRA_DATA_DIR not set: Brown corpus check skipped")
    print("ok")


if __name__ == "__main__":
    main()
