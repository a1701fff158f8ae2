"""A self-contained HTML report of a ``neardup run`` folder (``neardup report``).

One file, no script, no network request (a Content-Security-Policy forbids both), every
piece of document text escaped: run summary, histograms (inline SVG), what-if removals
at other thresholds, the largest and the loosest clusters with word diffs of members
against the kept document, a sample of repaired documents with the removed spans
marked, and the settings. It streams the run's files and embeds only samples, so it is
quick to make and to open for a run of millions of documents.
"""

from __future__ import annotations

import heapq
import html
from pathlib import Path
from typing import NamedTuple

from .explain import _jsonl, _kept_file, input_texts, word_diff
from .io import read_documents
from .io.formats import record_id
from .normalize import normalize_text
from .runfolder import check_complete, read_stats

#: clusters shown in each of the "largest" and "loosest" sections
SHOW_CLUSTERS = 5
#: members diffed against the kept document in each cluster shown
SHOW_MEMBERS = 3
#: repaired documents shown
SHOW_REPAIRS = 10
#: characters of one text shown in a diff column (longer texts are cut)
MAX_CHARS = 6000
#: what-if thresholds always shown (the run's own and those asked for come too)
WHAT_IF = (0.8, 0.9)
#: what-if containment levels always shown (at the run's threshold)
WHAT_IF_CONTAINMENT = (0.9, 1.0)

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.text{white-space:pre-wrap;font:13px/1.4 ui-monospace,monospace;background:#fafafa;
border:1px solid #eee;padding:.5em;max-height:24em;overflow:auto}
del{background:#fdd;text-decoration:none}ins{background:#dfd;text-decoration:none}
mark{background:#fe9}.muted{color:#777}.ok{color:#070}.bad{color:#b00}
details{margin:.6em 0}summary{cursor:pointer;font-weight:600}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _table(rows, header=None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for v in row:
            cls = ' class="n"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{_e(f'{v:,}' if isinstance(v, int) else v)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _svg_bars(labels: list[str], values: list[int], title: str) -> str:
    """A bar chart as inline SVG (labels and values are escaped)."""
    w, h, pad = 640, 220, 30
    top = max(values) if values and max(values) > 0 else 1
    bw = (w - 2 * pad) / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 40}" '
        f'role="img" aria-label="{_e(title)}">'
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        bh = (h - 2 * pad) * v / top
        x, y = pad + i * bw, h - pad - bh
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" '
            f'fill="#4a7fb5"><title>{_e(label)}: {v:,}</title></rect>'
        )
        if v:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{v:,}</text>'
            )
        parts.append(
            f'<text x="{x + bw / 2:.1f}" y="{h - pad + 14:.1f}" font-size="10" '
            f'text-anchor="middle">{_e(label)}</text>'
        )
    parts.append(
        f'<text x="{w / 2}" y="{h + 20}" font-size="12" text-anchor="middle">{_e(title)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _diff_columns(kept: str, other: str) -> str:
    """Two columns: the kept text with words only it has struck, the member with words
    only it has marked (both escaped)."""
    left, right = [], []
    for tag, a, b in word_diff(kept[:MAX_CHARS], other[:MAX_CHARS]):
        if tag == "equal":
            left.append(_e(a))
            right.append(_e(b))
            continue
        if a:
            left.append(f"<del>{_e(a)}</del>")
        if b:
            right.append(f"<ins>{_e(b)}</ins>")
    cut = " <span class='muted'>[cut]</span>"
    lcut = cut if len(kept) > MAX_CHARS else ""
    rcut = cut if len(other) > MAX_CHARS else ""
    return (
        f"<div class='cols'><div class='text'>{' '.join(left)}{lcut}</div>"
        f"<div class='text'>{' '.join(right)}{rcut}</div></div>"
    )


def _texts(out: Path, ids: set[str], text_field: str, id_field: str) -> dict[str, str]:
    """Texts of ``ids`` from the kept and removed records (one streaming pass each)."""
    found: dict[str, str] = {}
    if not ids:
        return found
    kept = _kept_file(out)
    if kept is not None:
        for doc in read_documents(str(kept), None, text_field, id_field):
            if getattr(doc, "id", None) in ids:
                found[doc.id] = doc.text
    for r in _jsonl(out / "removed.jsonl"):
        i = r.get(id_field)
        i = None if i is None else record_id(i)  # the id as neardup names it
        if i in ids and isinstance(r.get(text_field), str):
            found[i] = r[text_field]
    # records that had no id are FILE:LINE: read those lines from the input again
    wanted = {}
    for i in ids - found.keys():
        where, _, line = i.rpartition(":")
        if line.isdigit():
            wanted[(where, int(line))] = i
    for where, text in input_texts(wanted, text_field, id_field).items():
        found[wanted[where]] = text
    return found


def _repaired_sample(out: Path, text_field: str, id_field: str) -> list[tuple[dict, str | None]]:
    """The first repaired documents with their normalised input text (None when the
    input cannot be read again, e.g. standard input)."""
    sample = []
    for r in _jsonl(out / "repairs.jsonl"):
        if r.get("removed"):
            sample.append(r)
        if len(sample) >= SHOW_REPAIRS:
            break
    originals = input_texts(((r.get("file"), r.get("line")) for r in sample), text_field, id_field)
    return [
        (
            r,
            None
            if (t := originals.get((r.get("file"), r.get("line")))) is None
            else normalize_text(t),
        )
        for r in sample
    ]


def _marked(text: str, spans: list[dict]) -> str:
    """``text`` escaped, the removed spans in <del>, the spans they repeat in <mark>."""
    events = []
    for s in spans:
        events.append((s["start"], s["end"], "del"))
        if s.get("repeats"):
            events.append((s["repeats"][0], s["repeats"][1], "mark"))
    events.sort()
    out, pos = [], 0
    for start, end, tag in events:
        if start < pos:  # overlapping spans: show the part not shown yet
            start = pos
        if start >= end:
            continue
        out.append(_e(text[pos:start]))
        out.append(f"<{tag}>{_e(text[start:end])}</{tag}>")
        pos = end
    out.append(_e(text[pos:]))
    return "".join(out)


def build_report(
    out_dir: str | Path,
    thresholds: tuple[tuple[float, float | None], ...] = (),
    text_field: str = "text",
    id_field: str = "id",
    complete: bool = True,
) -> str:
    """The HTML of the report for the run in ``out_dir``; ``thresholds`` adds what-if
    rows as (Jaccard threshold, containment or None for the run's). ``complete=False``:
    the run writing the folder is still going (it asks for its own report)."""
    from .whatif import run_settings

    out = check_complete(out_dir) if complete else Path(out_dir)
    meta = read_stats(out)
    stats, settings = meta.get("stats") or {}, meta["settings"]
    config = run_settings(out)
    scan = _scan_clusters(out)
    need = set()
    for c in scan.largest + [c for c in scan.loosest if c not in scan.largest]:
        need.add(c["kept"])
        need.update(m["id"] for m in c["members"][: SHOW_MEMBERS + 1])
    texts = _texts(out, need, text_field, id_field)

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>neardup report: {_e(out.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>neardup report <span class='muted'>{_e(out)}</span></h1>",
    ]
    parts += _summary(stats)
    parts.append("<h2>Distributions</h2>")
    parts.append(
        _svg_bars(
            [f"{i / 20:.2f}" for i in range(20)],
            scan.sim_bins,
            "similarity of each removed document to its kept document",
        )
    )
    parts.append(
        _svg_bars(SIZE_LABELS, [scan.sizes.get(s, 0) for s in SIZE_LABELS], "documents per cluster")
    )
    parts += _what_if(out, config, thresholds, scan.by_text)
    parts += _shown_clusters(scan, texts)
    parts += _repairs(out, text_field, id_field)
    parts.append("<h2>Settings</h2>")
    parts.append(_table(sorted(settings.items()), header=("setting", "value")))
    parts.append("</body></html>")
    return "\n".join(parts)


SIZE_LABELS = ["2", "3", "4", "5", "6-10", "11-20", "21-50", "51+"]


class _Scan(NamedTuple):
    sim_bins: list[int]
    sizes: dict[str, int]
    largest: list[dict]
    loosest: list[dict]
    by_text: int  # removed members linked by the second look on their texts


def _scan_clusters(out: Path) -> _Scan:
    """One streaming pass over the clusters: the histograms and the clusters to show."""
    sim_bins = [0] * 20
    sizes: dict[str, int] = {}
    largest: list[tuple] = []
    loosest: list[tuple] = []
    by_text = 0
    for c in _jsonl(out / "clusters.jsonl"):
        for m in c["members"]:
            if m["reason"] != "kept":
                sim_bins[min(int(m["similarity"] * 20), 19)] += 1
                by_text += "fuzzy" in (m.get("scores") or {})
        n = c["size"]
        label = (
            str(n) if n <= 5 else "6-10" if n <= 10 else "11-20" if n <= 20 else
            "21-50" if n <= 50 else "51+"
        )  # fmt: skip
        sizes[label] = sizes.get(label, 0) + 1
        item = (n, -c["cluster"], c)
        (heapq.heappush if len(largest) < SHOW_CLUSTERS else heapq.heappushpop)(largest, item)
        item = (-c["tightness"], -c["cluster"], c)
        (heapq.heappush if len(loosest) < SHOW_CLUSTERS else heapq.heappushpop)(loosest, item)
    return _Scan(
        sim_bins, sizes, [t[2] for t in sorted(largest, reverse=True)],
        [t[2] for t in sorted(loosest, reverse=True)], by_text,
    )  # fmt: skip


_SUMMARY_KEYS = [
    ("exact duplicates removed", "exact_removed"),
    ("near duplicates removed", "near_removed"),
    ("contained (trimmed) copies removed", "contained_removed"),
    ("clusters", "clusters"),
    ("documents repaired", "repaired"),
    ("candidate pairs", "candidate_pairs"),
    ("verified pairs", "verified_pairs"),
    ("rejected pairs", "rejected_pairs"),
    ("... of them by MinHash estimate, unread", "prefiltered_pairs"),
    ("documents of the index compared (--index)", "index_documents"),
    ("removed as duplicates of index documents", "index_removed"),
    ("boilerplate paragraphs left out of the comparison", "boilerplate_paragraphs"),
    ("kept documents that lost site boilerplate lines", "site_documents"),
    ("site boilerplate lines removed", "site_lines_removed"),
    ("records skipped (not pages with text; part of the rejected)", "skipped"),
]


def _summary(stats: dict) -> list[str]:
    adds_up = stats["read"] == stats["kept"] + stats["removed"] + stats["rejected"]
    parts = ["<h2>Summary</h2>"]
    parts.append(
        f"<p class='{'ok' if adds_up else 'bad'}'>read {stats['read']:,} = kept "
        f"{stats['kept']:,} + removed {stats['removed']:,} + rejected {stats['rejected']:,}"
        f"{'' if adds_up else ' (does not add up!)'}</p>"
    )
    rows = [(label, stats.get(k, 0)) for label, k in _SUMMARY_KEYS]
    learned = stats.get("site_boilerplate") or {}
    if learned:
        rows.append(
            (
                "site boilerplate lines learned (sites)",
                f"{learned.get('lines', 0):,} ({learned.get('sites', 0):,})",
            )
        )
    for reason, count in sorted(
        (stats.get("skipped_reasons") or {}).items(), key=lambda kv: -kv[1]
    ):
        rows.append((f"... skipped: {reason}", count))
    parts.append(_table(rows))
    secs = stats.get("seconds", {})
    parts.append(_table([(k, v) for k, v in secs.items()], header=("stage", "seconds")))
    return parts


def _what_if(out: Path, config, thresholds, by_text: int) -> list[str]:
    from .whatif import what_if_many

    parts = ["<h2>What if</h2>"]
    if not (out / "pairs.npz").exists():
        parts.append("<p class='muted'>No pairs.npz in this folder: what-if not available.</p>")
        return parts
    run = (config.threshold, config.containment)
    levels = {run, *((t, config.containment) for t in WHAT_IF)}
    levels |= {(config.threshold, c) for c in WHAT_IF_CONTAINMENT}
    levels |= {(t, config.containment if c is None else c) for t, c in thresholds}
    rows = []
    ordered = sorted(levels)
    for (t, c), w in zip(ordered, what_if_many(out, ordered), strict=True):
        mark = " (this run)" if (t, c) == run else ""
        rows.append(
            (f"{t:g}{mark}", f"{c:g}", w.removed, w.clusters, "exact" if w.exact else w.note)
        )
    parts.append(
        "<p>Documents removed at other settings, replayed from the scores this run "
        "computed, without re-running. With containment verification a pair is a "
        "duplicate when its Jaccard reaches the threshold <i>or</i> the smaller "
        "document is contained in the other at the containment level, so raising "
        "the threshold alone changes little. A pair the shingles leave just short gets "
        f"a second look on its texts: {by_text:,} removed documents were linked by it "
        f"(their texts, without boilerplate, align at {config.aligned:g} or more).</p>"
    )
    parts.append(
        _table(rows, header=("Jaccard threshold", "containment", "removed", "clusters", "replay"))
    )
    return parts


def _shown_clusters(scan: _Scan, texts: dict[str, str]) -> list[str]:
    parts = []
    for title, group in (
        ("Largest clusters", scan.largest),
        ("Loosest clusters (lowest similarity to the kept document)", scan.loosest),
    ):
        parts.append(f"<h2>{_e(title)}</h2>")
        if not group:
            parts.append("<p class='muted'>No clusters.</p>")
        for c in group:
            parts.append(
                f"<details><summary>cluster {c['cluster']}: {c['size']:,} documents, kept "
                f"{_e(c['kept'])}, tightness {c['tightness']}</summary>"
            )
            rows = [(m["id"], m["reason"], m["similarity"]) for m in c["members"][:50]]
            parts.append(_table(rows, header=("id", "reason", "similarity")))
            kept_text = texts.get(c["kept"])
            others = [m for m in c["members"] if m["reason"] != "kept"][:SHOW_MEMBERS]
            for m in others:
                other = texts.get(m["id"])
                if kept_text is None or other is None:
                    continue
                parts.append(
                    f"<p>kept <b>{_e(c['kept'])}</b> (left, <del>only there</del>) against "
                    f"<b>{_e(m['id'])}</b> (right, <ins>only there</ins>): {_e(m['reason'])}, "
                    f"similarity {m['similarity']}</p>"
                )
                parts.append(_diff_columns(kept_text, other))
            parts.append("</details>")
    return parts


def _repairs(out: Path, text_field: str, id_field: str) -> list[str]:
    parts = ["<h2>Repaired documents (sample)</h2>"]
    sample = _repaired_sample(out, text_field, id_field)
    if not sample:
        parts.append("<p class='muted'>No document needed a repair.</p>")
    for r, original in sample:
        parts.append(
            f"<details><summary>{_e(r['id'])}: {len(r['removed'])} span(s) removed</summary>"
        )
        if original is not None:
            parts.append(
                "<p><del>removed</del>, <mark>the text it repeats</mark>:</p>"
                f"<div class='text'>{_marked(original, r['removed'])}</div>"
            )
        else:
            for s in r["removed"]:
                parts.append(f"<div class='text'><del>{_e(s['text'])}</del></div>")
        parts.append("</details>")
    return parts


def write_report(
    out_dir: str | Path,
    path: str | Path | None = None,
    thresholds: tuple[tuple[float, float | None], ...] = (),
    text_field: str = "text",
    id_field: str = "id",
    complete: bool = True,
) -> Path:
    """Write the report (default ``OUT_DIR/report.html``) through a temporary file.
    ``path`` must name an ``.html`` file: a report never replaces a run's records or
    an input."""
    import os

    from .errors import ConfigError, FormatError

    target = Path(path) if path else Path(out_dir) / "report.html"
    if target.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"{target}: the report is HTML; name an .html file")
    doc = build_report(out_dir, thresholds, text_field, id_field, complete)
    tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(doc, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        if tmp.is_file():
            tmp.unlink()
        raise FormatError(f"{target}: cannot write the report ({exc.strerror or exc})") from None
    return target
