"""datatrove's sentence dedup (3 stages: signatures of 3-sentence windows, find
duplicates, filter) over a JSONL file of documents (``id``, ``text``), with its default
SentDedupConfig. Writes OUT.jsonl with ``id`` and the filtered ``text`` (empty when
datatrove dropped the document: under 50 words or 3 sentences after filtering).

    python benchmarks/peers/datatrove_sentence_dedup.py DOCS.jsonl OUT.jsonl WORKDIR

Runs in the peers' virtual environment (benchmarks/compare.py creates it).
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path


def main() -> None:
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.sentence_dedup import (
        SentDedupConfig,
        SentenceDedupFilter,
        SentenceDedupSignature,
        SentenceFindDedups,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    docs, out, work = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    shutil.copy(docs, work / "in" / "docs.jsonl")

    def reader():
        return JsonlReader(str(work / "in"), glob_pattern="*.jsonl", id_key="id")

    config = SentDedupConfig()  # its defaults (passed explicitly: 0.10.1 needs it)
    steps = [
        [reader(), SentenceDedupSignature(str(work / "sigs"), config=config)],
        [SentenceFindDedups(str(work / "sigs"), str(work / "dups"), config=config)],
        [
            reader(),
            SentenceDedupFilter(str(work / "dups"), config=config),
            JsonlWriter(str(work / "kept")),
        ],
    ]
    for i, pipeline in enumerate(steps):
        LocalPipelineExecutor(pipeline, tasks=1, logging_dir=str(work / "logs" / str(i))).run()
    texts: dict[str, str] = {}
    for path in sorted((work / "kept").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                texts[d["id"]] = d["text"]
    with docs.open(encoding="utf-8") as f, out.open("w", encoding="utf-8") as w:
        for line in f:
            doc_id = json.loads(line)["id"]
            w.write(json.dumps({"id": doc_id, "text": texts.get(doc_id, "")}) + "\n")


if __name__ == "__main__":
    main()
