#!/usr/bin/python3
"""Run reports, looked at in a real headless browser (Debian's chromium).

A tiny pre-training run is interrupted (its report shows what there is), then resumed while its
report.html cannot be written (a warning, the run's exit code unchanged); electra-report then
writes it. A tiny fine-tuning run writes its report at its end. electra-report puts both runs on
one page. Each page is opened in chromium (a screenshot and --dump-dom, with a network log):
no console message, no request made by the page, the expected SVG charts with the metric and
run names, no http(s) URL in the file, and a screenshot that shows the runs' colours. Hostile
folder names and config values are escaped; a torn last line, NaN values and a one-point run
still render; garbage metrics and a missing folder fail with one line. A control page with a
console error and an external stylesheet shows that the browser checks can fail.

usage: test_report.py BIN_DIR TOY_VOCAB PRETRAIN_CONFIG FINETUNE_CONFIG_DIR [SCREENSHOT_DIR]
Exits 77 (skipped) when chromium is not installed.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if __name__ == "__main__" and not CHROMIUM:
    print("SKIP: chromium is not installed (apt-get install chromium)")
    sys.exit(77)
sys.path.insert(0, HERE)
import test_finetune_cli as finetune_test  # noqa: E402
import test_pretrain_cli as pretrain_test  # noqa: E402

failures = []


def check(condition, what, detail=""):
    """`detail` (program output) is printed only when the check fails."""
    print(("ok   " if condition else "FAIL ") + what + ("" if condition or not detail else f" ({detail})"))
    if not condition:
        failures.append(what)


def run(args, timeout=300):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -999, "", "timed out")


def error_lines(r):
    return [l for l in r.stderr.splitlines() if l.strip()]


# The report's run colours (src/report/run_report.cpp): the first two runs.
BLUE, ORANGE = (0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e)


def read_png(path):
    """(width, height, bytes per pixel, rows) of an 8-bit RGB or RGBA PNG, decoded with zlib."""
    raw = open(path, "rb").read()
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat = 8, b""
    while pos < len(raw):
        n, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        body = raw[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"{path}: not an 8-bit RGB(A) PNG")
    bpp = 3 if colour == 2 else 4
    data, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        kind = data[y * (stride + 1)]
        line = bytearray(data[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def pixel_counts(path, colours):
    """Pixels that are not near-white, and pixels within 40 of each colour."""
    w, h, bpp, rows = read_png(path)
    ink, near = 0, [0] * len(colours)
    for row in rows:
        for x in range(0, w * bpp, bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if min(r, g, b) < 230:
                ink += 1
                for k, (cr, cg, cb) in enumerate(colours):
                    if abs(r - cr) + abs(g - cg) + abs(b - cb) < 40:
                        near[k] += 1
    return w * h, ink, near


def browse(html, work, name):
    """Opens the page twice in headless chromium: a 1280x2400 screenshot, then the DOM. Returns
    (png path, DOM, console lines, URLs the page requested)."""
    url = "file://" + os.path.abspath(html)
    png, net = os.path.join(work, name + ".png"), os.path.join(work, name + ".netlog.json")
    base = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
            "--window-size=1280,2400", "--user-data-dir=" + os.path.join(work, "chromium-profile"),
            "--log-net-log=" + net]
    shot = run(base + ["--screenshot=" + png, url], timeout=180)
    dom = run(base + ["--dump-dom", url], timeout=180)
    check(shot.returncode == 0 and os.path.isfile(png), f"{name}: chromium writes a screenshot", shot.stderr[-300:])
    check(dom.returncode == 0 and "</html>" in dom.stdout, f"{name}: chromium dumps the DOM", dom.stderr[-300:])
    # Chromium logs every console message of a page as "...:INFO:CONSOLE..." (errors and warnings
    # included, with the page's URL as source): a page without script must have none.
    console = [l for l in (shot.stderr + dom.stderr).splitlines() if ":CONSOLE" in l]
    # The net log holds the browser's own requests too (updates, time); the page's have an origin.
    requested = []
    try:
        for event in json.load(open(net)).get("events", []):
            params = event.get("params", {})
            if "method" in params and "url" in params and params.get("initiator") != "not an origin":
                requested.append(params["url"])
    except (OSError, ValueError) as e:
        check(False, f"{name}: chromium's net log reads ({e})")
    return png, dom.stdout, console, requested


def control_page(work):
    """A page with a console error and an external stylesheet: the checks below must see both."""
    bad = os.path.join(work, "control.html")
    with open(bad, "w") as f:
        f.write('<!DOCTYPE html><html><head><title>control</title><link rel="stylesheet" '
                'href="https://example.invalid/x.css"></head><body><p>control</p>'
                '<script>console.error("control-error")</script></body></html>')
    _, _, console, requested = browse(bad, work, "control")
    check(any("control-error" in l for l in console), "control: the console check sees console.error", console)
    check(any("example.invalid" in u for u in requested), "control: the net log sees the page's request", requested)


def expected_charts(run_dir):
    """The chart titles' metric keys a run's report must show (src/report/run_report.cpp), from
    its metrics.jsonl."""
    records = [json.loads(l) for l in open(os.path.join(run_dir, "metrics.jsonl")) if l.strip()]
    if any(r["split"] == "dev" for r in records):
        dev = []
        for r in records:
            dev += [k for k in r if r["split"] == "dev" and k not in ("split", "step", "epoch") and k not in dev]
        return ["train loss"] + ["dev " + k for k in dev] + ["train learning_rate", "train tokens_per_second",
                                                             "train examples_per_second"]
    return ["train loss", "train mlm_loss", "train disc_loss", "eval disc_auc", "eval mlm_accuracy",
            "eval disc_accuracy", "train learning_rate", "train tokens_per_second"]


def look_at(html, work, name, charts, runs, colours):
    """Everything a reader's browser would show: the file, the DOM, the console, the pixels."""
    text = open(html, encoding="utf-8").read()
    check(re.search(r"https?://", text) is None, f"{name}: no http(s) URL in the HTML")
    check(not re.search(r"<script|\ssrc=|url\(|@import", text, re.I), f"{name}: no script, no external resource")
    png, dom, console, requested = browse(html, work, name)
    check(not console, f"{name}: no console message", console[:3])
    check(not requested, f"{name}: the page requests nothing", requested[:3])
    svgs = dom.count("<svg")
    check(svgs == len(charts), f"{name}: {len(charts)} SVG charts in the DOM (found {svgs})")
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", dom, re.S)
    for chart in charts:
        check(any(chart in c for c in captions), f"{name}: a chart of {chart}")
    legends = re.findall(r"<text[^>]*>([^<]*)</text>", dom)
    for run_name in runs:
        check(any(t == run_name or t.startswith(run_name + " (") for t in legends), f"{name}: {run_name} in the legends")
    check(all(re.search(r"<text[^>]*>step</text>", svg) for svg in re.findall(r"<svg.*?</svg>", dom, re.S)),
          f"{name}: every chart has its x axis label")
    total, ink, near = pixel_counts(png, colours)
    check(ink > total * 0.01, f"{name}: the screenshot is not blank ({ink} of {total} pixels inked)")
    for colour, count in zip(colours, near):
        check(count > 500, f"{name}: the screenshot shows curves in #{bytes(colour).hex()} ({count} pixels)")
    return png, dom


def pretraining(bin_dir, vocab, config, work):
    """Interrupted, then resumed with an unwritable report: returns the run folder."""
    tool = lambda name: os.path.join(bin_dir, name)  # noqa: E731
    data, r = pretrain_test.prepare_data(tool, vocab, work)
    check(r.returncode == 0, "prepare", r.stderr[-300:])
    run_dir = os.path.join(work, "pretrain-run")
    args = [tool("electra-pretrain"), "--config", config, "--data", data, "--output", run_dir, "--threads", "1",
            *pretrain_test.TINY_MODEL, "--set", "train.log_every=1", "--set", "train.eval_every=20",
            "--set", "train.save_every=1000", "--steps", "300"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = os.path.join(run_dir, "metrics.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        if os.path.exists(metrics) and sum(1 for _ in open(metrics)) >= 30:
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    report = os.path.join(run_dir, "report.html")
    check(p.returncode == 130 and f"report: {report}" in out.splitlines(),
          f"an interrupted run writes its report and says where (rc {p.returncode})", err[-300:])
    check(os.path.isfile(report) and "Discriminator AUC" in open(report).read(),
          "the interrupted run's report has its curves")

    # A report that cannot be written (a folder in its way) is a warning; the run still succeeds.
    if os.path.isfile(report):
        os.remove(report)
    os.makedirs(os.path.join(report, "in-the-way"))
    r = run(args + ["--resume"], timeout=600)
    warnings = [l for l in error_lines(r) if "report" in l and "warning" in l]
    check(r.returncode == 0 and len(warnings) == 1 and "report:" not in r.stdout,
          f"an unwritable report: one warning line, exit 0 (rc {r.returncode})", "\n".join(error_lines(r)[-5:]))
    shutil.rmtree(report)
    r = run([tool("electra-report"), run_dir])
    check(r.returncode == 0 and r.stdout.strip() == f"report: {report}" and os.path.isfile(report),
          "electra-report RUN_DIR writes RUN_DIR/report.html", r.stderr[-300:])
    return run_dir


def finetuning(bin_dir, config_dir, work):
    model = os.path.join(work, "model")
    finetune_test.make_model(model)
    data = finetune_test.classification_data(work)
    run_dir = os.path.join(work, "finetune-run")
    p = finetune_test.run(bin_dir, ["--config", os.path.join(config_dir, "custom-classification.json"), "--model", model,
                                    "--data", data, "--output", run_dir, "--epochs", "4", "--threads", "1",
                                    "--set", "optimizer.learning_rate=2e-3", "--set", "train.batch_size=16",
                                    "--set", "train.log_every=2", "--set", "task.id=id",
                                    "--predict", os.path.join(data, "dev.csv")])
    report = os.path.join(run_dir, "report.html")
    check(p.returncode == 0 and f"report: {report}" in p.stdout.splitlines() and os.path.isfile(report),
          "a fine-tuning run writes its report at its end")
    text = open(report).read() if os.path.isfile(report) else ""
    check(all(os.path.join(run_dir, name) in text for name in ["best", "dev_predictions.tsv", "predictions.tsv"]),
          "the report says where the kept model and the predictions are")
    return run_dir


def odd_runs(bin_dir, pre_run, fine_run, work):
    """Escaping, a torn last line with NaN values, a one-point run, and bad input."""
    report = os.path.join(bin_dir, "electra-report")
    # A folder name and a config value that are HTML.
    hostile = os.path.join(work, 'x<i>&"y')
    shutil.copytree(fine_run, hostile)
    config_path = os.path.join(hostile, "finetune_config.json")
    config = json.load(open(config_path))
    config["task"]["name"] = "</pre><script>alert(1)</script><b>"
    json.dump(config, open(config_path, "w"))
    out = os.path.join(work, "hostile.html")
    r = run([report, hostile, "-o", out])
    text = open(out, encoding="utf-8").read() if r.returncode == 0 else ""
    check(r.returncode == 0 and "x&lt;i&gt;&amp;&quot;y" in text and 'x<i>' not in text and "<script" not in text
          and "&lt;/pre&gt;&lt;script&gt;" in text, "folder names and config values are escaped", r.stderr[-300:])

    # A crash mid-write leaves a torn last line; NaN and Inf were written as null.
    torn = os.path.join(work, "torn")
    shutil.copytree(pre_run, torn, ignore=shutil.ignore_patterns("report.html"))
    last_step = max(json.loads(l)["step"] for l in open(os.path.join(torn, "metrics.jsonl")))
    with open(os.path.join(torn, "metrics.jsonl"), "a") as f:
        f.write(json.dumps({"split": "train", "step": last_step + 1, "loss": None, "disc_loss": None}) + "\n")
        f.write(json.dumps({"split": "eval", "step": last_step + 1, "disc_auc": None}) + "\n")
        f.write('{"split": "train", "step": %d, "loss": 3.' % (last_step + 2))
    r = run([report, torn])
    text = open(os.path.join(torn, "report.html"), encoding="utf-8").read() if r.returncode == 0 else ""
    check(r.returncode == 0 and "cut short" in text and "n/a" in text and not re.search(r'="[^"]*(nan|inf)', text, re.I),
          "a torn last line is skipped with a note, NaN shows as n/a", r.stderr[-300:])

    # One training record and one evaluation: dots, not empty charts.
    single = os.path.join(work, "single")
    os.makedirs(single)
    shutil.copy(os.path.join(pre_run, "config.json"), single)
    records = [json.loads(l) for l in open(os.path.join(pre_run, "metrics.jsonl"))]
    with open(os.path.join(single, "metrics.jsonl"), "w") as f:
        f.write(json.dumps(next(r for r in records if r["split"] == "train")) + "\n")
        f.write(json.dumps(next(r for r in records if r["split"] == "eval")) + "\n")
    r = run([report, single])
    html = os.path.join(single, "report.html")
    if check_ok(r.returncode == 0, "a one-point run renders", r.stderr[-300:]):
        look_at(html, work, "single", expected_charts(single), ["single"], [BLUE])
        check(open(html).read().count("<circle") >= 8, "one-point curves are drawn as dots")

    # Bad input: one line naming the file or folder, exit 1.
    garbage = os.path.join(work, "garbage")
    os.makedirs(garbage)
    shutil.copy(os.path.join(pre_run, "config.json"), garbage)
    with open(os.path.join(garbage, "metrics.jsonl"), "wb") as f:
        f.write(b'{"split": "train", "step": 1, "loss": 2.5}\n\x00\x9c garbage \xff{\n{"split": "train", "step": 2}\n')
    r = run([report, garbage])
    lines = error_lines(r)
    check(r.returncode == 1 and len(lines) == 1 and os.path.join(garbage, "metrics.jsonl") + ":2" in lines[0]
          and lines[0].startswith("electra-report: error:") and not os.path.exists(os.path.join(garbage, "report.html")),
          f"garbage metrics.jsonl: exit 1, one line naming the file and line (rc {r.returncode}; {lines})")
    missing = os.path.join(work, "no-such-run")
    r = run([report, missing])
    lines = error_lines(r)
    check(r.returncode == 1 and len(lines) == 1 and missing in lines[0], "a missing folder: exit 1, one line", lines)
    r = run([report, pre_run, fine_run])
    check(r.returncode == 2 and "-o" in r.stderr, "several runs without -o: a usage error", r.stderr[-200:])
    r = run([report, "--help"])
    check(r.returncode == 0 and "RUN_DIR" in r.stdout and "--output" in r.stdout, "--help")


def check_ok(condition, what, detail=""):
    check(condition, what, detail)
    return condition


def main():
    bin_dir, vocab, pretrain_config, finetune_config_dir = sys.argv[1:5]
    screenshots = sys.argv[5] if len(sys.argv) > 5 else None
    work = tempfile.mkdtemp(prefix="electra-report-test-")
    control_page(work)
    pre_run = pretraining(bin_dir, vocab, pretrain_config, work)
    fine_run = finetuning(bin_dir, finetune_config_dir, work)
    pre_charts, fine_charts = expected_charts(pre_run), expected_charts(fine_run)
    pre_png, _ = look_at(os.path.join(pre_run, "report.html"), work, "pretraining", pre_charts, ["pretrain-run"], [BLUE])
    fine_png, _ = look_at(os.path.join(fine_run, "report.html"), work, "fine-tuning", fine_charts, ["finetune-run"],
                          [BLUE])
    both = os.path.join(work, "both.html")
    r = run([os.path.join(bin_dir, "electra-report"), pre_run, fine_run, "-o", both])
    check(r.returncode == 0 and r.stdout.strip() == f"report: {both}", "electra-report on two runs", r.stderr[-300:])
    if os.path.isfile(both):
        both_png, _ = look_at(both, work, "both", pre_charts + fine_charts, ["pretrain-run", "finetune-run"],
                              [BLUE, ORANGE])
    odd_runs(bin_dir, pre_run, fine_run, work)
    if screenshots:
        os.makedirs(screenshots, exist_ok=True)
        for png in [pre_png, fine_png] + ([both_png] if os.path.isfile(both) else []):
            shutil.copy(png, screenshots)
    print(f"{len(failures)} failure(s)")
    if not failures:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("kept for a look:", work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
