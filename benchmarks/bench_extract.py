"""Raw pages in: extraction quality, site boilerplate learning and WARC throughput.

Every neardup number comes from the command line a user would type (``neardup clean``
on a folder of pages, a JSONL file or a WARC file); trafilatura alone is called in this
process on the same pages.

* ``scrapinghub``: Scrapinghub's article-extraction benchmark (181 pages with gold
  bodies), scored the way its ``evaluate.py`` scores (``\\w+`` tokens, multiset word
  4-grams, per-document TP/FP/FN normalised by their sum, precision and recall averaged
  over documents, F1 of the two averages, accuracy = token sequence equal to gold).
* ``trafilatura-eval``: trafilatura's evaluation set (990 pages with must / must-not
  snippets), scored the way its ``tests/eval_common.py`` counts (whitespace-normalised
  substring matches, counts summed over the corpus).
* ``sites``: same-site page groups (Readability's nytimes-1..5, yahoo-1..4, medium-1..3,
  ...; newspaper's two-page sites): the lines of the extracted text are labelled article
  (found in the gold text) or boilerplate, and we count the share of each that site
  boilerplate learning removes.
* ``synthetic``: 2,225 BBC articles as HTML pages of four sites, each site adding its own
  header, promo, share, disclaimer and copyright paragraphs inside the article container
  (where an extractor keeps them), a few stories republished three times with a new
  headline, a quote shared by two stories; same measures, plus word-4-gram F1 against the
  BBC text.
* ``warc``: every page of the shared web-pages sets written into one WARC file; docs/s
  of ``neardup clean crawl.warc.gz`` with 1 and 2 workers, and of trafilatura alone.

* ``scale``: site boilerplate learning on 10k, 100k and 1M JSONL documents of 1,000
  sites: ``neardup clean`` with and without ``--site-boilerplate``, time and peak RSS.

    python benchmarks/bench_extract.py            # all of them (about 25 minutes here)
    python benchmarks/bench_extract.py --only scrapinghub sites

Writes ``benchmarks/results/extract.json``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from articles import BENCH_DATA, SHARED_DATA, load_articles

HERE = Path(__file__).resolve().parent
WORK = BENCH_DATA / "extract"
RESULTS = HERE / "results" / "extract.json"
WEB = SHARED_DATA / "web-pages"
TOKEN = re.compile(r"\w+", re.UNICODE)


def neardup(*args: str) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "neardup", *args], capture_output=True, text=True, check=False
    )
    if p.returncode != 0:
        raise SystemExit(f"neardup {' '.join(args)} failed:\n{p.stderr}")
    return time.perf_counter() - t, p.stderr


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def trafilatura_alone(html: bytes, **kw) -> str:
    import trafilatura

    return trafilatura.extract(html, **kw) or ""


# ------------------------------------------------------------------------ scoring


def _shingles(text: str, n: int = 4) -> Counter:
    tokens = TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def scrapinghub_score(pairs: list[tuple[str, str]]) -> dict:
    """(gold, predicted) per document -> the benchmark's P, R, F1, accuracy."""
    ps, rs, exact = [], [], 0
    for gold, pred in pairs:
        g, p = _shingles(gold), _shingles(pred)
        tp = sum((g & p).values())
        fp = sum((p - g).values())
        fn = sum((g - p).values())
        total = tp + fp + fn or 1
        tp, fp, fn = tp / total, fp / total, fn / total
        ps.append(tp / (tp + fp) if tp + fp else 0.0)
        rs.append(tp / (tp + fn) if tp + fn else 0.0)
        exact += TOKEN.findall(gold) == TOKEN.findall(pred)
    p, r = sum(ps) / len(ps), sum(rs) / len(rs)
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4),
        "accuracy": round(exact / len(pairs), 4),
        "documents": len(pairs),
    }


def snippet_score(entries: list[tuple[dict, str]]) -> dict:
    tp = fn = fp = tn = 0
    for spec, text in entries:
        flat = " ".join(text.split())
        for s in spec.get("with", []):
            if " ".join(s.split()) in flat:
                tp += 1
            else:
                fn += 1
        for s in spec.get("without", []):
            if " ".join(s.split()) in flat:
                fp += 1
            else:
                tn += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "accuracy": round((tp + tn) / (tp + tn + fp + fn), 4),
        "snippets": tp + tn + fp + fn,
    }


def _grams(text: str, n: int = 3) -> set:
    w = [t.lower() for t in TOKEN.findall(text)]
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)} if len(w) >= n else {tuple(w)}


def label_lines(text: str, gold_grams: set) -> list[tuple[str, bool]]:
    """(line, is_article) for every non-empty line: article when at least half of its
    word 3-grams (the line itself when shorter) are in the gold text."""
    out = []
    for line in text.split("\n"):
        if not TOKEN.search(line):
            continue
        g = _grams(line)
        out.append((line, sum(x in gold_grams for x in g) / len(g) >= 0.5))
    return out


def removal(before: dict[str, str], after: dict[str, str], gold: dict[str, str]) -> dict:
    """Lines of ``before`` labelled against ``gold``, and the share of each label gone
    from ``after``."""
    counts = Counter()
    for key, text in before.items():
        gg = _grams(gold[key])
        left = Counter(after.get(key, "").split("\n"))
        for line, is_article in label_lines(text, gg):
            kind = "article" if is_article else "boilerplate"
            counts[kind] += 1
            if left[line] > 0:
                left[line] -= 1
            else:
                counts[kind + "_removed"] += 1
    return {
        "article_lines": counts["article"],
        "article_lines_removed": counts["article_removed"],
        "article_removed_pct": round(
            100 * counts["article_removed"] / max(1, counts["article"]), 2
        ),
        "boilerplate_lines": counts["boilerplate"],
        "boilerplate_lines_removed": counts["boilerplate_removed"],
        "boilerplate_removed_pct": round(
            100 * counts["boilerplate_removed"] / max(1, counts["boilerplate"]), 2
        ),
    }


# ------------------------------------------------------------------------ benches


def bench_scrapinghub() -> dict:
    root = WEB / "scrapinghub-articles"
    gold = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    out = WORK / "scrapinghub.jsonl"
    seconds, _ = neardup("clean", str(root / "html"), "-o", str(out), "-j", "2", "-q")
    got = {r["id"].removesuffix(".html.gz"): r["text"] for r in read_jsonl(out)}
    rows = {}
    rows["neardup clean (trafilatura + repair)"] = scrapinghub_score(
        [(g["articleBody"], got.get(k, "")) for k, g in sorted(gold.items())]
    )
    alone, alone_nc = [], []
    for key, g in sorted(gold.items()):
        html = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        alone.append((g["articleBody"], trafilatura_alone(html)))
        alone_nc.append((g["articleBody"], trafilatura_alone(html, include_comments=False)))
    rows["trafilatura.extract (defaults)"] = scrapinghub_score(alone)
    rows["trafilatura.extract (include_comments=False)"] = scrapinghub_score(alone_nc)
    return {"rows": rows, "neardup_seconds": round(seconds, 1), "pages": len(gold)}


def bench_trafilatura_eval() -> dict:
    root = WEB / "trafilatura-eval"
    spec = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    folder = WORK / "trafeval"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for url, entry in spec.items():
        name = entry["file"] + ".gz"
        src = root / "eval" / name
        if not src.exists():
            src = root / "cache" / name
        files[url] = src
    # the pages of the set only (the folders hold 43 more files), linked into one folder
    for i, (_url, src) in enumerate(sorted(files.items())):
        link = folder / f"{i:04d}.html.gz"
        if not link.exists():
            link.symlink_to(src)
    out = WORK / "trafeval.jsonl"
    seconds, _ = neardup("clean", str(folder), "-o", str(out), "-j", "2", "-q")
    got = {r["id"]: r["text"] for r in read_jsonl(out)}
    ordered = sorted(files.items())
    rows = {
        "neardup clean (trafilatura + repair)": snippet_score(
            [(spec[url], got.get(f"{i:04d}.html.gz", "")) for i, (url, _) in enumerate(ordered)]
        )
    }
    alone, alone_nc = [], []
    for url, src in ordered:
        html = gzip.decompress(src.read_bytes())
        alone.append((spec[url], trafilatura_alone(html)))
        alone_nc.append((spec[url], trafilatura_alone(html, include_comments=False)))
    rows["trafilatura.extract (defaults)"] = snippet_score(alone)
    rows["trafilatura.extract (include_comments=False)"] = snippet_score(alone_nc)
    return {"rows": rows, "neardup_seconds": round(seconds, 1), "pages": len(files)}


def _strip_tags(html: str) -> str:
    from lxml import html as lh

    tree = lh.fromstring(html)
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    blocks = tree.xpath("//p|//li|//h1|//h2|//h3|//h4|//blockquote|//pre|//td|//figcaption")
    return "\n".join(b.text_content() for b in blocks) or tree.text_content()


def _site_groups() -> list[tuple[str, str, Path, str]]:
    """(key, site, page path, gold text) of the same-site groups."""
    out = []
    pages = WEB / "readability" / "test-pages"
    for d in sorted(pages.iterdir()):
        m = re.fullmatch(r"([a-z]+)-(\d+)", d.name)
        if not m or not (d / "source.html.gz").exists():
            continue
        siblings = [p for p in pages.iterdir() if re.fullmatch(rf"{m.group(1)}-\d+", p.name)]
        if len(siblings) < 2:
            continue
        gold = _strip_tags(gzip.decompress((d / "expected.html.gz").read_bytes()).decode("utf-8"))
        out.append((f"readability/{d.name}", m.group(1), d / "source.html.gz", gold))
    news = WEB / "newspaper" / "data"
    for p in sorted((news / "html").glob("*.html.gz")):
        m = re.fullmatch(r"(.+\.[a-z.]+?)(\d)\.html\.gz", p.name)
        text = news / "text" / p.name.replace(".html.gz", ".txt")
        if not m or not text.exists():
            continue
        siblings = list((news / "html").glob(f"{m.group(1)}[0-9].html.gz"))
        if len(siblings) < 2:
            continue
        out.append((f"newspaper/{p.name}", m.group(1), p, text.read_text(encoding="utf-8")))
    return out


def _sites_run(pages: list[tuple[str, str, Path, str]], name: str, min_docs: list[int]) -> dict:
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    keys = {}
    for i, (key, _site, path, _gold) in enumerate(pages):
        link = folder / f"{i:04d}.html.gz"
        if not link.exists():
            link.symlink_to(path)
        keys[f"{i:04d}.html.gz"] = key
    extracted = WORK / f"{name}.jsonl"
    neardup("clean", str(folder), "-o", str(extracted), "-j", "2", "-q")
    site_of = {key: site for key, site, _, _ in pages}
    gold = {key: g for key, _, _, g in pages}
    records = read_jsonl(extracted)
    for r in records:  # the group is the site (the pages' own URLs are often missing)
        r["id"] = keys[r["id"]]
        r["site"] = site_of[r["id"]]
    with_site = WORK / f"{name}-site.jsonl"
    with_site.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    before = {r["id"]: r["text"] for r in records}
    result = {"pages": len(pages), "sites": len(set(site_of.values())), "rows": {}}
    for k in min_docs:
        out = WORK / f"{name}-site-{k}.jsonl"
        neardup(
            "clean", str(with_site), "-o", str(out), "--site-boilerplate", "--site-field",
            "site", "--site-min-docs", str(k), "-q",
        )  # fmt: skip
        after = {r["id"]: r["text"] for r in read_jsonl(out)}
        row = removal(before, after, gold)
        row["f1_before"] = scrapinghub_score([(gold[k2], before[k2]) for k2 in before])["f1"]
        row["f1_after"] = scrapinghub_score([(gold[k2], after[k2]) for k2 in before])["f1"]
        result["rows"][f"--site-min-docs {k}"] = row
    return result


def bench_sites() -> dict:
    return _sites_run(_site_groups(), "sites", [3, 2])


SITES = {
    "northgate-news.example": {
        "top": ["Northgate News | Home | UK | World | Business | Politics | Tech"],
        "inside": [
            "Sign up to the Northgate briefing: the day's news in your inbox every morning."
        ],
        "bottom": [
            "Share this article: Facebook | X | WhatsApp | Email",
            "Copyright 2026 Northgate Media Group. All rights reserved.",
        ],
    },
    "eveningpost.example": {
        "top": ["The Evening Post", "Subscribe for 1 a week"],
        "inside": ["Advertisement feature: Evening Post Travel deals, book now and save."],
        "bottom": [
            "The views expressed in comment pieces are the author's own. The Evening Post "
            "accepts no liability for any loss arising from reliance on this article.",
            "Follow us on social media for the latest updates.",
        ],
    },
    "riverside-tribune.example": {
        "top": ["Riverside Tribune - independent local journalism since 1887"],
        "inside": ["READ MORE: the Tribune's guide to this week's events"],
        "bottom": [
            "Got a story? Email newsdesk@riverside-tribune.example or call 01234 567890.",
            "We use cookies to give you the best experience. By using this site you agree.",
        ],
    },
    "metro-wire.example": {
        "top": ["Metro Wire"],
        "inside": ["Related: more stories from Metro Wire"],
        "bottom": [
            "This article was produced by Metro Wire's newsroom and may be republished "
            "with attribution under our syndication terms.",
        ],
    },
}


def _synthetic_pages(folder: Path) -> dict[str, tuple[str, list[str], list[str]]]:
    """Writes the pages; returns file -> (site, article lines, boilerplate lines)."""
    rng = random.Random(7)
    arts = list(load_articles(("bbc",)))
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    sites = list(SITES)
    shared_quote = (
        "We will not comment on individual cases, but we take every complaint seriously, "
        "a spokesperson said."
    )

    def write(name: str, site: str, headline: str, body: list[str], k: int) -> None:
        b = SITES[site]
        inside = list(body)
        if rng.random() < 0.9 and len(inside) > 2:
            inside.insert(rng.randint(1, len(inside) - 1), b["inside"][0])
        bottom = [x for x in b["bottom"] if rng.random() < 0.95]
        ps = "".join(f"<p>{_esc(x)}</p>" for x in [*inside, *bottom])
        top = "".join(f"<p>{_esc(x)}</p>" for x in b["top"])
        html = (
            f"<html><head><title>{_esc(headline)}</title>"
            f"<link rel='canonical' href='https://{site}/story/{k}'></head><body>"
            f"<div class='page'>{top}<article><h1>{_esc(headline)}</h1>{ps}</article></div>"
            f"</body></html>"
        )
        (folder / name).write_text(html, encoding="utf-8")
        boiler = [*b["top"], *(x for x in inside if x not in body), *bottom]
        truth[name] = (site, [headline, *body], boiler)

    n = 0
    for a in arts:
        site = sites[n % len(sites)]
        body = list(a.paragraphs[1:])
        if n % 97 == 5:
            body.insert(len(body) // 2, shared_quote)
        write(f"{n:05d}.html", site, a.paragraphs[0], body, n)
        if n % 150 == 0:  # republished: the same story twice more, new headlines
            for j in range(2):
                n += 1
                write(f"{n:05d}.html", site, f"{a.paragraphs[0]} (update {j + 1})", body, n)
        n += 1
    return truth


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bench_synthetic() -> dict:
    folder = WORK / "synthetic"
    truth = _synthetic_pages(folder)
    plain = WORK / "synthetic.jsonl"
    site = WORK / "synthetic-site.jsonl"
    neardup("clean", str(folder), "-o", str(plain), "-j", "2", "-q")
    seconds, log = neardup("clean", str(folder), "-o", str(site), "-j", "2", "--site-boilerplate")
    before = {r["id"]: r["text"] for r in read_jsonl(plain)}
    after = {r["id"]: r["text"] for r in read_jsonl(site)}
    alone = {}
    for name in truth:
        alone[name] = trafilatura_alone((folder / name).read_bytes(), include_comments=False)
    counts = Counter()
    for name, (_site, article, boiler) in truth.items():
        a_set, b_set = set(article), set(boiler)
        for label, texts in (("trafilatura", alone), ("neardup", before), ("neardup_site", after)):
            lines = set(texts.get(name, "").split("\n"))
            counts[f"{label}_article_kept"] += len(a_set & lines)
            counts[f"{label}_boiler_kept"] += len(b_set & lines)
        counts["article"] += len(a_set)
        counts["boiler"] += len(b_set)
    gold = {name: "\n".join(t[1]) for name, t in truth.items()}
    rows = {}
    for label, texts in (
        ("trafilatura.extract (include_comments=False)", alone),
        ("neardup clean", before),
        ("neardup clean --site-boilerplate", after),
    ):
        key = {"trafilatura.extract (include_comments=False)": "trafilatura",
               "neardup clean": "neardup", "neardup clean --site-boilerplate": "neardup_site"}[label]  # fmt: skip
        row = scrapinghub_score([(gold[n], texts.get(n, "")) for n in sorted(truth)])
        row["boilerplate_lines_left_pct"] = round(
            100 * counts[f"{key}_boiler_kept"] / counts["boiler"], 2
        )
        row["article_lines_kept_pct"] = round(
            100 * counts[f"{key}_article_kept"] / counts["article"], 2
        )
        rows[label] = row
    return {
        "pages": len(truth),
        "article_lines": counts["article"],
        "boilerplate_lines": counts["boiler"],
        "rows": rows,
        "site_summary": [x for x in log.splitlines() if "site boilerplate" in x],
        "neardup_site_seconds": round(seconds, 1),
    }


def bench_warc() -> dict:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = WORK / "crawl.warc.gz"
    pages = sorted(WEB.rglob("*.html.gz"))
    pages = [p for p in pages if "expected" not in p.name]
    if not path.exists():
        with path.open("wb") as fh:
            w = WARCWriter(fh, gzip=True)
            for i, p in enumerate(pages):
                body = gzip.decompress(p.read_bytes())
                http = StatusAndHeaders(
                    "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
                )
                rec = w.create_warc_record(
                    f"https://site{i % 50}.example/{p.stem}",
                    "response",
                    payload=io.BytesIO(body),
                    http_headers=http,
                )
                w.write_record(rec)
    rows = {}
    for workers in (1, 2):
        out = WORK / f"warc-{workers}.jsonl"
        seconds, log = neardup("clean", str(path), "-o", str(out), "-j", str(workers), "-q",
                               "--rejects", str(WORK / "warc-rejects.jsonl"))  # fmt: skip
        rows[f"neardup clean -j {workers}"] = {
            "seconds": round(seconds, 1),
            "records": len(pages),
            "docs_per_s": round(len(pages) / seconds, 1),
            "docs_per_s_per_core": round(len(pages) / seconds / workers, 1),
        }
    t = time.perf_counter()
    for p in pages:
        trafilatura_alone(gzip.decompress(p.read_bytes()), include_comments=False)
    s = time.perf_counter() - t
    rows["trafilatura.extract alone, 1 core"] = {
        "seconds": round(s, 1),
        "records": len(pages),
        "docs_per_s": round(len(pages) / s, 1),
        "docs_per_s_per_core": round(len(pages) / s, 1),
    }
    return {"rows": rows, "warc_mb": round(path.stat().st_size / 1e6, 1)}


def _scale_corpus(path: Path, n: int, sites: int = 1000) -> None:
    """``n`` JSONL documents (~2.5 KB) of ``sites`` sites: 4-12 paragraphs drawn at
    random from the BBC articles, inside three lines of the site's own (a header, a
    share line, a copyright line), each carried by 90% of the site's pages."""
    if path.exists():
        return
    rng = random.Random(11)
    paras = [p for a in load_articles(("bbc",)) for p in a.paragraphs if len(p) > 80]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            site = f"site{rng.randrange(sites)}.example"
            top = [f"{site} | Home | News | Sport | Weather"] if rng.random() < 0.9 else []
            bottom = [
                x
                for x in (
                    f"Share this story from {site}",
                    f"Copyright 2026 {site}. All rights reserved.",
                )
                if rng.random() < 0.9
            ]
            body = rng.sample(paras, rng.randint(4, 12))
            rec = {
                "id": f"d{i}",
                "url": f"https://www.{site}/n/{i}",
                "text": "\n".join([*top, *body, *bottom]),
            }
            f.write(json.dumps(rec) + "\n")


def bench_scale(sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)) -> dict:
    """Cost of site boilerplate learning as the corpus grows: ``neardup clean`` with and
    without --site-boilerplate, 2 workers, wall time and peak RSS of the process tree."""
    from measure import run as measured

    rows = {}
    for n in sizes:
        corpus = WORK / f"scale-{n}.jsonl"
        _scale_corpus(corpus, n)
        for label, extra in (("clean", []), ("clean --site-boilerplate", ["--site-boilerplate"])):
            out = WORK / "scale-out.jsonl"
            m = measured([sys.executable, "-m", "neardup", "clean", str(corpus), "-o", str(out),
                          "-j", "2", *extra])  # fmt: skip
            if m.returncode != 0:
                raise SystemExit(m.stderr)
            summary = [x for x in m.stderr.splitlines() if "site boilerplate" in x]
            rows[f"{n} {label}"] = {
                "docs": n,
                "seconds": round(m.seconds, 1),
                "docs_per_s": round(n / m.seconds),
                "peak_rss_mb": round(m.peak_rss_mb),
                "summary": summary[0] if summary else "",
            }
            out.unlink()
        corpus.unlink()
    return {"rows": rows}


BENCHES = {
    "scrapinghub": bench_scrapinghub,
    "trafilatura-eval": bench_trafilatura_eval,
    "sites": bench_sites,
    "synthetic": bench_synthetic,
    "warc": bench_warc,
    "scale": bench_scale,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", choices=list(BENCHES), default=list(BENCHES))
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    import trafilatura

    results["date"] = time.strftime("%Y-%m-%d")
    results["trafilatura"] = trafilatura.__version__
    for name in args.only:
        t = time.perf_counter()
        results[name] = BENCHES[name]()
        results[name]["bench_seconds"] = round(time.perf_counter() - t, 1)
        print(json.dumps({name: results[name]}, indent=1), flush=True)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
