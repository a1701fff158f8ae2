"""Settings of every stage, as frozen dataclasses validated on creation."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class NormalizeConfig:
    """Conservative normalisation of the text that is written out.

    Each step can be switched off. Steps run in this order: strip control characters,
    fix mojibake (ftfy), unescape HTML entities, Unicode NFC, collapse whitespace.
    """

    strip_control: bool = True
    fix_mojibake: bool = True
    unescape_html: bool = True
    nfc: bool = True
    collapse_whitespace: bool = True


@dataclass(frozen=True)
class RepairConfig:
    """How repeated runs of text inside one document are found and removed.

    A repeat is a run of at least ``min_words`` words (compared on the aggressive key:
    case, punctuation, quotes and whitespace ignored) that appears earlier in the same
    document. Runs are seeded by repeated word ``ngram``-grams and chained across gaps of
    at most ``max_gap`` words (a typo, an inserted "Advertisement" line); at least
    ``min_density`` of the span must match word for word and the two copies must score at
    least ``min_similarity`` with rapidfuzz's ``ratio``. Both ends of the removed copy must
    fall on a sentence or paragraph boundary (within ``max_gap`` words). Text whose words
    typically occur more than ``max_copies`` times in the document is the author's
    template (a menu, a table), not a scrape fault, and is left alone. A text longer than
    ``max_chars`` characters (no article is) is passed through unrepaired, with reason
    ``too-large`` in the audit, so that one hostile document cannot stall a run.
    """

    enabled: bool = True
    min_words: int = 50
    ngram: int = 5
    max_gap: int = 8
    min_density: float = 0.8
    min_similarity: float = 0.85
    max_copies: int = 3
    max_rounds: int = 16
    max_chars: int = 1_000_000

    def __post_init__(self) -> None:
        if self.ngram < 2:
            raise ConfigError(f"repair ngram must be at least 2, got {self.ngram}")
        if self.min_words < self.ngram:
            raise ConfigError(
                f"repair min_words ({self.min_words}) must be at least ngram ({self.ngram})"
            )
        if self.max_gap < 0:
            raise ConfigError(f"repair max_gap must be >= 0, got {self.max_gap}")
        for name in ("min_density", "min_similarity"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"repair {name} must be between 0 and 1, got {value}")
        if self.max_copies < 2:
            raise ConfigError(f"repair max_copies must be >= 2, got {self.max_copies}")
        if self.max_chars < 1:
            raise ConfigError(f"repair max_chars must be >= 1, got {self.max_chars}")
        if self.max_rounds < 1:
            raise ConfigError(f"repair max_rounds must be >= 1, got {self.max_rounds}")


@dataclass(frozen=True)
class CleanConfig:
    """Settings of the ``clean`` stage: normalisation then repair."""

    normalize: NormalizeConfig = NormalizeConfig()
    repair: RepairConfig = RepairConfig()


@dataclass(frozen=True)
class SiteConfig:
    """Settings of site boilerplate learning (:mod:`neardup.sites`).

    A line is boilerplate of a site when it is found in at least ``min_docs`` documents
    of that site and in at least ``min_share`` of them (documents that copy one another
    count once). ``field`` names the record field that says the site: a URL (its host,
    without ``www.``) or any other value used as it is. ``max_lines`` bounds the memory of
    the counter: past that many distinct (site, line) pairs, lines seen once so far are
    dropped from it (counts can only come out low, so text is never removed by mistake).
    """

    min_docs: int = 3
    min_share: float = 0.1
    field: str = "url"
    max_lines: int = 8_000_000

    def __post_init__(self) -> None:
        if self.min_docs < 2:
            raise ConfigError(f"site boilerplate min_docs must be >= 2, got {self.min_docs}")
        if not 0.0 < self.min_share <= 1.0:
            raise ConfigError(f"site boilerplate min_share must be in (0, 1], got {self.min_share}")
        if self.max_lines < 1000:
            raise ConfigError(f"site boilerplate max_lines must be >= 1000, got {self.max_lines}")


VERIFY_METHODS = ("containment", "jaccard", "fuzzy", "estimated")


@dataclass(frozen=True)
class DedupConfig:
    """Settings of corpus deduplication.

    Documents are compared on word ``ngram`` shingles of their repaired text, minus the
    paragraphs that are *corpus boilerplate*: a paragraph found in at least
    ``boilerplate_min_docs`` distinct stories (republished copies count once; and at least
    ``boilerplate_min_share`` of them) whose documents carry a median of at least
    ``boilerplate_min_rest_words`` words outside such paragraphs (a footer appended to
    many different stories; a story republished many times has little else around it
    and stays content, and so does a template page with a path filled in).

    MinHash signatures (``num_perm``, ``seed``, datasketch's ``affine32`` scheme) and
    LSH bands chosen for ``threshold`` find candidate pairs; each pair is verified on the
    true shingle sets: ``near`` when Jaccard >= ``threshold``, ``contained`` when the
    smaller document's shingles are at least ``containment`` inside the larger (with
    ``verify="containment"``, the default), or ``estimated`` (MinHash estimate only).

    With ``verify="containment"``, a pair the shingles leave just short (Jaccard >= 0.45
    or containment >= 0.6) gets a second look on its texts: linked when its comparison
    keys, without boilerplate paragraphs, align at level ``aligned`` or more
    (:func:`neardup.verify.aligned_ratio`: character noise, a new headline over a short
    story, a template page with its path filled in). ``aligned=1.0`` leaves only exact
    alignments.
    """

    threshold: float = 0.7
    containment: float = 0.8
    verify: str = "containment"
    ngram: int = 3
    num_perm: int = 128
    seed: int = 1
    keep: str = "first"
    boilerplate_min_docs: int = 10
    boilerplate_min_share: float = 0.0005
    boilerplate_min_rest_words: int = 25
    aligned: float = 0.85

    @property
    def candidate_threshold(self) -> float:
        """The Jaccard level LSH bands are tuned for. A copy trimmed to half its
        original, fully contained in it, has Jaccard about 0.5 with it: with containment
        verification, candidates are gathered from 0.5 (or the threshold, if lower)."""
        if self.verify in ("containment", "fuzzy"):
            return min(self.threshold, 0.5)
        return self.threshold

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(
                f"threshold must be between 0 and 1 (exclusive), got {self.threshold}"
            )
        if not 0.0 < self.containment <= 1.0:
            raise ConfigError(f"containment must be in (0, 1], got {self.containment}")
        if self.verify not in VERIFY_METHODS:
            raise ConfigError(
                f"unknown verify method {self.verify!r}; choose one of {', '.join(VERIFY_METHODS)}"
            )
        if self.ngram < 1:
            raise ConfigError(f"ngram must be >= 1, got {self.ngram}")
        if not 16 <= self.num_perm <= 1024:
            raise ConfigError(f"num_perm must be between 16 and 1024, got {self.num_perm}")
        if not 0 <= self.seed < 2**32:  # datasketch draws its permutations from it
            raise ConfigError(f"seed must be between 0 and 2**32 - 1, got {self.seed}")
        if not 0.0 < self.aligned <= 1.0:
            raise ConfigError(f"aligned must be in (0, 1], got {self.aligned}")
        if self.boilerplate_min_docs < 2:
            raise ConfigError("boilerplate_min_docs must be >= 2")
