"""What the commands of :mod:`neardup.cli` and :mod:`neardup.cli_index` share: the guard
that turns every failure into one line and an exit code, reading a text file, the
progress bar, and the comparison settings' options."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from .config import VERIFY_METHODS, DedupConfig
from .errors import ConfigError, InputError, NeardupError
from .terminal import safe


def fail_on_library_errors(func: Callable) -> Callable:
    """One line on stderr for every failure, never a traceback: usage errors exit 2, the
    rest 1 (``NEARDUP_DEBUG=1`` raises instead, for a bug report)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ConfigError as exc:
            raise click.UsageError(safe(str(exc))) from None
        except InputError as exc:
            hint = exc.rejectable and "rejects" in kwargs and not kwargs["rejects"]
            tail = " (pass --rejects FILE to set bad records aside and go on)" if hint else ""
            raise click.ClickException(safe(str(exc)) + tail) from None
        except NeardupError as exc:
            raise click.ClickException(safe(str(exc))) from None
        except KeyboardInterrupt:
            _interrupted()
        except BrokenPipeError:
            # the reader of stdout went away (`| head`): the output is incomplete, and the
            # interpreter must not fail again flushing stdout on its way out
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.ClickException(
                "standard output was closed before the run finished; the output is incomplete"
            ) from None
        except OSError as exc:
            if _SIGNALLED:  # cleaning up after Ctrl-C or SIGTERM went wrong: still a stop
                _interrupted()
            if os.environ.get("NEARDUP_DEBUG"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(safe(f"{where}{exc.strerror or exc}")) from None
        except Exception as exc:
            _internal(exc)

    return wrapper


#: the signals received (see :func:`catch_signals`)
_SIGNALLED: list[int] = []


def catch_signals() -> None:
    """SIGINT (Ctrl-C) and SIGTERM (kill, a scheduler's timeout) unwind the command as
    KeyboardInterrupt: work folders, temporary outputs and worker processes are cleaned
    up on the way out. An error raised while unwinding (Ctrl-C inside a compiled loop
    comes out of numba as a SystemError) is still reported as the interruption."""
    import signal

    def stop(signum, frame) -> None:
        _SIGNALLED.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _interrupted() -> NoReturn:
    click.echo("neardup: interrupted; no partial output was left behind", err=True)
    sys.exit(130)


def _internal(exc: Exception) -> NoReturn:
    if _SIGNALLED:
        _interrupted()
    if os.environ.get("NEARDUP_DEBUG"):
        raise exc
    raise click.ClickException(
        safe(
            f"internal error ({type(exc).__name__}: {exc}); this is a bug in neardup: please "
            "file an issue with the command line and NEARDUP_DEBUG=1's traceback"
        )
    ) from None


def read_text(path: str) -> str:
    """A whole UTF-8 text file ('-': standard input); an error names the file."""
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: {exc}") from None


def progress(quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(
        desc=desc,
        unit=" docs",
        unit_scale=True,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        mininterval=0.5,
    )


def setting_options(func: Callable) -> Callable:
    """The comparison settings (those an index pins)."""
    defaults = DedupConfig()
    options = [
        click.option(
            "--threshold",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=defaults.threshold,
            show_default=True,
            help="Jaccard similarity (word shingles) at which two documents are near-duplicates.",
        ),
        click.option(
            "--containment",
            type=click.FloatRange(0, 1, min_open=True),
            default=defaults.containment,
            show_default=True,
            help="Share of the smaller document found in the larger one that makes it a "
            "contained (trimmed) copy.",
        ),
        click.option(
            "--verify",
            type=click.Choice(VERIFY_METHODS),
            default=defaults.verify,
            show_default=True,
            help="How candidate pairs are verified: 'containment' (true Jaccard, or "
            "containment for trimmed copies), 'jaccard' (true Jaccard only), "
            "'estimated' (MinHash estimate only, like a plain MinHashLSH script).",
        ),
        click.option(
            "--ngram",
            type=click.IntRange(1, 20),
            default=defaults.ngram,
            show_default=True,
            help="Words per shingle (characters for scripts written without spaces).",
        ),
        click.option(
            "--num-perm",
            type=click.IntRange(16, 1024),
            default=defaults.num_perm,
            show_default=True,
            help="MinHash permutations.",
        ),
        click.option(
            "--seed",
            type=int,
            default=defaults.seed,
            show_default=True,
            help="MinHash seed (datasketch-compatible).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
