"""Repair quality on the dev set built from real articles in ../shared/data
(benchmarks/repair_devset.py): every clean article untouched, >= 98% of faults repaired."""

from __future__ import annotations

from pathlib import Path

from neardup import repair_text


def test_repair_devset(shared_data: Path) -> None:
    import repair_devset

    cases = list(repair_devset.build(seed=0))
    result = repair_devset.score(cases, lambda c: repair_text(c.text).text)
    controls = result.pop("control")
    assert controls["docs"] > 2500
    assert controls["ok"] == controls["docs"], "a clean article was changed"
    ok = sum(r["ok"] for r in result.values())
    docs = sum(r["docs"] for r in result.values())
    assert docs > 2000 and ok / docs >= 0.98, result
    # every fault kind is mostly repaired, none is left behind
    assert all(r["rate"] >= 0.9 for r in result.values()), result
