"""Round trips with the real Hugging Face `transformers` (the pinned version in scripts/requirements.txt).

1. Random-weight ElectraForPreTraining, ElectraForMaskedLM, ElectraForSequenceClassification,
   ElectraForQuestionAnswering and ElectraForTokenClassification, written by save_pretrained, load
   into libelectra and give the same logits and hidden states (<= 1e-4).
2. Every directory our tools write (electra-pretrain's discriminator/ and generator/, electra-finetune's
   best/ for each task family with its default head) loads with from_pretrained with no missing,
   unexpected or mismatched keys, and gives the same outputs as libelectra (<= 1e-4); its README.md
   model card has the metadata block huggingface_hub reads, with the architecture's pipeline_tag.
3. AutoTokenizer on an exported directory gives the ids our tokenizer gives, on real sentences and
   pairs from ELECTRA_DATA_DIR (GLUE, SQuAD, CoNLL-2000) when it is set, and on built-in ones.

libelectra's side comes from the hf_io helper (tests/integration/hf_io.cpp).

Usage: test_transformers.py BIN_DIR CONFIG_DIR SOURCE_DIR   (run with the venv's python)
"""

import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile

import huggingface_hub
import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import (AutoModel, AutoTokenizer, ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining,
                          ElectraForQuestionAnswering, ElectraForSequenceClassification,
                          ElectraForTokenClassification)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_finetune_cli as cli  # noqa: E402  (synthetic fine-tuning data)

TOLERANCE = 1e-4
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def run(args, what):
    p = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        print(p.stdout[-2000:], p.stderr[-2000:])
    check(p.returncode == 0, what)
    return p


def batch(vocab_size, seed=0):
    """Three rows of 12 ids: padding at two lengths, two segments, [CLS]=2 and [SEP]=3 as our vocabularies have."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab_size, (3, 12), generator=g)
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 8:] = 0
    mask[2, 3:] = 0
    types = torch.zeros(3, 12, dtype=torch.long)
    types[0, 6:] = 1
    types[1, 4:8] = 1
    ids[:, 0] = 2
    ids = ids.masked_fill(mask == 0, 0)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def ours(bin_dir, model_dir, inputs, work):
    """libelectra's logits and hidden states for `inputs` (hf_io forward)."""
    src, dst = os.path.join(work, "inputs.safetensors"), os.path.join(work, "outputs.safetensors")
    save_file({k: v.contiguous() for k, v in inputs.items()}, src)
    p = subprocess.run([os.path.join(bin_dir, "hf_io"), "forward", model_dir, src, dst], capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        print(p.stderr)
        return None
    return load_file(dst)


def theirs(model, inputs):
    model.eval()
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
    return {"logits": getattr(out, "logits", None), "hidden": out.hidden_states[-1],
            "start_logits": getattr(out, "start_logits", None), "end_logits": getattr(out, "end_logits", None)}


def compare(name, mine, reference, mask):
    """Largest difference over the real tokens' positions (padding rows are undefined in both)."""
    if mine is None:
        check(False, f"{name}: libelectra computed outputs")
        return
    logits = reference["logits"]
    if logits is None:  # question answering: ours stacks start and end as [B, S, 2]
        logits = torch.stack([reference["start_logits"], reference["end_logits"]], dim=-1)
    real = mask.bool()
    per_token = lambda t: t[real] if t.dim() >= 2 and t.shape[:2] == mask.shape else t  # noqa: E731
    d_logits = (per_token(mine["logits"]) - per_token(logits)).abs().max().item()
    d_hidden = (per_token(mine["hidden"]) - per_token(reference["hidden"])).abs().max().item()
    check(tuple(mine["logits"].shape) == tuple(logits.shape) and d_logits <= TOLERANCE and d_hidden <= TOLERANCE,
          f"{name}: same logits {tuple(logits.shape)} (max diff {d_logits:.1e}) and hidden states "
          f"(max diff {d_hidden:.1e})")


def hf_to_ours(bin_dir, work):
    """Part 1: directories written by transformers' save_pretrained."""
    for embedding_size in (24, 32):  # with and without embeddings_project
        config = ElectraConfig(vocab_size=99, embedding_size=embedding_size, hidden_size=32, num_hidden_layers=2,
                               num_attention_heads=4, intermediate_size=37, max_position_embeddings=40,
                               num_labels=5)
        for cls in (ElectraForPreTraining, ElectraForMaskedLM, ElectraForSequenceClassification,
                    ElectraForQuestionAnswering, ElectraForTokenClassification):
            config.num_labels = 2 if cls is ElectraForQuestionAnswering else 5  # start and end
            torch.manual_seed(1)
            model = cls(config)
            with torch.no_grad():  # LayerNorms and biases away from 1 and 0, so that a swap would show
                for name, p in model.named_parameters():
                    if p.dim() == 1:
                        p.add_(torch.randn_like(p) * 0.1)
            where = os.path.join(work, f"hf-{cls.__name__}-{embedding_size}")
            model.save_pretrained(where)
            inputs = batch(config.vocab_size)
            compare(f"{cls.__name__} (E={embedding_size}) from save_pretrained",
                    ours(bin_dir, where, inputs, work), theirs(model, inputs), inputs["attention_mask"])


def load_exported(cls, where, what):
    model, info = cls.from_pretrained(where, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    check(not problems, f"{what}: from_pretrained reports no missing, unexpected or mismatched keys {problems or ''}")
    return model


def tokenized_batch(tokenizer, texts):
    enc = tokenizer([t for t, _ in texts], [p or "" for _, p in texts] if any(p for _, p in texts) else None,
                    padding=True, truncation=True, max_length=64, return_tensors="pt")
    return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}


def pretrain(bin_dir, config_dir, source_dir, vocab, work):
    """A few steps of the tiny config on one of the quickstart's novels; returns the run folder."""
    corpus = os.path.join(work, "corpus.txt")
    with gzip.open(os.path.join(source_dir, "corpus", "gutenberg", "chesterton-thursday.txt.gz"), "rt") as f, \
            open(corpus, "w") as out:
        out.write(f.read())
    data, run_dir = os.path.join(work, "data"), os.path.join(work, "pretrain")
    run([os.path.join(bin_dir, "electra-prepare"), "--prose-input", corpus, "--vocab", vocab, "--output", data,
         "--max-seq-len", "64", "--quiet"], "electra-prepare on a novel")
    run([os.path.join(bin_dir, "electra-pretrain"), "--config", os.path.join(config_dir, "pretrain", "tiny.json"),
         "--data", data, "--output", run_dir, "--threads", "1", "--steps", "30", "--set", "train.batch_size=8",
         "--set", "model.embedding_size=64", "--set", "model.generator_hidden_fraction=0.5"],
        "electra-pretrain exports a tiny model")
    return run_dir


def finetune(bin_dir, config_dir, model, work):
    """One short run per task family with the default heads; returns {architecture class: best/}."""
    cfg = lambda name: os.path.join(config_dir, "finetune", name)  # noqa: E731
    common = ["--model", model, "--epochs", "1", "--threads", "1", "--set", "train.batch_size=16"]
    runs = {
        ElectraForSequenceClassification: ["--config", cfg("custom-classification.json"), "--data",
                                           cli.classification_data(work), "--set", "task.id=id"],
        ElectraForTokenClassification: ["--config", cfg("custom-tagging.json"), "--data", cli.tagging_data(work)],
        ElectraForQuestionAnswering: ["--config", cfg("squad1.json"), "--data", cli.synthetic_squad(work, "squad", 4),
                                      "--set", "task.train_file=train.json", "--set", "task.dev_file=dev.json",
                                      "--set", "train.max_seq_length=64", "--set", "squad.doc_stride=32",
                                      "--set", "squad.max_query_length=16"],
    }
    best = {}
    for cls, args in runs.items():
        out = os.path.join(work, "ft-" + cls.__name__)
        run([os.path.join(bin_dir, "electra-finetune")] + args + common + ["--output", out],
            f"electra-finetune writes {cls.__name__}")
        best[cls] = os.path.join(out, "best")
    return best


# What the Hub shows for each exported architecture (no pipeline runs replaced-token detection).
PIPELINE_TAGS = {ElectraForPreTraining: None, ElectraForMaskedLM: "fill-mask",
                 ElectraForSequenceClassification: "text-classification",
                 ElectraForTokenClassification: "token-classification", ElectraForQuestionAnswering: "question-answering"}


def model_card(where):
    """The metadata block of an exported folder's README.md, as huggingface_hub reads it ({} when absent)."""
    path = os.path.join(where, "README.md")
    return huggingface_hub.ModelCard.load(path).data.to_dict() if os.path.exists(path) else {}


def ours_to_hf(bin_dir, config_dir, source_dir, vocab, work):
    """Part 2: directories written by our tools. Returns the exported discriminator."""
    run_dir = pretrain(bin_dir, config_dir, source_dir, vocab, work)
    disc, gen = os.path.join(run_dir, "discriminator"), os.path.join(run_dir, "generator")
    tokenizer = AutoTokenizer.from_pretrained(disc)
    texts = [("The quick brown fox jumps over the lazy dog.", None),
             ("It was a dark and stormy night;", "the rain fell in torrents.")]
    inputs = tokenized_batch(tokenizer, texts)
    for cls, where in [(ElectraForPreTraining, disc), (ElectraForMaskedLM, gen)] + \
            list(finetune(bin_dir, config_dir, disc, work).items()):
        what = f"{cls.__name__} written by {'electra-pretrain' if where.startswith(run_dir) else 'electra-finetune'}"
        model = load_exported(cls, where, what)
        compare(what, ours(bin_dir, where, inputs, work), theirs(model, inputs), inputs["attention_mask"])
        auto = AutoModel.from_pretrained(where)
        check(type(auto).__name__ == "ElectraModel", f"{what}: AutoModel gives the ElectraModel encoder")
        card = model_card(where)
        check(card.get("library_name") == "transformers" and card.get("license") == "apache-2.0" and
              "libelectra" in card.get("tags", []) and card.get("pipeline_tag") == PIPELINE_TAGS[cls],
              f"{what}: README.md model card metadata ({card})")
    return disc


def real_texts(data_dir, limit=150):
    """Sentences and pairs from the shared data sets: what users tokenize."""
    texts = [("Héllo, wörld! Ça va? 日本語のテキスト and naïve café — “quotes” & emoji 🙂.", None),
             ("UNAFFABLE   tabs\tand\nnewlines", "a pair's second segment, with punctuation: (a) [b] {c}!")]
    if not data_dir:
        return texts
    with open(os.path.join(data_dir, "glue", "MRPC", "dev.tsv"), encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:limit // 3]
        texts += [(r[3], r[4]) for r in rows]
    with open(os.path.join(data_dir, "glue", "SST-2", "dev.tsv"), encoding="utf-8") as f:
        texts += [(r[0], None) for r in list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:limit // 3]]
    squad = json.load(open(os.path.join(data_dir, "squad", "v1.1", "dev-v1.1.json"), encoding="utf-8"))
    for article in squad["data"][:limit // 30]:
        for para in article["paragraphs"][:3]:
            texts.append((para["qas"][0]["question"], para["context"]))
    with open(os.path.join(data_dir, "conll2000", "test.txt"), encoding="utf-8") as f:
        sentence = []
        for line in f:
            if line.strip():
                sentence.append(line.split()[0])
            elif sentence:
                texts.append((" ".join(sentence), None))
                sentence = []
                if len(texts) > limit + 20:
                    break
    return texts


def tokenizer_ids(bin_dir, model_dir, data_dir, work):
    """Part 3: AutoTokenizer on our exported directory against our tokenizer."""
    texts = real_texts(data_dir)
    src, dst = os.path.join(work, "texts.json"), os.path.join(work, "ids.json")
    json.dump(texts, open(src, "w"))
    p = subprocess.run([os.path.join(bin_dir, "hf_io"), "tokenize", model_dir, src, dst], capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0, f"hf_io tokenizes: {p.stderr.strip()}")
    if p.returncode != 0:
        return
    mine = json.load(open(dst))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    check(tokenizer.is_fast, f"AutoTokenizer gives a fast tokenizer ({type(tokenizer).__name__})")
    differ = []
    for (text, pair), m in zip(texts, mine):
        enc = tokenizer(text, pair, truncation=True, max_length=512)
        if enc["input_ids"] != m["input_ids"] or enc["token_type_ids"] != m["token_type_ids"]:
            differ.append(text[:60])
    pairs = sum(1 for _, p in texts if p)
    check(not differ, f"AutoTokenizer ids equal ours on {len(texts)} texts ({pairs} pairs); differ: {differ[:3]}")


def main():
    bin_dir, config_dir, source_dir = sys.argv[1:4]
    data_dir = os.environ.get("ELECTRA_DATA_DIR") or None
    if data_dir and not os.path.isdir(os.path.join(data_dir, "glue")):
        data_dir = None
    torch.set_num_threads(1)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, data {data_dir or '<none>'}")
    # The real BERT uncased vocabulary when the shared data has it, else the test's toy one.
    vocab = os.path.join(data_dir, "vocab", "bert-base-uncased-vocab.txt") if data_dir else \
        os.path.join(source_dir, "tests", "fixtures", "wordpiece_toy_vocab.txt")
    with tempfile.TemporaryDirectory(prefix="electra-transformers-test-") as work:
        hf_to_ours(bin_dir, work)
        disc = ours_to_hf(bin_dir, config_dir, source_dir, vocab, work)
        tokenizer_ids(bin_dir, disc, data_dir, work)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
