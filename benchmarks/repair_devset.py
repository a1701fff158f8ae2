"""Within-document repair dev set: scrape faults injected into real articles.

Every article of :func:`articles.load_articles` appears once as a *control* (as it came)
and once with one *fault* (kinds below, assigned round-robin after a seeded shuffle).
The expected output of a faulted document is the article itself, except for
``no-breaks`` where it is the article on one line.

Fault kinds (what scrapers produce):

- ``body-twice``          the whole text followed by itself
- ``body-twice-after-lead`` the first paragraph, then the rest twice (the seed file)
- ``body-three-times``    the whole text three times
- ``block-repeated``      2-3 consecutive paragraphs repeated right after themselves
- ``block-repeated-later`` 2-3 consecutive paragraphs repeated further down
- ``second-copy-edited``  body twice; the second copy with straight/curly quotes swapped,
                          changed whitespace, one or two typos, and "Advertisement" /
                          "Share this article" lines between the copies and between its
                          paragraphs
- ``truncated-first-copy`` a first copy cut off mid-sentence, then the full text
- ``no-breaks``           no paragraph breaks: the text on one line, followed by itself

Run ``python benchmarks/repair_devset.py`` to print the scores.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from articles import Article, load_articles

FAULTS = (
    "body-twice",
    "body-twice-after-lead",
    "body-three-times",
    "block-repeated",
    "block-repeated-later",
    "second-copy-edited",
    "truncated-first-copy",
    "no-breaks",
)
NOISE_LINES = ("Advertisement", "Share this article", "ADVERTISEMENT", "Story continues below")


@dataclass(frozen=True)
class Case:
    case_id: str
    kind: str  # a fault kind, or "control"
    text: str
    expected: str


def _edit_copy(paras: list[str], rng: random.Random) -> list[str]:
    """The second copy as a different page template renders it."""
    out = []
    swap = {"'": "\u2019", '"': "\u201d", "\u2019": "'", "\u201c": '"', "\u201d": '"'}
    for p in paras:
        p = "".join(swap.get(c, c) for c in p)
        p = p.replace(". ", ".  ")  # changed whitespace
        out.append(p)
    # one or two typos: swap two inner letters of a longer word
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(out))
        ws = out[i].split(" ")
        long_words = [j for j, w in enumerate(ws) if len(w) >= 6 and w.isalpha()]
        if long_words:
            j = rng.choice(long_words)
            w = ws[j]
            c = rng.randrange(1, len(w) - 2)
            ws[j] = w[:c] + w[c + 1] + w[c] + w[c + 2 :]
            out[i] = " ".join(ws)
    # noise lines between paragraphs of the second copy
    noisy = out[:1]
    for p in out[1:]:
        if rng.random() < 0.3:
            noisy.append(rng.choice(NOISE_LINES))
        noisy.append(p)
    return noisy


def inject(article: Article, kind: str, rng: random.Random) -> tuple[str, str] | None:
    """(faulted text, expected text), or None when the article is too short for ``kind``."""
    paras = list(article.paragraphs)
    text = "\n\n".join(paras)
    if len(paras) < 3:
        return None
    if kind == "body-twice":
        return "\n\n".join(paras + paras), text
    if kind == "body-twice-after-lead":
        return "\n".join(paras[:1] + paras[1:] + paras[1:]), "\n".join(paras)
    if kind == "body-three-times":
        return "\n\n".join(paras * 3), text
    if kind in ("block-repeated", "block-repeated-later"):
        if len(paras) < 5:
            return None
        m = rng.randint(2, 3)
        i = rng.randrange(1, len(paras) - m)
        block = paras[i : i + m]
        at = i + m if kind == "block-repeated" else rng.randint(i + m + 1, len(paras))
        return "\n\n".join(paras[:at] + block + paras[at:]), text
    if kind == "second-copy-edited":
        seam = [rng.choice(NOISE_LINES)] if rng.random() < 0.7 else []
        return "\n\n".join(paras + seam + _edit_copy(paras, rng)), text
    if kind == "truncated-first-copy":
        cut = rng.randint(len(text) // 3, 2 * len(text) // 3)
        while cut < len(text) and text[cut].isalnum():  # cut inside a sentence...
            cut += 1
        cut -= rng.randint(1, 4)  # ...mid-word
        head = text[:cut]
        if head.rstrip().endswith((".", "!", "?")):
            head = head.rstrip()[:-1]
        return head + "\n\n" + text, text
    if kind == "no-breaks":
        line = " ".join(paras)
        return line + " " + line, line
    raise ValueError(kind)


def build(seed: int = 0) -> Iterator[Case]:
    rng = random.Random(seed)
    articles = list(load_articles())
    order = list(range(len(articles)))
    rng.shuffle(order)
    for n, idx in enumerate(order):
        article = articles[idx]
        yield Case(f"{article.source_id}#control", "control", article.text, article.text)
        kind = FAULTS[n % len(FAULTS)]
        made = inject(article, kind, rng)
        if made is not None:
            yield Case(f"{article.source_id}#{kind}", kind, made[0], made[1])


def score(cases, repair) -> dict[str, dict[str, float]]:
    """Per kind: documents, repaired (output equals the expected text after neardup's
    conservative normalisation) and the rate. ``repair`` maps a case to its output."""
    from neardup.normalize import collapse_whitespace, normalize_text

    out: dict[str, dict[str, float]] = {}
    for case in cases:
        got = collapse_whitespace(repair(case))
        ok = got == normalize_text(case.expected)
        row = out.setdefault(case.kind, {"docs": 0, "ok": 0})
        row["docs"] += 1
        row["ok"] += ok
    for row in out.values():
        row["rate"] = row["ok"] / row["docs"]
    return out


def datatrove_sentence_dedup(cases: list[Case], python: str) -> dict[str, str]:
    """case id -> text after datatrove's sentence dedup (run by the peers' interpreter
    ``python``). Controls and faulted documents go in two separate runs, so that a
    faulted copy is not matched against its own control; the controls run still matches
    sentences across different articles, as datatrove does on any corpus."""
    import json
    import subprocess
    import tempfile
    from pathlib import Path

    script = Path(__file__).resolve().parent / "peers" / "datatrove_sentence_dedup.py"
    outputs: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for group in ("controls", "faults"):
            docs, out = Path(tmp) / f"{group}.jsonl", Path(tmp) / f"{group}.out.jsonl"
            with docs.open("w", encoding="utf-8") as f:
                for c in cases:
                    if (c.kind == "control") == (group == "controls"):
                        f.write(json.dumps({"id": c.case_id, "text": c.text}) + "\n")
            subprocess.run(
                [python, str(script), str(docs), str(out), str(Path(tmp) / f"{group}-work")],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            with out.open(encoding="utf-8") as f:
                outputs.update((d["id"], d["text"]) for d in map(json.loads, f))
    return outputs


def exact_paragraph_dedup(text: str) -> str:
    """Baseline (cc_net / dolma style): drop every paragraph (line) whose normalised text
    appeared earlier in the document."""
    seen: set[str] = set()
    out = []
    for line in text.split("\n"):
        key = " ".join(line.lower().split())
        if key and key in seen:
            continue
        seen.add(key)
        out.append(line)
    return "\n".join(out)


def main() -> None:
    import argparse
    import json
    from pathlib import Path

    from neardup import repair_text

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show-failures", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the scores here")
    ap.add_argument(
        "--peers-python",
        help="interpreter of the peers' environment (benchmarks/compare.py passes it): "
        "adds datatrove's sentence dedup",
    )
    args = ap.parse_args()
    cases = list(build(args.seed))
    tools = {
        "neardup": lambda c: repair_text(c.text).text,
        "exact-paragraph-dedup": lambda c: exact_paragraph_dedup(c.text),
    }
    if args.peers_python:
        dt = datatrove_sentence_dedup(cases, args.peers_python)
        tools["datatrove-sentence-dedup"] = lambda c: dt[c.case_id]
    results = {}
    for name, func in tools.items():
        result = score(cases, func)
        faults = [r for k, r in result.items() if k != "control"]
        total_ok = sum(r["ok"] for r in faults)
        total = sum(r["docs"] for r in faults)
        c = result["control"]
        results[name] = {
            "kinds": result,
            "faults_repaired": total_ok / total,
            "controls_untouched": c["rate"],
        }
        print(f"== {name}")
        for kind, r in result.items():
            print(f"  {kind:24s} {r['ok']:5d}/{r['docs']:5d} = {r['rate']:.4f}")
        print(f"  faulted repaired: {total_ok}/{total} = {total_ok / total:.4f}")
        print(f"  controls untouched: {c['ok']}/{c['docs']} = {c['rate']:.4f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"seed": args.seed, "tools": results}, indent=1) + "\n")
    if args.show_failures:
        import difflib

        from neardup.normalize import normalize_text

        shown = 0
        for case in cases:
            got = repair_text(case.text).text
            if got != normalize_text(case.expected):
                print("=" * 80, case.case_id)
                for line in difflib.unified_diff(
                    normalize_text(case.expected).split("\n"), got.split("\n"), lineterm="", n=0
                ):
                    print(line[:200])
                shown += 1
                if shown >= args.show_failures:
                    break


if __name__ == "__main__":
    main()
