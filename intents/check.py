#!/usr/bin/env python3
"""Validate freshbot NLU training data and print counts per intent and language.

Usage: python3 intents/check.py [intents_dir]
Checks: every *.yml parses; nlu files are Rasa NLU YAML 3.1; intent labels are known;
entity annotations are well formed and use known entity names; no duplicate example
(after stripping annotations, case- and space-insensitive) anywhere; en files hold no
Chinese characters; faq.yml has zh and en answers for every FAQ key.
Exit code 1 on any error.
"""
import glob, os, re, sys, collections, unicodedata
import yaml

INTENTS = """greet goodbye thanks affirm deny order modify_order track reschedule change_address
cancel substitute check_stock recommend complaint human faq_refund faq_delivery_area
faq_delivery_fee faq_payment faq_hours membership out_of_scope""".split()
ENTITIES = {"product", "quantity", "time", "order_id", "address", "phone", "reason"}
FAQ_KEYS = ["faq_refund", "faq_delivery_area", "faq_delivery_fee", "faq_payment", "faq_hours", "membership"]
MIN = {"zh": 60, "en": 30}
ANN = re.compile(r"\[([^\[\]]+)\]\(([^()]+)\)")
CJK = re.compile(r"[\u3400-\u9fff]")

def strip(s):
    return ANN.sub(lambda m: m.group(1), s)

def norm(s):
    t = strip(s).lower()
    # ignore spaces and punctuation (emoji stay significant)
    k = "".join(c for c in t if not c.isspace() and not unicodedata.category(c).startswith("P"))
    return k or t.strip()

def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    errors = []
    counts = collections.defaultdict(lambda: collections.Counter())
    seen = {}
    for path in sorted(glob.glob(os.path.join(root, "**", "*.yml"), recursive=True)):
        rel = os.path.relpath(path, root)
        try:
            doc = yaml.safe_load(open(path, encoding="utf-8"))
        except Exception as e:
            errors.append(f"{rel}: YAML error: {e}"); continue
        if rel == "faq.yml":
            faq = (doc or {}).get("faq") or {}
            for k in FAQ_KEYS:
                for lang in ("zh", "en"):
                    if not (faq.get(k) or {}).get(lang):
                        errors.append(f"faq.yml: missing {k}.{lang}")
            continue
        if str(doc.get("version")) != "3.1" or "nlu" not in doc:
            errors.append(f"{rel}: not Rasa NLU YAML 3.1"); continue
        lang = rel.split(os.sep)[0]
        for item in doc["nlu"]:
            intent = item.get("intent")
            if intent not in INTENTS:
                errors.append(f"{rel}: unknown intent {intent!r}"); continue
            for raw in item["examples"].splitlines():
                if not raw.strip():
                    continue
                if not raw.startswith("- "):
                    errors.append(f"{rel}: bad line {raw!r}"); continue
                ex = raw[2:]
                if not ex.strip():
                    errors.append(f"{rel}: empty example"); continue
                for m in ANN.finditer(ex):
                    if m.group(2) not in ENTITIES:
                        errors.append(f"{rel}: unknown entity {m.group(2)!r} in {ex!r}")
                rest = ANN.sub("", ex)
                if re.search(r"\]\(", rest):
                    errors.append(f"{rel}: malformed annotation in {ex!r}")
                if lang == "en" and CJK.search(ex):
                    errors.append(f"{rel}: Chinese text in an en file: {ex!r}")
                key = norm(ex)
                if key in seen:
                    errors.append(f"{rel}: duplicate {ex!r} (also {seen[key]})")
                else:
                    seen[key] = f"{rel}:{intent}"
                counts[intent][lang] += 1
    print(f"{'intent':18} {'zh':>4} {'en':>4}")
    tot = collections.Counter()
    for i in INTENTS:
        c = counts[i]
        flag = "" if c["zh"] >= MIN["zh"] and c["en"] >= MIN["en"] else "  < minimum"
        print(f"{i:18} {c['zh']:4} {c['en']:4}{flag}")
        tot.update(c)
    print(f"{'total':18} {tot['zh']:4} {tot['en']:4}")
    for e in errors:
        print("ERROR", e)
    sys.exit(1 if errors else 0)

if __name__ == "__main__":
    main()
