#!/usr/bin/env python3
"""Derives single-language help centres from the multilingual eval sets.

A help centre written in one language, asked in many, is the commonest real setup
(and the one a multilingual mixture hides: there, an article's translations follow
it in the ranking). For each (set, language) below, `eval/sets/<set>-<lang>-only/`
keeps the parent set's content in that language only, and every parent question
(same ids, same split): its expected sources are those in that language; a question
whose answer exists only in other languages becomes unanswerable here.

    scripts/eval-sets/derive.py            # after scripts/build-eval-sets.sh
Deterministic; Python 3 stdlib only.
"""
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "eval" / "sets"
DERIVED = [("gnome", "en"), ("harden", "en"), ("gnome", "de")]


def derive(parent: str, lang: str) -> None:
    src = ROOT / parent
    out = ROOT / f"{parent}-{lang}-only"
    if out.exists():
        shutil.rmtree(out)
    (out / "content").mkdir(parents=True)
    shutil.copytree(src / "content" / lang, out / "content" / lang)
    rows = []
    for line in (src / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        q["expected_sources"] = [s for s in q["expected_sources"] if s.startswith(lang + "/")]
        if not q["expected_sources"]:
            q["expected_answer_contains"] = []
        rows.append(q)
    for name, keep in (("questions.jsonl", None), ("tune.jsonl", "tune"), ("test.jsonl", "test")):
        lines = [json.dumps(q, ensure_ascii=False) for q in rows if keep is None or q["split"] == keep]
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = Counter()
    for q in rows:
        if not q["expected_sources"]:
            kind = "unanswerable"
        elif q["lang"] == lang:
            kind = "same-language"
        else:
            kind = "cross-language"
        counts[(q["split"], kind)] += 1
    table = "\n".join(
        f"| {split} | {counts[(split, 'same-language')]} | {counts[(split, 'cross-language')]} | {counts[(split, 'unanswerable')]} |"
        for split in ("tune", "test")
    )
    articles = len(list((out / "content" / lang).iterdir()))
    (out / "README.md").write_text(
        f"""# Set `{parent}-{lang}-only` — derived from [`{parent}`](../{parent}/README.md)

A single-language help centre: the `{lang}` articles of `{parent}` only ({articles} files,
copied unchanged; source and licence as in the parent's README), asked every question of
the parent in every language. Expected sources are the `{lang}` ones; a question whose
answer exists only in other languages is unanswerable here. Same ids and the same
tune/test split as the parent: **tune on `tune.jsonl` only**, report on `test.jsonl`.

Built by `scripts/eval-sets/derive.py` (run by `scripts/build-eval-sets.sh`).

| split | same-language | cross-language | unanswerable |
|---|---|---|---|
{table}
""",
        encoding="utf-8",
    )
    print(f"{out.name}: {len(rows)} questions, {articles} articles", file=sys.stderr)


if __name__ == "__main__":
    for parent, lang in DERIVED:
        derive(parent, lang)
