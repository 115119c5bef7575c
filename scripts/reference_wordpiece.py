#!/usr/bin/env python3
"""Reference BERT WordPiece tokenization, written from the rules (standard library only).

The C++ tokenizer (src/tokenization/) is checked against this script's output. It
restates the rules of reference doc section 6 the way BERT's Python code applies
them: on whole strings (str.lower, unicodedata.normalize("NFD"), str.split), so
that a difference in the C++ per-character pipeline shows up as a test failure.

Usage:
  reference_wordpiece.py --vocab VOCAB --inputs INPUTS.json --output OUT.json [--cased]
  reference_wordpiece.py --self-test

INPUTS.json: {"cases": [{"name": str, "text": str} | {"name": str, "hex": str}, ...]}
("hex" gives raw bytes, for invalid UTF-8, decoded as BERT's readers do with
errors="replace"). A case may set "split_special_tokens": true.

OUT.json: {"unicode_version", "lowercase", "vocab", "cases": [{"name", "input_hex",
"split_special_tokens", "words", "tokens", "ids"}]} where words is the basic
tokenizer's output and tokens/ids the wordpieces.
"""
import argparse
import json
import os
import sys
import unicodedata

SPECIAL_TOKENS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
MAX_INPUT_CHARS_PER_WORD = 100

# CJK ideograph blocks that get spaces around them.
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(ch):
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def clean(text):
    out = []
    for ch in text:
        if ord(ch) in (0, 0xFFFD) or is_control(ch):
            continue
        out.append(" " if is_whitespace(ch) else ch)
    return "".join(out)


def space_cjk(text):
    return "".join(f" {ch} " if is_cjk(ch) else ch for ch in text)


def strip_accents(text):
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if unicodedata.category(ch) != "Mn")


def split_punctuation(word):
    pieces, current = [], []
    for ch in word:
        if is_punctuation(ch):
            if current:
                pieces.append("".join(current))
                current = []
            pieces.append(ch)
        else:
            current.append(ch)
    if current:
        pieces.append("".join(current))
    return pieces


def basic_tokenize(text, lowercase):
    text = space_cjk(clean(text))
    words = []
    for chunk in text.split():  # str.split: whitespace, and also U+2028/U+2029
        if lowercase:
            chunk = strip_accents(chunk.lower())
        words.extend(split_punctuation(chunk))
    return " ".join(words).split()


def split_specials(text, split_special_tokens):
    """Segments of text, special token strings kept whole: [(str, is_special)]."""
    if split_special_tokens:
        return [(text, False)]
    segments, start, pos = [], 0, 0
    while pos < len(text):
        match = max((s for s in SPECIAL_TOKENS if text.startswith(s, pos)), key=len, default=None)
        if match is None:
            pos += 1
            continue
        if pos > start:
            segments.append((text[start:pos], False))
        segments.append((match, True))
        pos += len(match)
        start = pos
    if start < len(text):
        segments.append((text[start:], False))
    return segments


def wordpiece(word, vocab):
    if len(word) > MAX_INPUT_CHARS_PER_WORD:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        piece = None
        while start < end:
            candidate = word[start:end] if start == 0 else "##" + word[start:end]
            if candidate in vocab:
                piece = candidate
                break
            end -= 1
        if piece is None:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def tokenize(text, vocab, lowercase, split_special_tokens=False):
    """Returns (basic words, wordpieces)."""
    words, tokens = [], []
    for segment, special in split_specials(text, split_special_tokens):
        if special:
            words.append(segment)
            tokens.append(segment)
            continue
        for word in basic_tokenize(segment, lowercase):
            words.append(word)
            tokens.extend(wordpiece(word, vocab))
    return words, tokens


def read_vocab(path):
    with open(path, encoding="utf-8") as f:
        tokens = [line.rstrip("\n").rstrip("\r") for line in f]
    while tokens and tokens[-1] == "":
        tokens.pop()
    return {token: i for i, token in enumerate(tokens)}


def run(args):
    vocab = read_vocab(args.vocab)
    with open(args.inputs, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    out_cases = []
    for case in cases:
        raw = bytes.fromhex(case["hex"]) if "hex" in case else case["text"].encode("utf-8")
        text = raw.decode("utf-8", errors="replace")
        # Code points unassigned in this Python's Unicode may be assigned in the C++
        # side's newer utf8proc, and then the two disagree: refuse them.
        if not case.get("allow_unassigned"):
            for ch in text:
                if unicodedata.category(ch) == "Cn":
                    sys.exit(f"{args.inputs}: case {case['name']!r}: U+{ord(ch):04X} is unassigned "
                             f"in Unicode {unicodedata.unidata_version}; its category may differ in "
                             "utf8proc (set allow_unassigned only for code points unassigned in both)")
        split = bool(case.get("split_special_tokens", False))
        words, tokens = tokenize(text, vocab, not args.cased, split)
        out_cases.append({
            "name": case["name"],
            "input_hex": raw.hex(),
            "split_special_tokens": split,
            "words": words,
            "tokens": tokens,
            "ids": [vocab.get(t, vocab.get("[UNK]", -1)) for t in tokens],
        })
    result = {
        "unicode_version": unicodedata.unidata_version,
        "lowercase": not args.cased,
        "vocab": os.path.basename(args.vocab),
        "cases": out_cases,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    temporary = args.output + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=True, indent=1)
        f.write("\n")
    os.replace(temporary, args.output)


def self_test():
    """The examples of BERT's own tokenization tests, plus the sigma rule."""
    vocab = {t: i for i, t in enumerate(
        ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing"])}
    checks = [
        (basic_tokenize(" \tHeLLo!how  \n Are yoU?  ", True),
         ["hello", "!", "how", "are", "you", "?"]),
        (basic_tokenize("H\u00E9llo", True), ["hello"]),
        (basic_tokenize(" \tHeLLo!how  \n Are yoU?  ", False),
         ["HeLLo", "!", "how", "Are", "yoU", "?"]),
        (basic_tokenize("ah\u535A\u63A8zz", True), ["ah", "\u535A", "\u63A8", "zz"]),
        (tokenize("", vocab, True)[1], []),
        (tokenize("unwanted running", vocab, True)[1], ["un", "##want", "##ed", "runn", "##ing"]),
        (tokenize("unwantedX running", vocab, True)[1], ["[UNK]", "runn", "##ing"]),
        (basic_tokenize("\u039F\u0394\u039F\u03A3, \u03A3\u0391", True),
         ["\u03BF\u03B4\u03BF\u03C2", ",", "\u03C3\u03B1"]),
        (tokenize("a[MASK]b", vocab, True)[0], ["a", "[MASK]", "b"]),
        (tokenize("a[MASK]b", vocab, True, True)[0], ["a", "[", "mask", "]", "b"]),
    ]
    failed = 0
    for i, (got, expected) in enumerate(checks):
        if got != expected:
            failed += 1
            print(f"self-test {i}: got {got!r}, expected {expected!r}", file=sys.stderr)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab")
    parser.add_argument("--inputs")
    parser.add_argument("--output")
    parser.add_argument("--cased", action="store_true", help="no lowercasing, no accent stripping")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not (args.vocab and args.inputs and args.output):
        parser.error("--vocab, --inputs and --output are required (or --self-test)")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
