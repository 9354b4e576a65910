#!/usr/bin/env python3
"""Check that the held-out NLU test sets in tests/data/ are really held out (issue 30).

Usage: python3 scripts/check-heldout.py [REPO_ROOT]   (default: the parent of scripts/)

Reports
- every line of tests/data/nlu_intents_test.tsv and every text (first column) of
  tests/data/nlu_entities_test.tsv whose normalised text equals a normalised training sentence
  of intents/{zh,en}/*.yml;
- every entity-test text whose normalised text equals a normalised string literal in
  src/nlu/**/*.rs (marked "test" when the literal is inside a #[cfg(test)] item or a #[test]
  function, "code" otherwise, e.g. a keyword table);
- as warnings only (no effect on the exit code): duplicates inside one test file.

Normalisation: NFKC (full-width -> half-width), lower case, then every character whose Unicode
category starts with P (punctuation) or S (symbols, which includes emoji) and all whitespace
removed. Training sentences are the `    - ...` lines of the `examples: |` blocks with entity
annotations stripped ([text](entity) and [text]{"entity": ...} -> text).

Exit code 1 when anything overlaps, 0 otherwise. Standard library only.
"""
import glob
import os
import re
import sys
import unicodedata

ANN_MD = re.compile(r"\[([^\[\]]+)\]\(([^()]+)\)")
ANN_JSON = re.compile(r"\[([^\[\]]+)\]\{[^{}]*\}")


def norm(s):
    t = unicodedata.normalize("NFKC", s).lower()
    return "".join(
        c for c in t
        if not c.isspace() and unicodedata.category(c)[0] not in "PS"
    )


def strip_annotations(s):
    return ANN_JSON.sub(lambda m: m.group(1), ANN_MD.sub(lambda m: m.group(1), s))


def training_sentences(root):
    """(text, "intents/<lang>/<file>:<line>") for every example."""
    out = []
    for lang in ("zh", "en"):
        for path in sorted(glob.glob(os.path.join(root, "intents", lang, "*.yml"))):
            rel = os.path.relpath(path, root)
            in_block = False
            block_indent = 0
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    line = line.rstrip("\n").rstrip("\r")
                    if re.match(r"^\s*examples:\s*\|[-+]?\s*$", line):
                        in_block = True
                        block_indent = len(line) - len(line.lstrip(" "))
                        continue
                    if not in_block:
                        continue
                    if not line.strip():
                        continue
                    indent = len(line) - len(line.lstrip(" "))
                    if indent <= block_indent:
                        in_block = False
                        continue
                    m = re.match(r"^\s*- (.*)$", line)
                    if m:
                        out.append((strip_annotations(m.group(1)).strip(), f"{rel}:{n}"))
    return out


def rust_literals(src):
    """String literals of a Rust source: (value, offset), and the source with comments and
    literals blanked out (same length) for finding attributes and braces."""
    lits = []
    masked = list(src)
    i, n = 0, len(src)

    def blank(a, b):
        for k in range(a, b):
            if masked[k] != "\n":
                masked[k] = " "

    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
            continue
        if src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
            continue
        prev_ident = i > 0 and (src[i - 1].isalnum() or src[i - 1] == "_")
        m = None if prev_ident else re.compile(r'(b?r)(#*)"').match(src, i)
        if m:
            hashes = m.group(2)
            start = m.end()
            end = src.find('"' + hashes, start)
            end = n if end < 0 else end
            lits.append((src[start:end], i))
            j = min(n, end + 1 + len(hashes))
            blank(i, j)
            i = j
            continue
        if c == '"' or (c == "b" and not prev_ident and src.startswith('b"', i)):
            q = i if c == '"' else i + 1
            j = q + 1
            buf = []
            while j < n and src[j] != '"':
                if src[j] == "\\" and j + 1 < n:
                    e = src[j + 1]
                    if e == "\n":  # line continuation: skip the newline and leading spaces
                        j += 2
                        while j < n and src[j] in " \t\n\r":
                            j += 1
                        continue
                    if e == "u" and src.startswith("{", j + 2):
                        k = src.find("}", j)
                        try:
                            buf.append(chr(int(src[j + 3:k], 16)))
                        except ValueError:
                            pass
                        j = k + 1
                        continue
                    if e == "x":
                        try:
                            buf.append(chr(int(src[j + 2:j + 4], 16)))
                        except ValueError:
                            pass
                        j += 4
                        continue
                    buf.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(e, e))
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            lits.append(("".join(buf), i))
            blank(i, min(n, j + 1))
            i = j + 1
            continue
        if c == "'":
            # char literal ('x', '\n', '\u{..}') or a lifetime ('a)
            if src.startswith("\\", i + 1):
                j = src.find("'", i + 3)
                if j > 0:
                    blank(i, j + 1)
                    i = j + 1
                    continue
            elif i + 2 < n and src[i + 2] == "'":
                blank(i, i + 3)
                i += 3
                continue
        i += 1
    return lits, "".join(masked)


def test_regions(masked):
    """Char ranges of items under #[cfg(test)] (or cfg(... test ...)) and #[test] functions."""
    regions = []
    for m in re.finditer(r"#\[\s*(?:cfg\s*\([^\]]*\btest\b[^\]]*\)|test)\s*\]", masked):
        j = masked.find("{", m.end())
        semi = masked.find(";", m.end())
        if j < 0 or (0 <= semi < j):
            continue
        depth, k = 0, j
        while k < len(masked):
            if masked[k] == "{":
                depth += 1
            elif masked[k] == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        regions.append((m.start(), k + 1))
    return regions


def parser_literals(root):
    """normalised literal -> list of "path:line (test|code)"."""
    out = {}
    files = sorted(glob.glob(os.path.join(root, "src", "nlu", "**", "*.rs"), recursive=True))
    for path in files:
        rel = os.path.relpath(path, root)
        src = open(path, encoding="utf-8").read()
        lits, masked = rust_literals(src)
        regions = test_regions(masked)
        for value, off in lits:
            key = norm(value)
            if not key:
                continue
            where = "test" if any(a <= off < b for a, b in regions) else "code"
            line = src.count("\n", 0, off) + 1
            out.setdefault(key, []).append(f"{rel}:{line} ({where})")
    return out


def tsv_rows(path):
    """(line number, columns) of the data lines."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip() or line.startswith("#"):
                continue
            rows.append((n, line.split("\t")))
    return rows


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    train = {}
    for text, where in training_sentences(root):
        train.setdefault(norm(text), []).append(f"{where} {text!r}")
    lits = parser_literals(root)
    problems, warnings = [], []

    def dupes(name, texts):
        seen = {}
        for n, t in texts:
            k = norm(t)
            if k in seen:
                warnings.append(f"{name}:{n}: duplicate of line {seen[k]}: {t!r}")
            else:
                seen[k] = n

    ip = os.path.join(root, "tests", "data", "nlu_intents_test.tsv")
    rows = tsv_rows(ip)
    for n, cols in rows:
        text = "\t".join(cols[:-1]) if len(cols) > 1 else cols[0]
        hit = train.get(norm(text))
        if hit:
            problems.append(f"nlu_intents_test.tsv:{n}: {text!r} is in training: {hit[0]}")
    dupes("nlu_intents_test.tsv", [(n, "\t".join(c[:-1]) or c[0]) for n, c in rows])

    ep = os.path.join(root, "tests", "data", "nlu_entities_test.tsv")
    rows = tsv_rows(ep)
    for n, cols in rows:
        text = cols[0]
        k = norm(text)
        hit = train.get(k)
        if hit:
            problems.append(f"nlu_entities_test.tsv:{n}: {text!r} is in training: {hit[0]}")
        lit = lits.get(k)
        if lit:
            problems.append(
                f"nlu_entities_test.tsv:{n}: {text!r} is a parser string literal: {', '.join(lit)}")
    dupes("nlu_entities_test.tsv", [(n, c[0]) for n, c in rows])

    for w in warnings:
        print("warning: " + w)
    for p in problems:
        print(p)
    print(f"{len(train)} distinct training sentences, {len(lits)} distinct parser literals; "
          f"{len(problems)} overlap(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
