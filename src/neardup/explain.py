"""Why a document was kept, removed or repaired (``neardup explain``), and how similar
two texts are and where they differ.

Everything is read back from the files of a ``neardup run`` folder: ``stats.json``
(settings), ``removed.jsonl``, ``clusters.jsonl``, ``repairs.jsonl`` and the kept
records; the original text of a repaired document is read again from the input file and
line that ``repairs.jsonl`` names.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .config import DedupConfig
from .document import Document
from .errors import InputError, NeardupError
from .io import read_documents
from .io.formats import record_id
from .normalize import normalize_text
from .repair import INSERTED_LINE
from .runfolder import check_complete, read_stats
from .shingles import words
from .terminal import safe

#: equal runs longer than this many words are shortened in diffs
CONTEXT_WORDS = 12


# ------------------------------------------------------------------------------ diffs


#: the largest product of the two middles' lengths (in words) aligned word by word
#: (a second or so); two texts of 20,000 differing words each are at this limit
MAX_ALIGNED = 400_000_000


def word_diff(a: str, b: str) -> list[tuple[str, str, str]]:
    """Aligned word diff of two texts: ``(tag, text of a, text of b)`` with tag
    ``equal``, ``replace``, ``delete`` (only in a) or ``insert`` (only in b). Words are
    compared as neardup compares them (case-folded, punctuation ignored) and shown as
    written; the alignment is rapidfuzz's Levenshtein opcodes over the words."""
    from rapidfuzz.distance import Levenshtein

    ta, tb = a.split(), b.split()
    ka, kb = [_key(w) for w in ta], [_key(w) for w in tb]
    # the words both texts start and end with are equal runs; only the middle is aligned
    head = 0
    while head < min(len(ka), len(kb)) and ka[head] == kb[head]:
        head += 1
    tail = 0
    while tail < min(len(ka), len(kb)) - head and ka[-1 - tail] == kb[-1 - tail]:
        tail += 1
    ma, mb = ka[head : len(ka) - tail], kb[head : len(kb) - tail]
    out = [("equal", " ".join(ta[:head]), " ".join(tb[:head]))] if head else []
    if len(ma) * len(mb) > MAX_ALIGNED:
        # the alignment costs the product of the lengths: past this, the middle is shown
        # as one replaced run rather than taking minutes
        out.append(
            ("replace", " ".join(ta[head : len(ta) - tail]), " ".join(tb[head : len(tb) - tail]))
        )
    else:
        for op in Levenshtein.opcodes(ma, mb):
            out.append(
                (
                    op.tag,
                    " ".join(ta[head + op.src_start : head + op.src_end]),
                    " ".join(tb[head + op.dest_start : head + op.dest_end]),
                )
            )
    if tail:
        out.append(("equal", " ".join(ta[len(ta) - tail :]), " ".join(tb[len(tb) - tail :])))
    return [op for op in out if op[1] or op[2]]


def _key(word: str) -> str:
    return " ".join(words(word)) or word


def render_diff(diff: list[tuple[str, str, str]], color: bool = False) -> str:
    """The diff as text: ``[-only in a-]``, ``{+only in b+}``, long equal runs
    shortened (red and green instead of brackets with ``color``)."""
    parts = []
    for tag, x, y in diff:
        x, y = safe(x), safe(y)  # texts may hold terminal escapes (--no-strip-control)
        if tag == "equal":
            ws = x.split()
            if len(ws) > 2 * CONTEXT_WORDS:
                skipped = len(ws) - 2 * CONTEXT_WORDS
                x = (
                    " ".join(ws[:CONTEXT_WORDS])
                    + f" ... ({skipped} equal words) ... "
                    + " ".join(ws[-CONTEXT_WORDS:])
                )
            parts.append(x)
            continue
        if x:
            parts.append(f"\x1b[31m{x}\x1b[0m" if color else f"[-{x}-]")
        if y:
            parts.append(f"\x1b[32m{y}\x1b[0m" if color else f"{{+{y}+}}")
    return " ".join(parts)


# ------------------------------------------------------------------------ two texts


#: the largest product of two texts' lengths (characters) whose rapidfuzz ratio is
#: computed (about a second); past it the ratio is left out, never minutes of work
MAX_FUZZY = 25_000_000_000


def _fuzzy(a: str, b: str) -> float | None:
    """rapidfuzz's Indel similarity of two texts, rounded; None for texts too long."""
    from rapidfuzz.distance import Indel

    if len(a) * len(b) > MAX_FUZZY:
        return None
    return round(Indel.normalized_similarity(a, b), 4)


def compare_texts(a: str, b: str, config: DedupConfig | None = None) -> dict:
    """Scores of two texts as ``neardup dedup`` computes them for a candidate pair
    (each text repaired first; without a corpus there is no boilerplate to leave out),
    the verdict at ``config``'s settings and the word diff of the repaired texts."""
    from .arrays import sorted_unique
    from .dedup import features
    from .repair import repair_text
    from .signatures import minhash_many
    from .verify import aligned_ratio, decide, near_miss, score_pair

    config = config or DedupConfig()
    texts = [repair_text(t).text for t in (a, b)]
    feats = [features(t, config.ngram, keep_key=True) for t in texts]
    sh = [sorted_unique(f.shingles) for f in feats]
    sigs = minhash_many(sh, config.num_perm, config.seed)
    score = score_pair(sh[0], sh[1], sigs[0], sigs[1])
    fuzzy = _fuzzy(feats[0].key_text or "", feats[1].key_text or "")
    verdict = "exact" if feats[0].key == feats[1].key else None
    second = {}
    if verdict is None:
        verdict = decide(score, config.threshold, config.containment, config.verify)
        small = min(score.sizes)
        if (
            verdict is None
            and config.verify == "containment"
            and near_miss(
                np.array([score.jaccard]), np.array([score.containment]), np.array([small])
            )[0]
            and fuzzy is not None  # (texts too long for any alignment)
        ):  # the second look dedup gives a near miss (no corpus: no boilerplate)
            aligned = aligned_ratio(feats[0].key_text or "", feats[1].key_text or "")
            second = {"aligned": round(aligned, 4)}
            score = dataclasses.replace(score, fuzzy=aligned)
            verdict = decide(
                score, config.threshold, config.containment, config.verify, config.aligned
            )
    return {
        "verdict": verdict or "different",
        "scores": score.to_dict() | {"fuzzy": fuzzy} | second,
        "settings": {
            "threshold": config.threshold,
            "containment": config.containment,
            "verify": config.verify,
            "ngram": config.ngram,
            "aligned": config.aligned,
        },
        "diff": word_diff(texts[0], texts[1]),
    }


# ------------------------------------------------------------------ one document


def _jsonl(path: Path) -> Iterator[dict]:
    """The records of a run's JSONL file (none when it is absent); a damaged line is an
    error naming the file and line."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="surrogateescape") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    raise InputError("damaged line (not a JSON object); run `neardup run` again",
                                     str(path), number)  # fmt: skip
                yield record


def _kept_file(out: Path) -> Path | None:
    for suffix in ("jsonl", "csv", "parquet"):
        if (out / f"kept.{suffix}").exists():
            return out / f"kept.{suffix}"
    return None


def _text_in_index(out: Path, doc_id: str) -> str | None:
    """Text of a document kept by an earlier batch, from the index the run used (when it
    stores texts: ``neardup index create --store-text``)."""
    from .index import Index

    try:
        path = read_stats(out).get("index")
        if not path or not Path(path).is_file():
            return None
        with Index.open(path) as index:
            return index.text(doc_id)
    except (OSError, ValueError, NeardupError):
        return None


def _find_text(out: Path, doc_id: str, text_field: str, id_field: str) -> str | None:
    """Text of ``doc_id`` among the kept records, or, for a record that had no id (its
    id is FILE:LINE), from its input file and line; None if neither has it."""
    path = _kept_file(out)
    if path is not None:
        for doc in read_documents(str(path), None, text_field, id_field):
            if getattr(doc, "id", None) == doc_id:
                return doc.text
    where, _, line = doc_id.rpartition(":")
    if where and line.isdigit():
        return _original_text({"file": where, "line": int(line)}, text_field, id_field)
    return None


def input_texts(
    wanted: Iterable[tuple[str, int]], text_field: str = "text", id_field: str = "id"
) -> dict[tuple[str, int], str]:
    """Texts of the input records at (file, line), each file read once up to the last
    line wanted; files that cannot be read again (standard input, gone) are left out."""
    by_file: dict[str, set[int]] = {}
    for path, line in wanted:
        if path and line and path != "-" and Path(path).is_file():
            by_file.setdefault(path, set()).add(line)
    found: dict[tuple[str, int], str] = {}
    for path, lines in by_file.items():
        last = max(lines)
        for doc in read_documents(path, None, text_field, id_field):
            line = getattr(doc, "line", 0)
            if line in lines and isinstance(doc, Document):
                text = doc.text
                if doc.raw is not None:  # a page: extract its text again
                    from .io.web import extract_page

                    got = extract_page(doc.raw, doc.record.get("url"), doc.raw_type)
                    text = got["text"] if isinstance(got, dict) else ""
                found[(path, line)] = text
            if line >= last:
                break
    return found


def _original_text(entry: dict, text_field: str, id_field: str) -> str | None:
    """The input text of a repaired document, from the file and line it came from."""
    where = (entry.get("file"), entry.get("line"))
    return input_texts([where], text_field, id_field).get(where)


def explain_document(
    out_dir: str | Path, doc_id: str, text_field: str = "text", id_field: str = "id"
) -> dict:
    """Everything the run in ``out_dir`` decided about ``doc_id``: ``status`` (kept,
    removed), its cluster and kept document, the scores that linked them with a word
    diff, and the repairs (spans removed, with the spans they repeat)."""
    out = check_complete(out_dir)
    result: dict = {"id": doc_id, "status": None}
    removed = next(
        (r for r in _jsonl(out / "removed.jsonl")
         if r.get(id_field) is not None and record_id(r[id_field]) == doc_id),
        None,
    )  # fmt: skip
    cluster = None
    for c in _jsonl(out / "clusters.jsonl"):
        if any(m["id"] == doc_id for m in c["members"]):
            cluster = c
            break
    if removed is not None:
        result["status"] = "removed"
        member = next(m for m in cluster["members"] if m["id"] == doc_id) if cluster else {}
        result |= {
            "reason": removed.get("reason"),
            "duplicate_of": removed.get("duplicate_of"),
            "cluster": removed.get("cluster"),
            "similarity": removed.get("similarity"),
            "scores": member.get("scores"),
        }
        kept_member = next(
            (m for m in (cluster or {}).get("members", []) if m.get("reason") == "kept"), {}
        )
        if kept_member.get("indexed"):
            result["kept_in_index"] = True  # kept by an earlier batch of a --index run
        if result.get("kept_in_index"):
            kept_text = _text_in_index(out, removed["duplicate_of"])
            result["kept_text_stored"] = kept_text is not None
        else:
            kept_text = _find_text(out, removed["duplicate_of"], text_field, id_field)
        own_text = removed.get(text_field)
        if kept_text is not None and isinstance(own_text, str):
            result["fuzzy"] = _fuzzy(" ".join(words(kept_text)), " ".join(words(own_text)))
            result["diff"] = word_diff(kept_text, own_text)
    else:
        text = _find_text(out, doc_id, text_field, id_field)
        if text is not None:
            result["status"] = "kept"
            if cluster is not None:
                result["cluster"] = cluster["cluster"]
                result["members"] = [m for m in cluster["members"] if m["id"] != doc_id]
    repair = next((r for r in _jsonl(out / "repairs.jsonl") if r.get("id") == doc_id), None)
    if repair is not None:
        spans = []
        original = _original_text(repair, text_field, id_field)
        normalized = normalize_text(original) if original is not None else None
        if normalized is not None and any(
            "text" in span and normalized[span["start"] : span["end"]] != span["text"]
            for span in repair["removed"]
        ):  # the input was rewritten since the run: its text is no longer this one's
            normalized = None
            result["input_changed"] = True
        for span in repair["removed"]:
            item = dict(span)
            if normalized is not None and span.get("repeats"):
                s, e = span["repeats"]
                item["repeats_text"] = normalized[s:e]
            spans.append(item)
        result["repairs"] = {"normalized": repair.get("normalized", []), "removed": spans}
    site_path = out / "site_boilerplate.jsonl"
    if site_path.exists():
        site = next((r for r in _jsonl(site_path) if r.get("id") == doc_id), None)
        if site is not None:
            result["site_boilerplate"] = site["removed"]
    if result["status"] is None and repair is None:
        raise InputError(f"{doc_id!r}: no such document in {out} (kept, removed or repaired)")
    return result


def render_explanation(e: dict, color: bool = False) -> str:
    """:func:`explain_document`'s result as text for a terminal."""
    lines = []
    if e["status"] == "removed":
        lines.append(
            f"{safe(e['id'])}: REMOVED as a {e['reason']} duplicate of {safe(e['duplicate_of'])} "
            f"(cluster {safe(str(e['cluster']))}, similarity {e['similarity']})"
        )
        if e.get("reason") == "exact":
            lines.append(
                "  verification: same comparison key (case, punctuation and spacing aside)"
            )
        elif e.get("scores"):
            s = e["scores"]
            lines.append(
                f"  scores against the kept document: Jaccard {s['jaccard']}, containment "
                f"{s['containment']}, MinHash estimate {s['estimated']}, shingles "
                f"{s['shingles'][0]} / {s['shingles'][1]}"
                + (f", rapidfuzz {_shown(e['fuzzy'])}" if "fuzzy" in e else "")
            )
            if "fuzzy" in s:  # linked by the second look on the texts
                how = (
                    f"second look: its text, without boilerplate, aligns with the kept "
                    f"document's at {s['fuzzy']} (character noise, a new headline over a "
                    "short text, a template page with its path filled in)"
                )
            elif e["reason"] == "near":
                how = "Jaccard at or above the threshold"
            else:
                how = "contained: its shingles are found in the kept document"
            lines.append("  verification: " + how)
        if e.get("kept_in_index"):
            lines.append(
                f"  {safe(e['duplicate_of'])} was kept by an earlier batch (it is in the --index)"
                + (
                    ""
                    if e.get("kept_text_stored")
                    else "; the index has no texts (create it "
                    "with --store-text for diffs), so there is no diff"
                )  # fmt: skip
            )
        if "diff" in e:
            lines.append("  diff ([-kept only-] {+this document only+}):")
            lines.append("    " + render_diff(e["diff"], color))
    elif e["status"] == "kept":
        if e.get("members"):
            lines.append(
                f"{safe(e['id'])}: KEPT for cluster {safe(str(e['cluster']))}; removed as its duplicates:"
            )
            for m in e["members"]:
                lines.append(f"  {safe(m['id'])}: {m['reason']}, similarity {m['similarity']}")
        else:
            lines.append(f"{safe(e['id'])}: KEPT (no duplicate found)")
    if e.get("repairs"):
        r = e["repairs"]
        if e.get("input_changed"):
            lines.append("  (the input file changed since the run: the repeated text is not shown)")
        if r["normalized"]:
            lines.append(f"  normalised: {', '.join(r['normalized'])}")
        for span in r["removed"]:
            # an inserted line repeats nothing: the other copy lacks it
            lacking = span["reason"] == INSERTED_LINE
            how = "lacking from the copy at" if lacking else "repeating"
            lines.append(
                f"  repaired: removed {span['words']} words at {span['start']}-{span['end']} "
                f"({span['reason']}, similarity {span['similarity']}) {how} "
                f"{span['repeats'][0]}-{span['repeats'][1]}:"
            )
            lines.append(f"    removed: {_clip(span['text'])}")
            if "repeats_text" in span:
                label = "that copy" if lacking else "repeats"
                lines.append(f"    {label}: {_clip(span['repeats_text'])}")
    for line in e.get("site_boilerplate", []):
        lines.append(
            f"  site boilerplate of {safe(line['site'])}: removed {_clip(line['text'])!r} (on "
            f"{line['frequency']:,} documents of the site, {line['share']:.0%})"
        )
    return "\n".join(lines)


def render_comparison(c: dict, color: bool = False) -> str:
    s = c["scores"]
    return "\n".join(
        [
            f"verdict: {c['verdict'].upper()} (threshold {c['settings']['threshold']}, "
            f"containment {c['settings']['containment']}, verify {c['settings']['verify']})",
            f"Jaccard {s['jaccard']}, containment {s['containment']}, MinHash estimate "
            f"{s['estimated']}, rapidfuzz {_shown(s['fuzzy'])}, shingles {s['shingles'][0]} / "
            f"{s['shingles'][1]} (word {c['settings']['ngram']}-grams)"
            + (f", second look: aligned {s['aligned']}" if "aligned" in s else ""),
            "diff ([-first only-] {+second only+}):",
            render_diff(c["diff"], color),
        ]
    )


def _shown(fuzzy: float | None) -> str:
    return "not computed (texts too long)" if fuzzy is None else str(fuzzy)


def _clip(text: str, n: int = 160) -> str:
    text = safe(" ".join(text.split()))
    return text if len(text) <= n else text[: n - 3] + "..."
