"""Command line: ``neardup clean``. The only place that prints to users and sets exit
codes (0 ok, 1 failure, 2 usage)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

import click

from . import __version__
from .config import CleanConfig, NormalizeConfig, RepairConfig
from .errors import ConfigError, NeardupError
from .io import FORMATS


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
            default=1,
            show_default=True,
            help="Worker processes (0 = one per CPU core). Output order does not change.",
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


def _fail_on_library_errors(func: Callable) -> Callable:
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        except NeardupError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("neardup: interrupted; no partial output was left behind", err=True)
            sys.exit(130)

    return wrapper


def _progress(quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(
        desc=desc,
        unit=" docs",
        unit_scale=True,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        mininterval=0.5,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neardup")
def main() -> None:
    """Clean and deduplicate scraped text corpora.

    \b
    neardup clean   repair documents: scraped-twice bodies, mojibake, entities, whitespace
    """


@main.command()
@reading_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(allow_dash=True),
    help="Output file ('-' for stdout; a path ending in / writes one .txt per document).",
)
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    help="Output format (default: from the suffix; for '-' the input's format).",
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
@_fail_on_library_errors
def clean(
    inputs,
    input_format,
    text_field,
    id_field,
    workers,
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
    with _progress(quiet, "clean") as bar:
        stats = run_clean(
            inputs,
            output,
            config,
            input_format=input_format,
            output_format=output_format,
            text_field=text_field,
            id_field=id_field,
            workers=workers or os.cpu_count() or 1,
            rejects=rejects,
            audit=audit,
            progress=bar.update,
        )
    if not quiet:
        click.echo(
            f"neardup clean: read {stats.read:,} = written {stats.written:,} + rejected "
            f"{stats.rejected:,}; repaired {stats.repaired:,} "
            f"({stats.spans_removed:,} spans, {stats.chars_removed:,} chars removed), "
            f"normalised {stats.normalized:,}",
            err=True,
        )
        if stats.rejected:
            click.echo(f"neardup clean: rejected records are in {rejects}", err=True)
