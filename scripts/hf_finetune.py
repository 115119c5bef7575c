#!/usr/bin/env python3
"""Fine-tunes a model folder with the real `transformers`, the way electra-finetune does, for the
side-by-side comparison (scripts/compare_finetune.sh).

It reads the same configs/finetune/<task>.json with the same --set overrides and follows the
recipe electra-finetune implements: AdamW (LayerNorm and biases undecayed) with ELECTRA's
layer-wise learning-rate decay (lr * decay^(L+2-depth): embeddings depth 0, layer i depth i+1,
the task head L+2), linear warmup then linear decay to 0 over ceil(epochs * steps per epoch),
gradient clipping, batches padded to their longest row, a dev evaluation after every epoch and the
best one reported. Tokenization is transformers' own fast tokenizer built from the folder's
vocab.txt. What differs by construction: the random streams (head initialisation, dropout,
shuffling) are torch's, not libelectra's, so equal seeds give different runs on the two sides;
compare means over seeds.

Tasks: GLUE (cola sst2 mrpc stsb rte), tagging (CoNLL-2000 chunking) and SQuAD 1.1 split by article
(task.train_articles), decoded the way BERT's official code decodes (n-best, max-context windows). Prints one JSON line with the best
dev scores and the training throughput (real tokens per second inside training steps).

Usage: hf_finetune.py --config configs/finetune/mrpc.json --model DIR --data DIR
                      [--set section.key=value ...] [--threads N]
"""
import argparse
import json
import math
import os
import random
import resource
import statistics
import sys
import time

import numpy as np
import torch
from transformers import (AutoConfig, AutoModelForQuestionAnswering, AutoModelForSequenceClassification,
                          AutoModelForTokenClassification, AutoTokenizer)

GLUE = {  # name: (labels or None for regression, metrics, main metric first)
    "cola": (["0", "1"], ["mcc"]),
    "sst2": (["0", "1"], ["accuracy"]),
    "mrpc": (["0", "1"], ["accuracy", "f1"]),
    "stsb": (None, ["spearman", "pearson"]),
    "rte": (["entailment", "not_entailment"], ["accuracy"]),
}


def load_config(path, overrides):
    with open(path) as f:
        config = json.load(f)
    for item in overrides:
        key, value = item.split("=", 1)
        section, name = key.split(".", 1)
        try:
            config.setdefault(section, {})[name] = json.loads(value)
        except json.JSONDecodeError:
            config.setdefault(section, {})[name] = value
    return config


# ---------------------------------------------------------------- data

def tsv(path):
    with open(path, encoding="utf-8-sig") as f:
        return [line.rstrip("\n").split("\t") for line in f]


def glue_examples(name, path):
    """(text_a, text_b or None, label) like libelectra's GLUE reader."""
    rows = tsv(path)
    if name == "cola":
        return [(r[3], None, r[1]) for r in rows]
    if name == "sst2":
        return [(r[0], None, r[1]) for r in rows[1:]]
    if name == "mrpc":
        return [(r[3], r[4], r[0]) for r in rows[1:]]
    if name == "stsb":
        return [(r[7], r[8], float(r[9])) for r in rows[1:]]
    if name == "rte":
        return [(r[1], r[2], r[3]) for r in rows[1:]]
    raise SystemExit(f"hf_finetune: unknown GLUE task {name}")


def conll_sentences(path, word_column=0, tag_column=-1):
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            words.append(parts[word_column])
            tags.append(parts[tag_column])
    if words:
        sentences.append((words, tags))
    return sentences


def encode_glue(tokenizer, examples, labels, max_length, both_orders):
    features = []
    for a, b, label in examples:
        target = float(label) if labels is None else labels.index(label)
        pairs = [(a, b)] + ([(b, a)] if both_orders and b is not None else [])
        for x, y in pairs:
            enc = tokenizer(x, y, truncation="longest_first" if y is not None else True, max_length=max_length)
            features.append({"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"], "label": target})
    return features


def encode_chunking(tokenizer, sentences, tags, max_length):
    """The first word piece of each word carries its tag; the others and [CLS]/[SEP] are -100."""
    features = []
    for words, word_tags in sentences:
        enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
        labels, firsts, previous = [], [], None
        for i, word in enumerate(enc.word_ids()):
            first = word is not None and word != previous
            if first:
                firsts.append(i)
            # A tag the training subset never showed cannot be learnt: left out of the loss, still scored.
            labels.append(tags.index(word_tags[word]) if first and word_tags[word] in tags else -100)
            previous = word
        features.append({"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"], "labels": labels,
                         "firsts": firsts})
    return features


def collate(features, rows, pad_id, regression, tagging):
    longest = max(len(features[r]["input_ids"]) for r in rows)
    ids = torch.full((len(rows), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    types = torch.zeros((len(rows), longest), dtype=torch.long)
    if tagging:
        labels = torch.full((len(rows), longest), -100, dtype=torch.long)
    elif "example" in features[rows[0]]:  # question answering: start and end
        labels = torch.zeros((len(rows), 2), dtype=torch.long)
    else:
        labels = torch.zeros(len(rows), dtype=torch.float if regression else torch.long)
    for b, r in enumerate(rows):
        f = features[r]
        n = len(f["input_ids"])
        ids[b, :n] = torch.tensor(f["input_ids"])
        mask[b, :n] = 1
        types[b, :n] = torch.tensor(f["token_type_ids"])
        if tagging:
            labels[b, :n] = torch.tensor(f["labels"])
        else:
            labels[b] = torch.tensor(f["label"]) if isinstance(f["label"], tuple) else f["label"]
    return ids, mask, types, labels


def squad_examples(path, train_articles, want_train):
    """(id, question, context, answers [(text, char start)]) of the first `train_articles` articles (training)
    or of the others, like libelectra's split of one file by article."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)["data"]
    titles, out = [], []
    for article in data:
        if article["title"] not in titles:
            titles.append(article["title"])
        in_train = titles.index(article["title"]) < train_articles
        if in_train != want_train:
            continue
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                out.append((qa["id"], qa["question"], paragraph["context"],
                            [(a["text"], a["answer_start"]) for a in qa["answers"]]))
    return out


def encode_squad(tokenizer, examples, max_length, doc_stride, max_query, training):
    """BERT's windows: [CLS] question [SEP] context piece [SEP], pieces doc_stride tokens apart; a
    training window without the whole answer points at [CLS]."""
    features = []
    for index, (qid, question, context, answers) in enumerate(examples):
        q = tokenizer(question, add_special_tokens=False)["input_ids"][:max_query]
        enc = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)
        ctx, offsets = enc["input_ids"], enc["offset_mapping"]
        room = max_length - len(q) - 3
        starts, begin = [], 0
        while True:
            starts.append(begin)
            if begin + room >= len(ctx):
                break
            begin += min(room, doc_stride)
        windows = [(b, min(room, len(ctx) - b)) for b in starts]
        answer = None
        if training and answers:
            text, char_start = answers[0]
            char_end = char_start + len(text)
            inside = [i for i, (a, b) in enumerate(offsets) if b > char_start and a < char_end]
            if inside:
                answer = (inside[0], inside[-1])
        for w, (b, n) in enumerate(windows):
            ids = [tokenizer.cls_token_id] + q + [tokenizer.sep_token_id] + ctx[b:b + n] + [tokenizer.sep_token_id]
            types = [0] * (len(q) + 2) + [1] * (n + 1)
            first = len(q) + 2
            max_context = []
            for t in range(b, b + n):  # BERT's _check_is_max_context
                best = max(range(len(windows)), key=lambda j: -1 if not (windows[j][0] <= t < windows[j][0] + windows[j][1])
                           else min(t - windows[j][0], windows[j][0] + windows[j][1] - 1 - t) + 0.01 * windows[j][1])
                max_context.append(best == w)
            label = (0, 0)
            if answer and b <= answer[0] and answer[1] < b + n:
                label = (answer[0] - b + first, answer[1] - b + first)
            features.append({"input_ids": ids, "token_type_ids": types, "label": label, "example": index,
                             "first": first, "offsets": offsets[b:b + n], "max_context": max_context})
    return features


def squad_scores(examples, features, outputs, n_best, max_answer):
    import collections
    import re
    import string

    def normalize(text):
        text = "".join(c for c in text.lower() if c not in set(string.punctuation))
        return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())

    def f1(prediction, gold):
        p, g = normalize(prediction).split(), normalize(gold).split()
        common = sum((collections.Counter(p) & collections.Counter(g)).values())
        if common == 0:
            return 0.0
        precision, recall = common / len(p), common / len(g)
        return 2 * precision * recall / (precision + recall)

    best = {}
    for f, logits in zip(features, outputs):
        start, end = logits[:, 0], logits[:, 1]
        n = len(f["offsets"])
        top_s = sorted(range(n), key=lambda i: -float(start[f["first"] + i]))[:n_best]
        top_e = sorted(range(n), key=lambda i: -float(end[f["first"] + i]))[:n_best]
        for i in top_s:
            if not f["max_context"][i]:
                continue
            for j in top_e:
                if j < i or j - i + 1 > max_answer:
                    continue
                score = float(start[f["first"] + i] + end[f["first"] + j])
                if f["example"] not in best or score > best[f["example"]][0]:
                    context = examples[f["example"]][2]
                    best[f["example"]] = (score, context[f["offsets"][i][0]:f["offsets"][j][1]])
    em = f1_sum = 0.0
    for index, (_, _, _, answers) in enumerate(examples):
        prediction = best.get(index, (0, ""))[1]
        golds = [a for a, _ in answers]
        em += max(float(normalize(prediction) == normalize(g)) for g in golds)
        f1_sum += max(f1(prediction, g) for g in golds)
    return {"exact_match": 100 * em / len(examples), "f1": 100 * f1_sum / len(examples)}


# ---------------------------------------------------------------- metrics

def glue_scores(name, predictions, gold):
    p, g = np.asarray(predictions), np.asarray(gold)
    if name == "stsb":
        rank = lambda x: np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float)
        return {"pearson": 100 * float(np.corrcoef(p, g)[0, 1]),
                "spearman": 100 * float(np.corrcoef(rank(p), rank(g))[0, 1])}
    scores = {"accuracy": 100 * float((p == g).mean())}
    tp, fp, fn = float(((p == 1) & (g == 1)).sum()), float(((p == 1) & (g == 0)).sum()), float(((p == 0) & (g == 1)).sum())
    tn = float(((p == 0) & (g == 0)).sum())
    scores["f1"] = 100 * 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    scores["mcc"] = 100 * (tp * tn - fp * fn) / denominator if denominator else 0.0
    return scores


def chunks(tags):
    """conlleval's chunks: (type, start, end) from B-/I-/O tags; an I- after another type starts one."""
    found, start, kind = set(), None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, t = tag.partition("-")
        if start is not None and (prefix in ("B", "O") or t != kind):
            found.add((kind, start, i))
            start = None
        if prefix == "B" or (prefix == "I" and start is None):
            start, kind = i, t
    return found


def chunk_f1(predicted, gold):
    tp = n_pred = n_gold = 0
    for p, g in zip(predicted, gold):
        cp, cg = chunks(p), chunks(g)
        tp += len(cp & cg)
        n_pred += len(cp)
        n_gold += len(cg)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    return {"f1": 100 * 2 * precision * recall / (precision + recall) if tp else 0.0}


# ---------------------------------------------------------------- optimizer

def depth(name, layers):
    if "embeddings" in name and "encoder" not in name:
        return 0
    marker = "encoder.layer."
    if marker in name:
        return int(name.split(marker, 1)[1].split(".", 1)[0]) + 1
    return layers + 2


def param_groups(model, lr, decay, weight_decay, layers):
    groups = {}
    for name, p in model.named_parameters():
        decayed = "LayerNorm" not in name and not name.endswith("bias")
        key = (depth(name, layers), decayed)
        groups.setdefault(key, {"params": [], "multiplier": decay ** (layers + 2 - key[0]),
                                "weight_decay": weight_decay if decayed else 0.0})["params"].append(p)
    return list(groups.values())


def median_window_rate(timings, warmup, window):
    """Tokens/s: the median over whole windows of `window` steps after the first `warmup` steps."""
    steady = timings[warmup:]
    rates = [sum(t for _, t in steady[i:i + window]) / sum(s for s, _ in steady[i:i + window])
             for i in range(0, len(steady) - window + 1, window)]
    if not rates:
        raise SystemExit(f"hf_finetune: {len(timings)} steps leave no timed window after {warmup} warm-up steps")
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--compile", action="store_true", help="train the model under torch.compile (evaluation stays eager)")
    ap.add_argument("--timing-warmup", type=int, default=4,
                    help="steps left out of steady_tokens_per_second (torch.compile compiles in them)")
    ap.add_argument("--timing-window", type=int, default=4,
                    help="steady_tokens_per_second: the median of windows of this many steps after the warm-up")
    args = ap.parse_args()
    config = load_config(args.config, args.overrides)
    task, opt, train = config["task"], config.get("optimizer", {}), config.get("train", {})
    seed = int(train.get("seed", 42))
    epochs, batch_size = float(train.get("epochs", 3)), int(train.get("batch_size", 32))
    eval_batch = int(train.get("eval_batch_size", 64))
    max_length = int(train.get("max_seq_length", 128))
    bf16 = train.get("precision", "fp32") == "bf16"
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    tagging = task["type"] == "tagging"
    qa = task["type"] == "squad"
    squad = config.get("squad", {})
    if qa:
        path = os.path.join(args.data, task.get("dev_file", "dev-v1.1.json"))
        articles = int(task.get("train_articles", 0))
        train_ex = squad_examples(path, articles, True)
        dev_ex = squad_examples(path, articles, False)
        if train.get("max_train_examples"):
            train_ex = train_ex[: int(train["max_train_examples"])]
        if train.get("max_eval_examples"):
            dev_ex = dev_ex[: int(train["max_eval_examples"])]
        window = (max_length, int(squad.get("doc_stride", 128)), int(squad.get("max_query_length", 64)))
        train_f = encode_squad(tokenizer, train_ex, *window, training=True)
        dev_f = encode_squad(tokenizer, dev_ex, *window, training=False)
        labels, regression = None, False
        model_class = AutoModelForQuestionAnswering
    elif tagging:
        columns = int(task.get("word_column", 0)), int(task.get("tag_column", -1))
        train_sents = conll_sentences(os.path.join(args.data, task.get("train_file", "train.txt")), *columns)
        dev_sents = conll_sentences(os.path.join(args.data, task.get("dev_file", "test.txt")), *columns)
        if train.get("max_train_examples"):
            train_sents = train_sents[: int(train["max_train_examples"])]
        tags = sorted({t for _, ts in train_sents for t in ts})
        train_f = encode_chunking(tokenizer, train_sents, tags, max_length)
        dev_f = encode_chunking(tokenizer, dev_sents, tags, max_length)
        labels, regression = tags, False
        model_class = AutoModelForTokenClassification
    else:
        name = task["name"].lower().replace("-", "")
        labels, _ = GLUE[name]
        regression = labels is None
        train_ex = glue_examples(name, os.path.join(args.data, "train.tsv"))
        if train.get("max_train_examples"):
            train_ex = train_ex[: int(train["max_train_examples"])]
        dev_ex = glue_examples(name, os.path.join(args.data, "dev.tsv"))
        train_f = encode_glue(tokenizer, train_ex, labels, max_length, bool(task.get("both_orders", False)))
        dev_f = encode_glue(tokenizer, dev_ex, labels, max_length, False)
        model_class = AutoModelForSequenceClassification

    num_labels = 2 if qa else 1 if regression else len(labels)
    hf_config = AutoConfig.from_pretrained(args.model, num_labels=num_labels,
                                           problem_type="regression" if regression else None)
    if train.get("random_init"):
        model = model_class.from_config(hf_config)
    else:
        model = model_class.from_pretrained(args.model, config=hf_config)
    layers = hf_config.num_hidden_layers
    lr = float(opt.get("learning_rate", 1e-4))
    groups = param_groups(model, lr, float(opt.get("layer_decay", 0.8)), float(opt.get("weight_decay", 0.01)), layers)
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=(float(opt.get("beta1", 0.9)), float(opt.get("beta2", 0.999))),
                                  eps=float(opt.get("eps", 1e-6)))
    forward = torch.compile(model) if args.compile else model  # the same weights: evaluate() runs them eagerly
    steps_per_epoch = math.ceil(len(train_f) / batch_size)
    total = math.ceil(epochs * steps_per_epoch)
    warmup = int(float(opt.get("warmup_proportion", 0.1)) * total)
    rate = lambda step: lr * step / warmup if step < warmup else (0.0 if step >= total else lr * (1 - step / total))
    clip = float(opt.get("max_grad_norm", 1.0))
    pad_id = tokenizer.pad_token_id
    generator = torch.Generator().manual_seed(seed)

    def evaluate():
        model.eval()
        outputs = []
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for begin in range(0, len(dev_f), eval_batch):
                rows = list(range(begin, min(begin + eval_batch, len(dev_f))))
                ids, mask, types, _ = collate(dev_f, rows, pad_id, regression, tagging)
                out = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
                logits = torch.stack([out.start_logits, out.end_logits], -1).float() if qa else out.logits.float()
                outputs.extend(logits[i] for i in range(len(rows)))
        model.train()
        if qa:
            return squad_scores(dev_ex, dev_f, outputs, int(squad.get("n_best", 20)), int(squad.get("max_answer_length", 30)))
        if tagging:
            predicted, gold = [], []
            for f, logits, (words, word_tags) in zip(dev_f, outputs, dev_sents):
                guess = [labels[int(logits[i].argmax())] for i in f["firsts"]]
                predicted.append(guess + ["O"] * (len(words) - len(guess)))  # words cut by max_length
                gold.append(word_tags)
            return chunk_f1(predicted, gold)
        if regression:
            return glue_scores(name, [float(o[0]) for o in outputs], [f["label"] for f in dev_f])
        return glue_scores(name, [int(o.argmax()) for o in outputs], [f["label"] for f in dev_f])

    main_metric = "f1" if tagging or qa else GLUE[name][1][0]
    best, best_epoch = None, 0.0
    step, train_seconds, train_tokens = 0, 0.0, 0
    timings = []  # (seconds, tokens) of every training step
    model.train()
    epoch = 0
    while step < total:
        order = torch.randperm(len(train_f), generator=generator).tolist()
        for begin in range(0, len(order), batch_size):
            if step >= total:
                break
            start = time.perf_counter()
            rows = order[begin:begin + batch_size]
            ids, mask, types, target = collate(train_f, rows, pad_id, regression, tagging)
            for group in optimizer.param_groups:
                group["lr"] = rate(step) * group["multiplier"]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = forward(input_ids=ids, attention_mask=mask, token_type_ids=types)
            if qa:  # padding is never an answer, as in libelectra
                pad = mask.eq(0)
                start_logits = out.start_logits.float().masked_fill(pad, -1e4)
                end_logits = out.end_logits.float().masked_fill(pad, -1e4)
                loss = (torch.nn.functional.cross_entropy(start_logits, target[:, 0]) +
                        torch.nn.functional.cross_entropy(end_logits, target[:, 1])) / 2
            logits = None if qa else out.logits.float()
            if qa:
                pass
            elif tagging:
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1),
                                                         ignore_index=-100)
            elif regression:
                loss = torch.nn.functional.mse_loss(logits.squeeze(-1), target)
            else:
                loss = torch.nn.functional.cross_entropy(logits, target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            timings.append((time.perf_counter() - start, int(mask.sum())))
            train_seconds += timings[-1][0]
            train_tokens += timings[-1][1]
        epoch += 1
        scores = evaluate()
        print(f"epoch {epoch} dev {json.dumps(scores)}", file=sys.stderr, flush=True)
        if best is None or scores[main_metric] > best[main_metric]:
            best, best_epoch = scores, min(epoch, epochs)
    print(json.dumps({"scores": best, "best_epoch": best_epoch, "steps": step, "train_tokens": train_tokens,
                      "train_seconds": train_seconds, "tokens_per_second": train_tokens / train_seconds,
                      "steady_tokens_per_second": median_window_rate(timings, args.timing_warmup, args.timing_window),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
