"""Benchmark refusing hostile YAML: RangeX's bounded reader against an unbounded PyYAML read.

    python bench/yaml_bounds.py [--levels 1000,2000,4000] [--probe]

For each nesting depth, a balanced file of ``[`` ... ``]`` (the shape of the probe's 200 KB
``challenge.yml``) is read by ``YamlDoc`` (the reader every import uses) and by the reader as it
was before the bounds (PyYAML's pure-Python event pass looking for aliases, then ``safe_load``);
both are timed in CPU seconds of this thread. PyYAML's scanner is quadratic in the depth and its
composer recurses once per level, so the baseline grows fast and, past the interpreter's
recursion limit, crashes. ``--probe`` also times RangeX on the
probe's files (100,000 levels of ``[``, 50,000 of ``{a: ``); the baseline is left out there
because it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")

import django

django.setup()

import yaml  # noqa: E402

from apps.scenarios.bundle_io import YamlDoc  # noqa: E402
from rangex.core.errors import ValidationFailed  # noqa: E402


def timed(read, text: str) -> tuple[float, str]:
    started = time.thread_time()
    try:
        read(text)
        outcome = "read"
    except ValidationFailed:
        outcome = "refused (400)"
    except RecursionError:
        outcome = "RecursionError (500)"
    except yaml.YAMLError:
        outcome = "YAML error (400)"
    return time.thread_time() - started, outcome


def rangex(text: str) -> None:
    YamlDoc(text.encode(), filename="challenge.yml")


def unbounded(text: str) -> None:
    for _ in yaml.parse(text, Loader=yaml.SafeLoader):
        pass
    yaml.safe_load(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1000,2000,4000")
    parser.add_argument("--probe", action="store_true")
    args = parser.parse_args()
    print(f"{'file':<28} {'RangeX CPU':>12} {'before CPU':>12} {'ratio':>9}  outcome (RangeX / before)")
    for levels in (int(n) for n in args.levels.split(",")):
        text = "[" * levels + "]" * levels
        ours, our_outcome = timed(rangex, text)
        theirs, their_outcome = timed(unbounded, text)
        ratio = theirs / ours if ours else float("inf")
        label = f"{levels:,} x [ ... ]"
        print(f"{label:<28} {ours * 1000:>9.2f} ms {theirs:>10.2f} s {ratio:>8,.0f}x  {our_outcome} / {their_outcome}")
    if args.probe:
        for label, text in (
            ("100,000 x [ ... ] (195 KB)", "[" * 100_000 + "]" * 100_000),
            ("50,000 x {a: ... } (244 KB)", "{a: " * 50_000 + "1" + "}" * 50_000),
        ):
            ours, our_outcome = timed(rangex, text)
            print(f"{label:<28} {ours * 1000:>9.2f} ms {'-':>12} {'-':>9}  {our_outcome}")


if __name__ == "__main__":
    main()
