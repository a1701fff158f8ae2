"""neardup: clean and deduplicate scraped text corpora.

The public API is small:

* :func:`dedup`, :func:`clean` - deduplicate or repair a list, a pandas or polars
  DataFrame, a pyarrow Table or a Hugging Face Dataset in memory, with the CLI's
  decisions (:mod:`neardup.api`);
* :func:`repair_text` - normalise one text and remove what the scraper captured twice;
* :func:`normalize_text`, :func:`comparison_key` - the conservative and the comparison
  normalisation;
* :func:`read_documents`, :func:`read_texts`, :func:`open_writer` - streaming readers
  (:func:`read_texts` also extracts the main text of HTML/WARC/ARC pages) and atomic
  writers;
* :func:`clean_documents`, :func:`run_clean` - the clean stage over a stream or files;
* :class:`Index` - the persistent index of kept documents (``neardup index``);
* :class:`SiteConfig` - site boilerplate learning (:mod:`neardup.sites`);
* the config dataclasses and :class:`NeardupError` with its subclasses.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neardup")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from . import api as _api
from .config import CleanConfig, DedupConfig, NormalizeConfig, RepairConfig, SiteConfig
from .dedup import DedupStats, run_dedup
from .document import Document
from .errors import ConfigError, FormatError, InputError, MissingDependencyError, NeardupError
from .index import Index
from .io import Reject, open_writer, read_documents, read_texts
from .normalize import comparison_key, normalize_text
from .pipeline import CleanStats, clean_documents, run_clean
from .repair import RemovedSpan, Repair, repair_text

# set after every import: ``neardup.dedup`` is the function, not the submodule of that name
# (which stays in sys.modules, where ``from neardup.dedup import run_dedup`` finds it)
dedup = _api.dedup
clean = _api.clean
DedupResult = _api.DedupResult
CleanResult = _api.CleanResult

__all__ = [
    "CleanResult",
    "DedupResult",
    "clean",
    "dedup",
    "CleanConfig",
    "CleanStats",
    "DedupConfig",
    "DedupStats",
    "ConfigError",
    "Document",
    "FormatError",
    "Index",
    "InputError",
    "MissingDependencyError",
    "NeardupError",
    "NormalizeConfig",
    "Reject",
    "RemovedSpan",
    "Repair",
    "RepairConfig",
    "SiteConfig",
    "__version__",
    "clean_documents",
    "comparison_key",
    "normalize_text",
    "open_writer",
    "read_documents",
    "read_texts",
    "repair_text",
    "run_clean",
    "run_dedup",
]
