#!/usr/bin/env python3
"""Ranks the operators of a profiled training step by self time (time not spent in operators
they called), from the Chrome trace electra-pretrain writes with --set train.profile_step=N.

Usage: profile_top_ops.py PROFILE.json [--top 15]   (prints a Markdown table)
"""
import argparse
import collections
import json


def self_times(events):
    """Per operator name: (self microseconds, calls). Nesting is per thread, by time."""
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            by_thread[e.get("tid", 0)].append(e)
    totals = collections.defaultdict(lambda: [0.0, 0])
    for spans in by_thread.values():
        spans.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, name, child time]
        def close(until):
            while stack and stack[-1][0] <= until:
                end, name, children, dur = stack.pop()
                totals[name][0] += dur - children
                totals[name][1] += 1
                if stack:
                    stack[-1][2] += dur
        for e in spans:
            start, dur = float(e["ts"]), float(e["dur"])
            close(start)
            stack.append([start + dur, e["name"], 0.0, dur])
        close(float("inf"))
    return totals


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("profile")
    p.add_argument("--top", type=int, default=15)
    a = p.parse_args()
    data = json.load(open(a.profile))
    events = data["traceEvents"] if isinstance(data, dict) else data
    totals = self_times(events)
    whole = sum(t for t, _ in totals.values())
    print(f"| operator | self ms | share | calls |\n|---|---|---|---|")
    for name, (t, calls) in sorted(totals.items(), key=lambda kv: -kv[1][0])[: a.top]:
        print(f"| {name} | {t / 1000:.1f} | {100 * t / whole:.1f}% | {calls} |")
    print(f"| (all operators) | {whole / 1000:.1f} | 100% | {sum(c for _, c in totals.values())} |")


if __name__ == "__main__":
    main()
