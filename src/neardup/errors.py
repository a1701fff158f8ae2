"""Exceptions raised by neardup.

Every message says what went wrong, where (file and line when known) and what to
do next. Only :mod:`neardup.cli` turns them into exit codes.
"""

from __future__ import annotations


class NeardupError(Exception):
    """Base class of every error neardup raises on purpose."""


class ConfigError(NeardupError, ValueError):
    """A setting has an invalid value (raised when the config object is created)."""


class InputError(NeardupError):
    """A record of the input cannot be used, or a file cannot be read.

    ``path`` and ``line`` locate the record (``line`` is 1-based; for Parquet it is the
    row number, for a directory of text files it is 1). ``rejectable``: the record could
    have been set aside with ``--rejects`` (the command line then says so).
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        rejectable: bool = False,
    ):
        self.reason = message
        self.path = path
        self.line = line
        self.rejectable = rejectable
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class FormatError(NeardupError):
    """The file format cannot be determined or is not supported."""


class MissingDependencyError(NeardupError, ImportError):
    """An optional dependency is needed for this feature; the message has the install line."""

    def __init__(self, module: str, extra: str, feature: str):
        super().__init__(
            f"{feature} needs the optional dependency {module!r}. "
            f"Install it with: pip install 'neardup[{extra}]'"
        )
