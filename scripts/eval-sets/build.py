#!/usr/bin/env python3
"""Build Frontdesk's evaluation sets from real, licensed FAQ data shipped in
Debian packages.

Python 3 standard library only. Shells out to `apt-get download` and
`dpkg-deb -x`. Every package is pinned by name, version and sha256; a missing
package or a checksum mismatch stops the build with a clear message.

    python3 scripts/eval-sets/build.py            # all sets into eval/sets/
    python3 scripts/eval-sets/build.py harden     # one set
    EVAL_CACHE=/path python3 ...                  # where .deb files are kept

The output is deterministic: the same packages give byte-identical files.
See eval/README.md and eval/sets/<set>/README.md.
"""
import hashlib
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "eval", "sets")
CACHE = os.environ.get("EVAL_CACHE", os.path.join("/tmp", "frontdesk-eval-cache"))

PACKAGES = {
    "harden-doc": {
        "version": "3.19+nmu1",
        "file": "harden-doc_3.19+nmu1_all.deb",
        "sha256": "77ffacb6f8af4afbdf39f3de6040a710ae6ffcc40e2fab5b5d312dfb11d28d94",
    },
    "gnome-user-docs": {
        "version": "43.0-2",
        "file": "gnome-user-docs_43.0-2_all.deb",
        "sha256": "0d635a840747958ca84da778b40d341f1155603851f922c9a171f5a181d6a39f",
    },
}


def die(msg):
    sys.stderr.write("build-eval-sets: error: " + msg + "\n")
    sys.exit(1)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(name):
    """Download (if needed), verify and unpack a pinned .deb; return the unpacked root."""
    pin = PACKAGES[name]
    os.makedirs(CACHE, exist_ok=True)
    deb = os.path.join(CACHE, pin["file"])
    if not os.path.exists(deb):
        try:
            r = subprocess.run(["apt-get", "download", "%s=%s" % (name, pin["version"])],
                               cwd=CACHE, capture_output=True, text=True)
        except FileNotFoundError:
            die("apt-get not found; put %s into %s by hand" % (pin["file"], CACHE))
        if r.returncode != 0 or not os.path.exists(deb):
            die("could not download %s=%s (run `apt-get update`; is the version still in the "
                "archive? or place %s in %s)\n%s" % (name, pin["version"], pin["file"], CACHE,
                                                     r.stderr.strip()))
    got = sha256(deb)
    if got != pin["sha256"]:
        die("sha256 mismatch for %s: expected %s, got %s" % (deb, pin["sha256"], got))
    dest = os.path.join(CACHE, "x", name + "_" + pin["version"])
    if not os.path.isdir(dest):
        tmp = dest + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        os.rename(tmp, dest)
    return dest


# ---------------------------------------------------------------- text helpers

def norm_ws(s):
    return re.sub(r"\s+", " ", s).strip()


def clean_md(text):
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def plain(md):
    """Markdown -> text used for substring checks."""
    return re.sub(r"[`*]", "", md)


def words(s):
    return set(re.findall(r"\w{3,}", s.lower()))


# ---------------------------------------------------------------- mini DOM (HTML)

class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.children, self.parent = tag, dict(attrs), [], parent

    def cls(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.text())
        return "".join(out)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()


VOID = {"br", "img", "meta", "link", "hr", "input", "col", "area", "base", "wbr"}


class DomBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_html(path):
    b = DomBuilder()
    with open(path, encoding="utf-8") as f:
        b.feed(f.read())
    return b.root


CODE_CLASSES = {"command", "filename", "literal", "package", "option", "computeroutput",
                "userinput", "systemitem", "varname", "replaceable", "envar", "code"}


def html_inline(n, neutral):
    """Inline HTML -> markdown text; collect language-neutral strings."""
    if isinstance(n, str):
        return n
    c = n.cls()
    if "footnote" in c and n.tag in ("a", "sup"):
        return ""
    if n.tag == "a" and not n.attrs.get("href"):
        return ""
    inner = "".join(html_inline(x, neutral) for x in n.children)
    if n.tag in ("code", "span") and (set(c) & CODE_CLASSES) and "emphasis" not in c:
        t = norm_ws(inner)
        if t:
            neutral.append(t)
            return "`%s`" % t
        return ""
    if n.tag == "a":
        href = n.attrs.get("href", "")
        t = norm_ws(inner)
        if href.startswith("http") and t == href:
            neutral.append(href)
        return inner
    if n.tag == "br":
        return "\n"
    return inner


def html_blocks(n, neutral, out, prefix=""):
    """Block-level HTML -> list of markdown blocks."""
    BLOCKY = {"div", "p", "ul", "ol", "li", "pre", "table", "dl", "dt", "dd", "blockquote"}
    buf = []

    def flush():
        t = norm_ws("".join(buf))
        if t:
            out.append(prefix + t)
        buf.clear()

    for c in n.children:
        if isinstance(c, str) or c.tag not in BLOCKY:
            buf.append(html_inline(c, neutral))
            continue
        if c.tag == "div" and ("titlepage" in c.cls() or "section" in c.cls()
                                or "footnotes" in c.cls()):
            continue
        flush()
        if c.tag == "pre":
            code = c.text().strip("\n")
            code = "\n".join(line.rstrip() for line in code.split("\n"))
            for line in code.split("\n"):
                if line.strip():
                    neutral.append(line.strip())
            out.append("```\n%s\n```" % code)
        elif c.tag in ("ul", "ol"):
            for i, li in enumerate(x for x in c.children if isinstance(x, Node) and x.tag == "li"):
                sub = []
                html_blocks(li, neutral, sub)
                mark = "- " if c.tag == "ul" else "%d. " % (i + 1)
                if sub:
                    out.append(mark + sub[0] + "".join("\n\n   " + s for s in sub[1:]))
        else:
            html_blocks(c, neutral, out, prefix)
    flush()


# ---------------------------------------------------------------- harden-doc

HARDEN_LANGS = {"en-US": "en", "de-DE": "de", "es-ES": "es", "fr-FR": "fr", "it-IT": "it",
                "ja-JP": "ja", "pt-BR": "pt", "zh-CN": "zh"}


def harden_extract(root):
    base = os.path.join(root, "usr/share/doc/harden-doc/html")
    per_lang = {}
    for d, lang in HARDEN_LANGS.items():
        entries = {}
        for fn in ("ch12.html", "ch12s02.html"):
            dom = parse_html(os.path.join(base, d, fn))
            for sec in dom.iter():
                if sec.tag != "div" or "section" not in sec.cls():
                    continue
                tp = next((x for x in sec.children if isinstance(x, Node) and "titlepage" in x.cls()), None)
                h = next((x for x in tp.iter() if x.tag in ("h2", "h3", "h4", "h5", "h6")), None) if tp else None
                if h is None:
                    continue
                title = norm_ws(h.text())
                m = re.match(r"^(\d+(?:\.\d+)+)\.\s*(.*)$", title)
                if not m:
                    continue
                num, q = m.group(1), m.group(2)
                has_children = any(isinstance(x, Node) and "section" in x.cls() for x in sec.children)
                neutral, blocks = [], []
                html_blocks(sec, neutral, blocks)
                entries[num] = {"question": q, "blocks": blocks, "neutral": neutral,
                                "group": has_children, "depth": num.count(".")}
        per_lang[lang] = entries
    return per_lang


def is_cross_reference_only(text):
    """True when nothing but a pointer elsewhere is left once "see ..." clauses are cut."""
    t = plain(text)
    t = re.sub(r"\(?\b(see|refer to|siehe|voir|vea|consulte|vedere|veja)\b[^.)]*\)?", "", t, flags=re.I)
    t = re.sub(r"https?://\S+", "", t)
    return len(norm_ws(t)) < 40


def is_translated(blocks, en_blocks, max_share=0.2):
    """A translation counts only if at most max_share of its prose blocks are (nearly)
    the English ones: translations fall back to English per paragraph."""
    prose = [b for b in blocks if not b.startswith("```")]
    en_prose = [b for b in en_blocks if not b.startswith("```")]
    if not prose:
        return False
    same = sum(1 for b in prose if any(similar(b, x) > 0.6 for x in en_prose))
    return same <= max_share * len(prose)


def harden_entries(root):
    per_lang = harden_extract(root)
    en = per_lang["en"]
    entries = []
    dropped = []
    for num in sorted(en, key=lambda s: [int(x) for x in s.split(".")]):
        e = en[num]
        if e["depth"] < 2:                      # chapter sections "12.1", "12.2"
            dropped.append((num, e["question"], "chapter heading"))
            continue
        body = "\n\n".join(e["blocks"])
        if not e["blocks"]:
            dropped.append((num, e["question"], "group heading without own text"))
            continue
        if is_cross_reference_only(body):
            dropped.append((num, e["question"], "answer is only a cross-reference"))
            continue
        langs = {}
        for lang, ents in per_lang.items():
            t = ents.get(num)
            if not t or not t["blocks"]:
                continue
            translated_q = lang == "en" or norm_ws(t["question"]) != norm_ws(e["question"])
            # content counts as translated only if most prose blocks differ from English
            translated_a = lang == "en" or is_translated(t["blocks"], e["blocks"])
            langs[lang] = {
                "question": norm_ws(t["question"]) if translated_q else None,
                "answer": clean_md("\n\n".join(t["blocks"])) if translated_a else None,
            }
        entries.append({"id": "faq-" + num.replace(".", "-"), "langs": langs,
                        "neutral": e["neutral"]})
    return entries, dropped


# ---------------------------------------------------------------- gnome-user-docs (Mallard)

MAL = "{http://projectmallard.org/1.0/}"
GNOME_LANGS = {"C": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "pt_BR": "pt",
               "nl": "nl", "sv": "sv", "ru": "ru", "ja": "ja", "pl": "pl"}
MAL_CODE = {"cmd", "file", "code", "sys", "input", "output", "var"}


def mal_local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def mal_inline(el, neutral):
    parts = [el.text or ""]
    for c in el:
        parts.append(mal_inline_el(c, neutral))
        parts.append(c.tail or "")
    return "".join(parts)


def mal_inline_el(c, neutral):
    name = mal_local(c.tag)
    if name in ("media", "info", "desc", "comment"):
        return ""
    if name in ("choose",):           # if:choose -> first when / else
        for w in c:
            return mal_inline(w, neutral)
        return ""
    inner = mal_inline(c, neutral)
    if name in MAL_CODE:
        t = norm_ws(inner)
        if t:
            neutral.append(t)
            return "`%s`" % t
        return ""
    if name == "key":
        return "<%s>" % norm_ws(inner) if False else norm_ws(inner)
    if name == "keyseq":
        keys = [norm_ws(mal_inline(k, neutral)) for k in c if mal_local(k.tag) == "key"]
        return "+".join(keys) if keys else inner
    if name == "gui":
        return "**%s**" % norm_ws(inner) if norm_ws(inner) else ""
    if name == "guiseq":
        guis = [norm_ws(mal_inline(k, neutral)) for k in c if mal_local(k.tag) == "gui"]
        return "**%s**" % " ▸ ".join(guis) if guis else inner
    if name == "link" and not norm_ws(inner):
        href = c.get("href") or ""
        return href
    return inner


def mal_is_question_section(sec):
    t = sec.find(MAL + "title")
    return t is not None and norm_ws(mal_inline(t, [])).endswith("?")


def mal_blocks(el, neutral, out, skip_sections=True):
    for c in el:
        name = mal_local(c.tag)
        if name in ("info", "title", "desc", "media", "comment", "links"):
            continue
        if name == "section":
            # sections titled with a question are entries of their own
            if skip_sections or mal_is_question_section(c):
                continue
            mal_blocks(c, neutral, out, skip_sections)
            continue
        if name in ("p",):
            t = norm_ws(mal_inline(c, neutral))
            if t:
                out.append(t)
        elif name in ("code", "screen"):
            code = (c.text or "") + "".join(ET.tostring(x, encoding="unicode", method="text") for x in c)
            code = code.strip("\n")
            for line in code.split("\n"):
                if line.strip():
                    neutral.append(line.strip())
            out.append("```\n%s\n```" % code)
        elif name in ("list", "steps", "terms", "tree"):
            n = 0
            for item in c:
                iname = mal_local(item.tag)
                if iname == "title":
                    t = norm_ws(mal_inline(item, neutral))
                    if t:
                        out.append(t)
                    continue
                if iname != "item":
                    continue
                n += 1
                sub = []
                for part in item:
                    pn = mal_local(part.tag)
                    if pn == "title":
                        t = norm_ws(mal_inline(part, neutral))
                        if t:
                            sub.append("**%s**" % t)
                    else:
                        mal_blocks_one(part, neutral, sub)
                if not len(item) and (item.text or "").strip():
                    sub.append(norm_ws(item.text))
                mark = "%d. " % n if name == "steps" else "- "
                if sub:
                    out.append(mark + sub[0] + "".join("\n\n   " + s for s in sub[1:]))
        elif name in ("note", "example", "figure", "quote", "synopsis", "if:if", "when", "else",
                      "choose", "if", "div", "listing"):
            if name == "choose":
                for w in c:
                    mal_blocks(w, neutral, out, skip_sections)
                    break
            else:
                for x in c:
                    if mal_local(x.tag) == "title":
                        t = norm_ws(mal_inline(x, neutral))
                        if t:
                            out.append("**%s**" % t)
                mal_blocks(c, neutral, out, skip_sections)
        elif name == "table":
            for row in c.iter(MAL + "tr"):
                cells = [norm_ws(" ".join(mal_inline(p, neutral) for p in td.iter(MAL + "p")))
                         for td in row if mal_local(td.tag) in ("td", "th")]
                cells = [x for x in cells if x]      # icon-only cells are empty
                if len(cells) == 1:
                    out.append("- " + cells[0])
                elif cells:
                    out.append("| " + " | ".join(cells) + " |")


def mal_blocks_one(part, neutral, out):
    wrapper = ET.Element("w")
    wrapper.append(part)
    mal_blocks(wrapper, neutral, out)


def gnome_read(path):
    try:
        tree = ET.parse(path)
    except ET.ParseError:
        return None
    return tree.getroot()


def gnome_units(page):
    """(key, title, element) for the page itself and each of its sections."""
    units = []
    t = page.find(MAL + "title")
    units.append(("", norm_ws(mal_inline(t, [])) if t is not None else "", page))
    for sec in page.iter(MAL + "section"):
        st = sec.find(MAL + "title")
        units.append((sec.get("id") or "", norm_ws(mal_inline(st, [])) if st is not None else "", sec))
    return units


def gnome_entries(root):
    base = os.path.join(root, "usr/share/help")
    cdir = os.path.join(base, "C", "gnome-help")
    entries, dropped = [], []
    for fn in sorted(os.listdir(cdir)):
        if not fn.endswith(".page"):
            continue
        page = gnome_read(os.path.join(cdir, fn))
        if page is None:
            continue
        units = gnome_units(page)
        pages = {}
        for d, lang in GNOME_LANGS.items():
            p = gnome_read(os.path.join(base, d, "gnome-help", fn))
            if p is not None:
                pages[lang] = {k: (t, el) for k, t, el in gnome_units(p)}
        for key, title, el in units:
            if not title.endswith("?"):
                continue
            if len(title.split()) < 4 or re.match(r"^\w+ (do|does|is|are) (they|it|this|that)\b", title):
                dropped.append((fn + "#" + key, title, "question too short to stand alone"))
                continue
            is_page = key == ""
            neutral, blocks = [], []
            # for a page, its own text plus its sections; for a section, the section
            mal_blocks(el, neutral, blocks, skip_sections=False)
            if is_page and page.get("type") == "guide":
                dropped.append((fn, title, "guide page (a list of links, no answer)"))
                continue
            body = "\n\n".join(blocks)
            if len(plain(body)) < 120:
                dropped.append((fn + "#" + key, title, "answer too short or only links"))
                continue
            langs = {}
            for lang, units_l in pages.items():
                if key not in units_l:
                    continue
                lt, lel = units_l[key]
                lneutral, lblocks = [], []
                mal_blocks(lel, lneutral, lblocks, skip_sections=False)
                translated_q = lang == "en" or (lt and lt != title)
                translated_a = lang == "en" or is_translated(lblocks, blocks)
                langs[lang] = {"question": lt if translated_q else None,
                               "answer": clean_md("\n\n".join(lblocks)) if translated_a else None}
            eid = fn[:-5] + ("--" + key if key else "")
            entries.append({"id": eid, "langs": langs, "neutral": neutral})
    return entries, dropped


# ---------------------------------------------------------------- common set builder

STOP_NEUTRAL = {"root", "debian", "gnome", "linux", "su", "x"}


def pick_contains(entry, files_text, question):
    """1-3 language-neutral strings from the entry's markup that occur in every kept
    content file of the entry and in every translated answer, and not in the question."""
    texts = [t.lower() for t in files_text]
    for v in entry["langs"].values():
        if v["answer"]:
            texts.append(plain(v["answer"]).lower())
    seen, cands = set(), []
    en_text = plain(entry["langs"]["en"]["answer"])
    numbers = re.findall(r"(?<![\w.,])\d[\d.,:]*\d(?:\s?(?:%|°|GB|MB|KB|Hz|V|W|ms))?(?![\w])", en_text)
    for s in list(entry["neutral"]) + numbers:
        s = s.strip().rstrip(".,;:")
        if not (3 <= len(s) <= 40) or s.lower() in STOP_NEUTRAL or s.lower() in seen:
            continue
        seen.add(s.lower())
        if s.lower() in question.lower():
            continue
        if all(s.lower() in t for t in texts):
            cands.append(s)
    # prefer distinctive (longer) strings, keep source order among equals
    cands = sorted(cands, key=lambda s: -min(len(s), 20))
    picked = []
    for s in cands:
        if not any(s.lower() in p.lower() for p in picked):
            picked.append(s)
    return picked[:3]


def similar(a, b):
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def build_set(name, entries, meta, unans_frac=0.2, keep_frac=0.4, foreign_only_frac=0.15):
    rnd = random.Random("frontdesk-eval-" + name)
    entries = [e for e in entries if e["langs"].get("en", {}).get("answer")]
    # duplicate questions (same text, same language) across entries: keep the first
    seen_q = set()
    for e in entries:
        for lang, v in e["langs"].items():
            if v["question"]:
                k = (lang, v["question"].lower())
                if k in seen_q:
                    v["question"] = None
                seen_q.add(k)
    entries = [e for e in entries if e["langs"]["en"]["question"]]
    ids = [e["id"] for e in entries]
    by_id = {e["id"]: e for e in entries}

    # unanswerable: ~20%, never one whose answer is near-identical to another entry
    order = ids[:]
    rnd.shuffle(order)
    n_un = round(unans_frac * len(ids))
    unans = []
    for i in order:
        if len(unans) >= n_un:
            break
        a = by_id[i]["langs"]["en"]["answer"]
        if any(similar(a, by_id[j]["langs"]["en"]["answer"]) > 0.3 for j in ids if j != i):
            continue
        unans.append(i)
    unans = set(unans)

    # split by entry, stratified by answerable/unanswerable
    split = {}
    for group in (sorted(unans), sorted(set(ids) - unans)):
        g = group[:]
        rnd.shuffle(g)
        for k, i in enumerate(g):
            split[i] = "tune" if k % 2 == 0 else "test"

    # which languages keep the answer
    content_langs = {}
    for i in ids:
        if i in unans:
            content_langs[i] = []
            continue
        e = by_id[i]
        translated = sorted(l for l, v in e["langs"].items() if l != "en" and v["answer"])
        if translated and rnd.random() < foreign_only_frac:
            content_langs[i] = [rnd.choice(translated)]
        else:
            content_langs[i] = ["en"] + [l for l in translated if rnd.random() < keep_frac]

    d = os.path.join(OUT, name)
    shutil.rmtree(os.path.join(d, "content"), ignore_errors=True)
    files = {}
    for i in ids:
        for lang in content_langs[i]:
            rel = "%s/%s.md" % (lang, i)
            p = os.path.join(d, "content", rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8") as f:
                f.write(by_id[i]["langs"][lang]["answer"])
            files.setdefault(i, []).append(rel)

    questions = []
    lang_order = ["en"] + sorted({l for e in entries for l in e["langs"]} - {"en"})
    for i in sorted(ids):
        e = by_id[i]
        srcs = sorted(files.get(i, []))
        for lang in lang_order:
            v = e["langs"].get(lang)
            if not v or not v["question"]:
                continue
            contains = []
            if srcs:
                texts = [plain(by_id[i]["langs"][s.split("/")[0]]["answer"]) for s in srcs]
                contains = pick_contains(e, texts, v["question"])
            questions.append({"entry": i, "question": v["question"], "lang": lang,
                              "expected_sources": srcs, "expected_answer_contains": contains,
                              "split": split[i]})
    rnd.shuffle(questions)
    out_lines = {"all": [], "tune": [], "test": []}
    for n, q in enumerate(questions, 1):
        rec = {"id": "%s-%04d" % (name, n), "question": q["question"], "lang": q["lang"],
               "expected_sources": q["expected_sources"],
               "expected_answer_contains": q["expected_answer_contains"], "split": q["split"]}
        line = json.dumps(rec, ensure_ascii=False)
        out_lines["all"].append(line)
        out_lines[q["split"]].append(line)
    for k, fn in (("all", "questions.jsonl"), ("tune", "tune.jsonl"), ("test", "test.jsonl")):
        with open(os.path.join(d, fn), "w", encoding="utf-8") as f:
            f.write("\n".join(out_lines[k]) + "\n")
    return questions, files, content_langs, unans, split


def counts_table(questions):
    langs = sorted({q["lang"] for q in questions}, key=lambda l: (l != "en", l))
    rows = ["| lang | split | same-language | cross-language | unanswerable | total |",
            "|---|---|---|---|---|---|"]
    tot = {}
    for lang in langs + ["all"]:
        for sp in ("tune", "test"):
            c = {"same": 0, "cross": 0, "un": 0}
            for q in questions:
                if (lang != "all" and q["lang"] != lang) or q["split"] != sp:
                    continue
                if not q["expected_sources"]:
                    c["un"] += 1
                elif any(s.startswith(q["lang"] + "/") for s in q["expected_sources"]):
                    c["same"] += 1
                else:
                    c["cross"] += 1
            name = "**all**" if lang == "all" else lang
            rows.append("| %s | %s | %d | %d | %d | %d |" % (name, sp, c["same"], c["cross"], c["un"],
                                                           sum(c.values())))
    return "\n".join(rows)


def content_table(files):
    per = {}
    for fs in files.values():
        for f in fs:
            per[f.split("/")[0]] = per.get(f.split("/")[0], 0) + 1
    langs = sorted(per, key=lambda l: (l != "en", l))
    return ("| " + " | ".join(langs) + " |\n|" + "---|" * len(langs) + "\n| "
            + " | ".join(str(per[l]) for l in langs) + " |")


def check_set(name):
    d = os.path.join(OUT, name)
    bad = 0
    ids = set()
    with open(os.path.join(d, "questions.jsonl"), encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            assert q["id"] not in ids, q["id"]
            ids.add(q["id"])
            texts = []
            for s in q["expected_sources"]:
                p = os.path.join(d, "content", s)
                if not os.path.exists(p):
                    print("missing source", q["id"], s)
                    bad += 1
                    continue
                texts.append(open(p, encoding="utf-8").read().lower())
            for s in q["expected_answer_contains"]:
                if not any(s.lower() in t for t in texts):
                    print("string not in sources", q["id"], s)
                    bad += 1
    if bad:
        die("%s: %d check failures" % (name, bad))


def write_readme(name, meta, questions, files, dropped, entries_total, unans):
    pin = PACKAGES[meta["package"]]
    size = 0
    for dp, _, fns in os.walk(os.path.join(OUT, name)):
        size += sum(os.path.getsize(os.path.join(dp, f)) for f in fns if f != "README.md")
    n_entries = len(files) + len(unans)
    drop_lines = "\n".join("- `%s` %s — %s" % (k, q, why) for k, q, why in dropped) or "- none"
    text = meta["readme"].format(
        package=meta["package"], version=pin["version"], file=pin["file"], sha256=pin["sha256"],
        n_entries=n_entries, n_unans=len(unans), n_answerable=len(files),
        n_questions=len(questions),
        counts=counts_table(questions), content=content_table(files),
        dropped=drop_lines, size_kb=(size + 1023) // 1024, name=name)
    with open(os.path.join(OUT, name, "README.md"), "w", encoding="utf-8") as f:
        f.write(text)


COMMON_README = """
## Files

- `content/<lang>/<entry>.md` — the **answers** only, one file per FAQ entry, converted to
  Markdown (no title: a real help-centre article carries no copy of the FAQ question; the
  file name is the entry's neutral id). Not every entry exists in every language:
  English keeps every answerable entry except ~15% that exist only in one other language
  (so some English questions are cross-language too); each other language keeps ~40% of
  the entries it has a complete translation of.
- `questions.jsonl` — every question, in the format of `shared/eval/README.md` plus
  `"split": "tune" | "test"`. `tune.jsonl` / `test.jsonl` are the same lines filtered.
  `expected_sources` lists every kept language version of the entry's answer (any one is
  a hit). `expected_answer_contains` holds 0–3 language-neutral strings (commands, paths,
  package names, URLs taken from the source's code markup) that occur in every kept
  version of the answer and in every translation, and not in the question; it is empty
  when no such string exists, so judge those answers on sources/citations.
- Unanswerable: {n_unans} of {n_entries} entries (seeded, never one whose answer is
  near-identical to a kept one) had their answer removed in every language; their
  questions remain with `expected_sources: []`. They are *near-miss* unanswerables: the
  neighbouring FAQ entries on the same topic are still there, and a few may be partly
  answerable from a neighbour (e.g. a general term explained in passing elsewhere):
  look at such cases before calling a reply a hallucination.
- Split: by entry (all language versions of an entry's question are in the same split),
  stratified answerable/unanswerable, ~50/50, fixed seed.

**Do not look at `test.jsonl` (or the `test` lines) while tuning.** Tune on `tune`, report
on `test`, and do not copy failures from `test` into fixes.

## Counts

{n_questions} questions over {n_entries} entries ({n_answerable} answerable).
Kinds: *same-language* = an expected source is in the question's language;
*cross-language* = the answer exists only in other languages; *unanswerable* = no source.

{counts}

Content files per language:

{content}

Size of the generated data: about {size_kb} KiB.

## Dropped during conversion

{dropped}

## Rebuild

```sh
scripts/build-eval-sets.sh {name}     # downloads the pinned package, verifies sha256
```
"""

HARDEN_README = """# Set `harden` — Securing Debian Manual, FAQ chapter

Source: Debian package **`{package}`**, version **`{version}`** (`{file}`,
sha256 `{sha256}`), the *Securing Debian Manual* by Javier Fernández-Sanguino Peña,
Alexander Reelsen and translators. Upstream:
https://www.debian.org/doc/manuals/securing-debian-howto/ (source
https://salsa.debian.org/ddp-team/securing-debian-manual).
Licence: **GPL-2.0-or-later** (see `/usr/share/doc/harden-doc/copyright` in the package);
the content files here are derived works under the same licence.

Conversion: chapter 12 "Frequently asked Questions (FAQ)" (`html/<lang>/ch12.html`,
`ch12s02.html`) of every shipped translation (en-US, de-DE, es-ES, fr-FR, it-IT, ja-JP,
pt-BR, zh-CN; the set uses `en de es fr it ja pt zh`). Each DocBook section whose title is
a FAQ item is one entry; entries are aligned across languages by section number. The
section title is the question; its paragraphs (without sub-sections) are the answer,
converted from publican XHTML to Markdown (code markup → backticks, `<pre>` → fenced
blocks, lists → `-`, footnote markers dropped, links → their text). The translations
are partial: a language's question is used only if its title differs from the English
one, and its answer only if at most 20% of its prose paragraphs are still identical to
the English ones; questions never appear untranslated. Questions are the manual's own
wording: some are statements of a problem ("My system is vulnerable!"), as customers
write them.
""" + COMMON_README

GNOME_README = """# Set `gnome` — GNOME Help (gnome-user-docs), question-titled topics

Source: Debian package **`{package}`**, version **`{version}`** (`{file}`,
sha256 `{sha256}`): *GNOME Help* (the desktop user guide, `gnome-help`) by the GNOME
Documentation Project and its translation teams. Upstream:
https://gitlab.gnome.org/GNOME/gnome-user-docs, https://help.gnome.org/.
Licence: **CC-BY-SA 3.0 Unported** (the `<license>` of every page; see
`/usr/share/doc/gnome-user-docs/copyright`); the content files here are adapted from it
and are shared under the same licence, with attribution to the GNOME Documentation
Project.

Conversion: every Mallard page or section of `usr/share/help/C/gnome-help/*.page` whose
title is a question (ends in `?`, at least 4 words) is one entry; the translated pages
(`usr/share/help/<lang>/gnome-help/`, languages `de es fr it ja nl pl pt_BR(pt) ru sv`)
give the same entry in other languages, aligned by file name and section id. The title is
the question; the page/section body (with its sub-sections) is the answer, converted from
Mallard XML to Markdown (`<gui>` → bold, `<cmd>/<file>/<code>` → backticks, steps →
numbered lists, media and link-only blocks dropped). A translation's question is used only
if it differs from the English title, and its answer only if at most 20% of its prose
paragraphs are still English. Guide pages (lists of links) and answers under 120
characters are dropped.
""" + COMMON_README

SETS = {
    "harden": {"package": "harden-doc", "entries": harden_entries, "readme": HARDEN_README},
    "gnome": {"package": "gnome-user-docs", "entries": gnome_entries, "readme": GNOME_README},
}


def main(argv):
    names = argv[1:] or list(SETS)
    for name in names:
        if name not in SETS:
            die("unknown set %r (known: %s)" % (name, ", ".join(SETS)))
        meta = SETS[name]
        root = fetch(meta["package"])
        entries, dropped = meta["entries"](root)
        questions, files, content_langs, unans, split = build_set(name, entries, meta)
        check_set(name)
        write_readme(name, meta, questions, files, dropped, len(entries), unans)
        print("%s: %d questions, %d entries, %d content files" % (
            name, len(questions), len(content_langs), sum(len(v) for v in files.values())))


if __name__ == "__main__":
    main(sys.argv)
