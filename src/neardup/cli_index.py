"""``neardup index``: a persistent index of kept documents, for crawl after crawl."""

from __future__ import annotations

import click

from .cli_support import fail_on_library_errors, read_text, setting_options
from .config import DedupConfig
from .terminal import safe


@click.group()
def index() -> None:
    """A persistent index of kept documents, for deduplicating crawl after crawl.

    \b
    neardup index create seen.ndx --threshold 0.8      # settings pinned here
    neardup run day1.jsonl -o out1/ --index seen.ndx --update
    neardup run day2.jsonl -o out2/ --index seen.ndx --update   # against day1's kept docs
    neardup index info seen.ndx
    neardup index query seen.ndx doc.txt
    neardup index remove seen.ndx --ids ids.txt
    """


@index.command("create")
@click.argument("path", type=click.Path(dir_okay=False))
@setting_options
@click.option(
    "--store-text",
    is_flag=True,
    help="Also keep each kept document's text (compressed), so that `neardup explain` "
    "shows a diff against a document kept by an earlier batch.",
)
@fail_on_library_errors
def index_create(path, threshold, containment, verify, ngram, num_perm, seed, store_text) -> None:
    """Create an empty index at PATH (one SQLite file) with these settings pinned.

    Runs that use the index take its settings; asking one for other settings is an
    error that names the setting. Repair and normalisation settings are pinned too (the
    defaults of `neardup run`).
    """
    from .index import Index

    config = DedupConfig(
        threshold=threshold, containment=containment, verify=verify, ngram=ngram,
        num_perm=num_perm, seed=seed,
    )  # fmt: skip
    with Index.create(path, config, store_text=store_text) as created:
        click.echo(
            f"neardup index: created {path} (threshold {threshold:g}, {created.bands} bands "
            f"of {created.rows} rows)",
            err=True,
        )


@index.command("info")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@fail_on_library_errors
def index_info(path, as_json) -> None:
    """Settings, document count, size on disk, version and batches of the index at PATH."""
    import json

    from .index import Index

    with Index.open(path) as opened:
        info = opened.info()
        batches = opened.batches()
    if as_json:
        click.echo(json.dumps({**info.to_dict(), "batch_list": batches}, ensure_ascii=False))
        return
    settings = {k: v for k, v in info.settings.items() if k != "clean"}
    click.echo(f"{info.path}: neardup index format {info.format} (created {info.created} "
               f"by neardup {info.neardup})")  # fmt: skip
    click.echo(
        f"documents {info.documents:,}, aliases {info.aliases:,}, batches {info.batches:,}, "
        f"boilerplate paragraphs {info.boilerplate_paragraphs:,}, {info.bytes / 1e6:,.1f} MB "
        f"({info.bytes / max(info.documents, 1):,.0f} bytes per document)"
    )
    click.echo("settings: " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items())))
    for b in batches:
        click.echo(
            f"batch {b['batch']}: {b['added']}, {b['documents']:,} documents read, "
            f"{b['kept']:,} added, {b['aliases']:,} aliases; {safe(', '.join(b['inputs']))}"
        )


@index.command("query")
@click.argument("path", type=click.Path(dir_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many of the nearest documents to show.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
@fail_on_library_errors
def index_query(path, files, top, as_json) -> None:
    """The kept documents of the index nearest each text FILE ('-': standard input).

    The text is repaired and compared as a new batch's document would be; the verdict
    says whether a run with --index would remove it and why.
    """
    import json

    from .index import Index

    with Index.open(path) as opened:
        for name in files:
            found = opened.query(read_text(name), top)
            if as_json:
                click.echo(json.dumps({"query": name, "nearest": found}, ensure_ascii=False))
                continue
            click.echo(f"{safe(name)}: " + ("no indexed document shares a band with it" if not found
                                     else f"{len(found)} nearest"))  # fmt: skip
            for d in found:
                verdict = f"duplicate ({d['duplicate']})" if d["duplicate"] else "not a duplicate"
                s = d["scores"]
                click.echo(
                    f"  {safe(d['id'])}  batch {d['batch']}  similarity {d['similarity']:.3f}  "
                    f"{verdict}  (jaccard {s['jaccard']:.3f}, containment "
                    f"{s['containment']:.3f}, estimated {s['estimated']:.3f})"
                )


@index.command("remove")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--ids", "ids_file", required=True, type=click.Path(allow_dash=True),
              help="File with one document id per line ('-': standard input).")  # fmt: skip
@fail_on_library_errors
def index_remove(path, ids_file) -> None:
    """Remove documents from the index by id (one transaction); later copies of them are
    kept again. Ids not in the index are listed, not an error."""
    from .index import Index

    # one id a line: split on line feeds only (str.splitlines also splits on U+2028 and
    # other separators an id may hold); ids keep inner spaces, lose the line's ends
    ids = [x.strip("\r\n\t ") for x in read_text(ids_file).split("\n") if x.strip()]
    with Index.open(path) as opened:
        removed, missing = opened.remove(ids)
    click.echo(f"neardup index: removed {removed:,} of {len(ids):,} ids from {path}", err=True)
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        click.echo(f"neardup index: {len(missing):,} ids not in the index: {safe(shown)}", err=True)
