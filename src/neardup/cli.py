"""Command line: ``neardup clean``, ``dedup``, ``run``, ``explain``, ``report`` (and
``index``, in :mod:`neardup.cli_index`). The only place that prints to users and sets
exit codes (0 ok, 1 failure, 2 usage): see :func:`neardup.cli_support.fail_on_library_errors`."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable

import click

from . import __version__, kernels
from .cli_index import index
from .cli_support import (
    catch_signals,
    fail_on_library_errors,
    progress,
    read_text,
    setting_options,
)
from .config import (
    CleanConfig,
    DedupConfig,
    NormalizeConfig,
    RepairConfig,
    SiteConfig,
)
from .engines import ENGINES, keep_freed_memory
from .io import FORMATS, WRITE_FORMATS
from .terminal import safe


def reading_options(func: Callable) -> Callable:
    """Options every command that reads records shares."""
    options = [
        click.argument(
            "inputs", nargs=-1, required=True, metavar="INPUT...", type=click.Path(allow_dash=True)
        ),
        click.option(
            "--format",
            "input_format",
            type=click.Choice(FORMATS),
            help="Input format (default: from the suffix; '-' reads JSONL).",
        ),
        click.option(
            "--text-field",
            default="text",
            show_default=True,
            help="Field (column) holding the document text.",
        ),
        click.option(
            "--id-field",
            default="id",
            show_default=True,
            help="Field holding the document id; absent ids become FILE:LINE.",
        ),
        click.option(
            "-j",
            "--workers",
            type=click.IntRange(min=0),
            default=None,
            help="Worker processes (0 = one per CPU core; default 1, with --engine ray "
            "every core). Output order does not change.",
        ),
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="local",
            show_default=True,
            help="Where the per-batch work runs: local processes, or Ray tasks (a local "
            "Ray on -j cores, or the cluster of --ray-address); same outputs. "
            "ray: pip install 'neardup[ray]'.",
        ),
        click.option(
            "--ray-address",
            envvar="RAY_ADDRESS",
            show_envvar=True,
            help="With --engine ray: the Ray cluster to run on (set by `ray job submit`); "
            "none: start a local Ray.",
        ),
        click.option(
            "--rejects",
            type=click.Path(dir_okay=False),
            help="Write unreadable records here (JSONL with file, line, error) and go on; "
            "without it the first bad record stops the run.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _workers(workers: int | None, engine: str) -> int:
    """-j as a number of workers: 0 is every core, and so is no -j for the Ray engine."""
    if workers is None:
        workers = 0 if engine == "ray" else 1
    return workers or os.cpu_count() or 1


def entry() -> None:
    """The console script. A closed stderr (``2>&-``) silences messages instead of
    failing the run."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    catch_signals()
    main()


def site_options(default: bool) -> Callable:
    """--site-boilerplate and its settings (on by default in ``run``)."""
    defaults = SiteConfig()

    def decorate(func: Callable) -> Callable:
        for option in reversed(
            [
                click.option(
                    "--site-boilerplate/--no-site-boilerplate",
                    default=default,
                    show_default=True,
                    help="Learn the lines each site repeats on many of its pages (a share "
                    "line, a newsletter box, a disclaimer) and remove them; two passes.",
                ),
                click.option(
                    "--site-field",
                    default=defaults.field,
                    show_default=True,
                    help="Field saying the site: a URL (its host is the site) or any value.",
                ),
                click.option(
                    "--site-min-docs",
                    type=click.IntRange(min=2),
                    default=defaults.min_docs,
                    show_default=True,
                    help="A boilerplate line is on at least this many documents of its site...",
                ),
                click.option(
                    "--site-min-share",
                    type=click.FloatRange(0, 1, min_open=True),
                    default=defaults.min_share,
                    show_default=True,
                    help="...and on at least this share of them (copies of a document count once).",
                ),
            ]
        ):
            func = option(func)
        return func

    return decorate


def _site_config(on: bool, field: str, min_docs: int, min_share: float) -> SiteConfig | None:
    return SiteConfig(min_docs=min_docs, min_share=min_share, field=field) if on else None


def _site_summary(command: str, stats) -> None:
    learned = stats.site_boilerplate or {}
    click.echo(
        f"neardup {command}: site boilerplate: {learned.get('lines', 0):,} lines learned on "
        f"{learned.get('sites', 0):,} sites; {stats.site_lines_removed:,} lines removed from "
        f"{stats.site_documents:,} documents",
        err=True,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neardup")
def main() -> None:
    """Clean and deduplicate scraped text corpora.

    \b
    neardup clean   repair documents: scraped-twice bodies, mojibake, entities, whitespace
    neardup dedup   find exact and near-duplicate documents, keep one per cluster
    neardup run     the main job: clean + dedup, all outputs into one folder
    neardup explain why a document was kept, removed or repaired
    neardup report  the HTML report of a run folder
    neardup index   a persistent index of kept documents, for crawl after crawl
    """
    kernels.skip_blas_check()  # a process of our own: see the functions
    keep_freed_memory()


@main.result_callback()
def _done(*_: object, **__: object) -> None:
    """The command is done and the process ends: objects alive now are frozen, so that
    the interpreter's last garbage collection does not walk them all (0.12 s after a
    dedup of 100k documents)."""
    gc.freeze()


def output_options(output_help: str, format_help: str):
    """The ``-o/--output`` and ``--output-format`` options of a command that writes
    records."""

    def wrap(f):
        f = click.option("--output-format", type=click.Choice(WRITE_FORMATS), help=format_help)(f)
        return click.option(
            "-o", "--output", required=True, type=click.Path(allow_dash=True), help=output_help
        )(f)

    return wrap


@main.command()
@reading_options
@output_options(
    "Output file ('-' for stdout; a path ending in / writes one .txt per document).",
    "Output format (default: from the suffix; for '-' the input's format).",
)
@click.option(
    "--audit",
    type=click.Path(dir_okay=False),
    help="Write one JSON line per repaired document: the spans removed and what they repeat.",
)
@click.option("--no-repair", is_flag=True, help="Only normalise; do not remove repeated runs.")
@click.option(
    "--min-repeat-words",
    type=click.IntRange(min=2),
    default=RepairConfig.min_words,
    show_default=True,
    help="Shortest repeated run (in words) that repair removes.",
)
@click.option("--no-fix-mojibake", is_flag=True, help="Keep mojibake (do not run ftfy).")
@click.option("--no-unescape-html", is_flag=True, help="Keep HTML entities such as &amp;.")
@click.option("--no-nfc", is_flag=True, help="Skip Unicode NFC normalisation.")
@click.option("--no-collapse-whitespace", is_flag=True, help="Keep runs of spaces and blank lines.")
@click.option("--no-strip-control", is_flag=True, help="Keep control characters.")
@site_options(default=False)
@fail_on_library_errors
def clean(
    inputs,
    input_format,
    text_field,
    id_field,
    workers,
    engine,
    ray_address,
    rejects,
    quiet,
    output,
    output_format,
    audit,
    no_repair,
    min_repeat_words,
    no_fix_mojibake,
    no_unescape_html,
    no_nfc,
    no_collapse_whitespace,
    no_strip_control,
    site_boilerplate,
    site_field,
    site_min_docs,
    site_min_share,
) -> None:
    """Repair every document of INPUT... and write them to OUTPUT.

    Keeps one complete copy of text the scraper captured twice (the whole body, the body
    after the lead, a block of paragraphs, a copy cut off mid-sentence, a copy with typos
    or ad lines between its paragraphs), leaves text that repeats on purpose alone, fixes
    mojibake, HTML entities, control characters and whitespace. Every other field of a
    record passes through unchanged.

    \b
    Examples:
      neardup clean scraped.jsonl -o clean.jsonl --audit repairs.jsonl
      neardup clean article.txt -o fixed.txt
      cat scraped.jsonl | neardup clean - -o - > clean.jsonl
      neardup clean pages/ -o pages.jsonl                   (a folder of .html/.html.gz)
      neardup clean crawl.warc.gz -o pages.jsonl --site-boilerplate
    """
    from .pipeline import run_clean

    config = CleanConfig(
        normalize=NormalizeConfig(
            strip_control=not no_strip_control,
            fix_mojibake=not no_fix_mojibake,
            unescape_html=not no_unescape_html,
            nfc=not no_nfc,
            collapse_whitespace=not no_collapse_whitespace,
        ),
        repair=RepairConfig(enabled=not no_repair, min_words=min_repeat_words),
    )
    with progress(quiet, "clean") as bar:
        stats = run_clean(
            inputs,
            output,
            config,
            input_format=input_format,
            output_format=output_format,
            text_field=text_field,
            id_field=id_field,
            workers=_workers(workers, engine),
            rejects=rejects,
            audit=audit,
            progress=bar.update,
            site=_site_config(site_boilerplate, site_field, site_min_docs, site_min_share),
            engine=engine,
            ray_address=ray_address if engine == "ray" else None,
        )
    if not quiet:
        click.echo(
            f"neardup clean: read {stats.read:,} = written {stats.written:,} + rejected "
            f"{stats.rejected:,}; repaired {stats.repaired:,} "
            f"({stats.spans_removed:,} spans, {stats.chars_removed:,} chars removed), "
            f"normalised {stats.normalized:,}; {kernels.path()}",
            err=True,
        )
        if site_boilerplate:
            _site_summary("clean", stats)
        _skips_and_rejects("clean", stats, rejects)


def dedup_options(func: Callable) -> Callable:
    """Options of the commands that deduplicate."""
    defaults = DedupConfig()
    options = [
        click.option(
            "--keep",
            default=defaults.keep,
            show_default=True,
            help="Which document a cluster keeps: first, longest, field:NAME (largest "
            "value, e.g. the newest date) or -field:NAME (smallest). Ties: input order.",
        ),
        click.option(
            "--workdir",
            type=click.Path(file_okay=False),
            help="Folder for the intermediate files (default: a temporary folder, removed "
            "at the end). A later run on the same inputs with the same reading and repair "
            "settings resumes from it after the read + repair pass.",
        ),
        click.option(
            "--dedupe-ids",
            is_flag=True,
            help="Rename repeated ids (id#2, id#3, ...) instead of stopping the run.",
        ),
        click.option(
            "--index",
            type=click.Path(dir_okay=False),
            help="Also deduplicate against the documents kept before, in this index "
            "(see `neardup index create`); its settings are used.",
        ),
        click.option(
            "--update",
            is_flag=True,
            help="With --index: add this run's kept documents to the index (one "
            "transaction, once the outputs are written).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return setting_options(func)


def _run_dedup_command(command: str, opts: dict, **outputs) -> None:
    """What `dedup` and `run` share: build the settings from the options, run, summarise."""
    from .dedup import run_dedup

    config = DedupConfig(
        threshold=opts["threshold"], containment=opts["containment"], verify=opts["verify"],
        ngram=opts["ngram"], num_perm=opts["num_perm"], seed=opts["seed"], keep=opts["keep"],
    )  # fmt: skip
    if opts["update"] and not opts["index"]:
        raise click.UsageError("--update needs --index FILE")
    if opts["index"]:
        from .index import PINNED, Index

        # the index's settings, unless the user asked for others (then an error says so)
        ctx = click.get_current_context()
        given = {
            k: opts[k]
            for k in PINNED
            if ctx.get_parameter_source(k) not in (None, click.core.ParameterSource.DEFAULT)
        }
        with Index.open(opts["index"]) as index:
            config = index.dedup_config(given, base=config)
    with progress(opts["quiet"], command) as bar:
        stats = run_dedup(
            opts["inputs"], config=config, input_format=opts["input_format"],
            text_field=opts["text_field"], id_field=opts["id_field"],
            workers=_workers(opts["workers"], opts["engine"]), rejects=opts["rejects"],
            engine=opts["engine"],
            ray_address=opts["ray_address"] if opts["engine"] == "ray" else None,
            dedupe_ids=opts["dedupe_ids"], workdir=opts["workdir"], progress=bar.update,
            index=opts["index"], update=opts["update"],
            site=_site_config(opts["site_boilerplate"], opts["site_field"],
                              opts["site_min_docs"], opts["site_min_share"]),
            **outputs,
        )  # fmt: skip
    if not opts["quiet"]:
        click.echo(_dedup_summary(command, stats), err=True)
        if stats.keep_field_records == 0 and stats.read > stats.rejected:
            click.echo(
                f"neardup {command}: warning: no record has the field of --keep "
                f"{safe(str(opts['keep']))}; each cluster kept its first document",
                err=True,
            )
        if opts["site_boilerplate"]:
            _site_summary(command, stats)
        _skips_and_rejects(command, stats, opts["rejects"])
        if opts["index"]:
            added = f"; added as batch {stats.index_batch}" if stats.index_batch else ""
            click.echo(
                f"neardup {command}: index {opts['index']}: {stats.index_removed:,} removed as "
                f"duplicates of documents kept before ({stats.index_documents:,} of them "
                f"compared){added}",
                err=True,
            )


def _skips_and_rejects(command: str, stats, rejects: str | None) -> None:
    """The summary lines of skipped crawl records (by reason) and the rejects file."""
    if stats.skipped:
        reasons = ", ".join(
            f"{reason} {n:,}"
            for reason, n in sorted(stats.skipped_reasons.items(), key=lambda kv: -kv[1])
        )
        click.echo(
            f"neardup {command}: of the rejected, {stats.skipped:,} records were skipped "
            f"(not pages with text): {reasons}",
            err=True,
        )
    if stats.rejected and rejects:
        click.echo(f"neardup {command}: rejected records are in {safe(rejects)}", err=True)


def _dedup_summary(command: str, stats) -> str:
    return (
        f"neardup {command}: read {stats.read:,} = kept {stats.kept:,} + removed {stats.removed:,} "
        f"+ rejected {stats.rejected:,}; {stats.clusters:,} clusters (removed: exact "
        f"{stats.exact_removed:,}, near {stats.near_removed:,}, contained "
        f"{stats.contained_removed:,}); repaired {stats.repaired:,}; "
        f"{stats.candidate_pairs:,} candidate pairs, {stats.verified_pairs:,} verified; "
        f"{kernels.path()}"
        + (f"; resumed: {', '.join(stats.resumed_stages)}" if stats.resumed_stages else "")
    )


@main.command()
@reading_options
@dedup_options
@output_options(
    "Kept records, as they came in ('-' for stdout).",
    "Format of the kept records (default: from the suffix).",
)
@click.option(
    "--removed",
    type=click.Path(dir_okay=False),
    help="Removed records (JSONL) with duplicate_of, cluster, similarity and reason.",
)
@click.option(
    "--clusters",
    "clusters_out",
    type=click.Path(dir_okay=False),
    help="One JSON line per cluster of two or more: kept id, members, reasons, scores.",
)
@click.option(
    "--stats",
    "stats_out",
    type=click.Path(dir_okay=False),
    help="Counters, timings per stage and settings (JSON).",
)
@site_options(default=False)
@fail_on_library_errors
def dedup(output, output_format, removed, clusters_out, stats_out, **opts) -> None:
    """Find exact and near-duplicate documents of INPUT... and keep one per cluster.

    Documents are compared on their repaired text (see `neardup clean`), so a copy
    scraped twice still matches its original; the kept records are written as they
    came in. Paragraphs that many documents carry around different text (a site footer,
    a legal disclaimer) are left out of the comparison.

    \b
    Example:
      neardup dedup crawl.jsonl -o kept.jsonl --removed removed.jsonl --clusters clusters.jsonl
    """
    _run_dedup_command(
        "dedup", opts, kept=output, output_format=output_format, removed=removed,
        clusters_out=clusters_out, stats_out=stats_out,
    )  # fmt: skip


@main.command()
@reading_options
@dedup_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder: kept, removed, clusters, repairs and stats files.",
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Write OUTPUT/report.html (see `neardup report`).",
)
@site_options(default=True)
@fail_on_library_errors
def run(output, report, **opts) -> None:
    """The main job: repair every document of INPUT..., deduplicate, write OUTPUT/.

    \b
    OUTPUT/kept.jsonl      kept records with the repaired text (kept.csv / kept.parquet
                           for CSV / Parquet input)
    OUTPUT/removed.jsonl   removed records with duplicate_of, cluster, similarity, reason
    OUTPUT/clusters.jsonl  one line per cluster of two or more
    OUTPUT/repairs.jsonl   one line per repaired document: the spans removed
    OUTPUT/site_boilerplate.jsonl  one line per document that lost site boilerplate
                           lines: the lines, their site, frequency and share
    OUTPUT/stats.json      counters, timings per stage, settings
    OUTPUT/pairs.npz       every pair scored (for what-if reports)
    OUTPUT/report.html     the HTML report (unless --no-report)
    OUTPUT/complete.json   written last: the run finished (a new run first removes
                           the files an earlier one left; a failed run removes its own)
    (unreadable records go to --rejects FILE when given; otherwise the first one stops the
    run; crawl records that are not pages are skipped and counted by reason)

    \b
    Examples:
      neardup run crawl/*.jsonl.zst -o out/
      neardup run crawl/*.warc.gz -o out/      (pages: pip install 'neardup[html]')
      neardup run s3://bucket/crawl/ -o s3://bucket/out/   (pip install 'neardup[cloud]' s3fs)
    """
    from pathlib import Path

    from . import runfolder
    from .io.paths import is_uri
    from .io.remote import expand_inputs

    if output == "-":
        raise click.UsageError("run writes a folder of outputs: -o names that folder, not stdout")
    opts["inputs"] = expand_inputs(opts["inputs"])  # folder and pattern URIs: their files
    with runfolder.staged(output, opts["inputs"]) as folder:  # a URI: staged, then uploaded
        _write_run_folder(folder, report, opts)
    if not opts["quiet"]:
        shown = output.rstrip("/") if is_uri(output) else str(Path(output))
        click.echo(f"neardup run: outputs in {safe(shown)}/", err=True)


def _write_run_folder(output: str, report: bool, opts: dict) -> None:
    """`run` into the local folder ``output``: clear what an earlier run left, run, write
    the report and the marker; a failed run removes what it wrote."""
    from pathlib import Path

    from . import runfolder
    from .io import default_output_format

    out = Path(output)
    if out.exists() and not out.is_dir():
        raise click.UsageError(f"{output} exists and is not a folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    family = default_output_format(opts["inputs"], opts["input_format"])
    suffix = {"csv": "csv", "parquet": "parquet"}.get(family, "jsonl")
    outputs = dict(
        kept=f"kept.{suffix}", removed="removed.jsonl", clusters_out="clusters.jsonl",
        repairs_out="repairs.jsonl", stats_out="stats.json", pairs_out="pairs.npz",
        site_out="site_boilerplate.jsonl",
    )  # fmt: skip
    # check every path before anything is removed: a run that would overwrite its own
    # input must not first clear it away
    from .io.writers import check_paths

    check_paths(opts["inputs"], [str(out / n) for n in (*outputs.values(), "report.html")])
    runfolder.clear(out)
    try:
        _run_dedup_command(
            "run", opts, output_format=suffix, write_repaired=True,
            **{k: str(out / v) for k, v in outputs.items()},
        )  # fmt: skip
        if report:
            from .report import write_report

            write_report(out, text_field=opts["text_field"], id_field=opts["id_field"],
                         complete=False)  # fmt: skip
        written = [n for n in (*outputs.values(), "report.html") if (out / n).is_file()]
        runfolder.mark_complete(out, written)
    except BaseException:
        with contextlib.suppress(OSError):  # keep the error that stopped the run
            runfolder.clear(out)  # no half-written run left to be read as a finished one
            if created and not any(out.iterdir()):
                out.rmdir()  # nor a folder this run made
        raise


def _output_fields(func: Callable) -> Callable:
    """--text-field / --id-field of the commands that read a run's output folder."""
    func = click.option(
        "--id-field", default="id", show_default=True, help="Id field of the records."
    )(func)
    return click.option(
        "--text-field", default="text", show_default=True, help="Text field of the records."
    )(func)


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="OUT_DIR ID | --text A B")
@click.option(
    "--text",
    "texts",
    is_flag=True,
    help="Compare two text files instead: scores, verdict and a word diff.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_output_fields
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="With --text: Jaccard threshold (default: dedup's).",
)
@fail_on_library_errors
def explain(paths, texts, as_json, text_field, id_field, threshold) -> None:
    """Why a document of a `neardup run` folder was kept, removed or repaired.

    For a removed document: its cluster, the kept document, the scores that linked them
    (Jaccard, containment, MinHash estimate, rapidfuzz) and a word diff of the two texts.
    For a repaired one: each span removed and the span it repeats. With --text, how
    similar two text files are, whether dedup would link them, and where they differ.

    \b
    Examples:
      neardup explain out/ d00123
      neardup explain --text a.txt b.txt
    """
    import json

    from .explain import compare_texts, explain_document, render_comparison, render_explanation

    color = not as_json and sys.stdout.isatty()
    if texts:
        if len(paths) != 2:
            raise click.UsageError("--text takes two files: neardup explain --text A B")
        contents = [read_text(path) for path in paths]
        config = DedupConfig() if threshold is None else DedupConfig(threshold=threshold)
        result = compare_texts(contents[0], contents[1], config)
        click.echo(
            json.dumps(result, ensure_ascii=False) if as_json else render_comparison(result, color)
        )
        return
    if len(paths) != 2:
        raise click.UsageError("give a run folder and a document id: neardup explain OUT_DIR ID")
    result = explain_document(paths[0], paths[1], text_field, id_field)
    click.echo(
        json.dumps(result, ensure_ascii=False) if as_json else render_explanation(result, color)
    )


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Report file [default: OUT_DIR/report.html].",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Also show how many documents would be removed at this Jaccard threshold "
    "(replayed from the run's scores, no re-run; repeatable).",
)
@click.option(
    "--containment",
    type=click.FloatRange(0, 1, min_open=True),
    help="Containment level for the --threshold rows (default: the run's).",
)
@_output_fields
@fail_on_library_errors
def report(out_dir, output, thresholds, containment, text_field, id_field) -> None:
    """Write a self-contained HTML report of a `neardup run` folder.

    Summary with counts that add up, histograms of similarities and cluster sizes,
    what-if removals at other thresholds, the largest and loosest clusters with word
    diffs against the kept document, repaired documents with the removed spans marked,
    and the settings. No script, no network request; every document text is escaped.

    \b
    Example:
      neardup report out/ -o out/report.html --threshold 0.9
    """
    from .report import write_report
    from .whatif import what_if_many

    asked = tuple((t, containment) for t in thresholds)
    path = write_report(out_dir, output, asked, text_field, id_field)
    for w in what_if_many(out_dir, asked):
        note = "" if w.exact else f" (lower bound: {w.note})"
        click.echo(
            f"at threshold {w.threshold:g}, containment {w.containment:g}: {w.removed:,} documents "
            f"removed in {w.clusters:,} clusters{note}",
            err=True,
        )
    click.echo(f"neardup report: {safe(str(path))}", err=True)


# ---------------------------------------------------------------------------- index


main.add_command(index)
