#!/usr/bin/env python3
"""Validation splits for the NLU benchmarks (docs/benchmarks.md, NLU rounds 4-5).

Banking77 has no valid split, so its train set is split here:
- seeded 90/10 splits: `random.Random(SEED).shuffle(lines)`, the first 1,000 lines are dev,
  the other 9,003 train (seed 77 is the round-4 split; round 5 adds seed 78);
- 5-fold CV: after the seed-77 shuffle, line i goes to fold i % 5.

Usage: scripts/nlu-dev-splits.py DATA_DIR OUT_DIR   (DATA_DIR = ../shared/data/nlu)
Writes OUT_DIR/banking77-s{77,78}-{train,dev}.tsv and OUT_DIR/banking77-cv{0..4}-{train,dev}.tsv.
"""
import random
import sys
from pathlib import Path


def write(path, lines):
    path.write_text("".join(lines), encoding="utf-8")


def main():
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    lines = (data / "banking77" / "train.tsv").read_text(encoding="utf-8").splitlines(True)
    lines = [l if l.endswith("\n") else l + "\n" for l in lines if l.strip()]
    for seed in (77, 78):
        shuffled = list(lines)
        random.Random(seed).shuffle(shuffled)
        write(out / f"banking77-s{seed}-dev.tsv", shuffled[:1000])
        write(out / f"banking77-s{seed}-train.tsv", shuffled[1000:])
    shuffled = list(lines)
    random.Random(77).shuffle(shuffled)
    for f in range(5):
        write(out / f"banking77-cv{f}-dev.tsv", [l for i, l in enumerate(shuffled) if i % 5 == f])
        write(out / f"banking77-cv{f}-train.tsv", [l for i, l in enumerate(shuffled) if i % 5 != f])


if __name__ == "__main__":
    main()
