"""Repair inside a document: behaviour, audit records, and hypothesis properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neardup import CleanConfig, ConfigError, RepairConfig, normalize_text, repair_text
from neardup.repair import remove_repeats
from neardup.shingles import SEPARATORS as TOKEN_SEPARATORS


def _vocab(size: int = 3000) -> list[str]:
    rng = random.Random(0)
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice("abcdefghiklmnoprstuvwy") for _ in range(rng.randint(3, 9))))
    return sorted(words)


VOCAB = _vocab()


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(VOCAB) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def paragraph(rng: random.Random, words: int) -> str:
    out, left = [], words
    while left > 0:
        n = min(left, rng.randint(8, 20))
        out.append(sentence(rng, max(n, 2)))
        left -= n
    return " ".join(out)


@st.composite
def articles(draw, min_paragraphs: int = 2, max_paragraphs: int = 6):
    """Prose made of random words: 2-6 paragraphs of 25-60 words (no repeated runs)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    n = draw(st.integers(min_paragraphs, max_paragraphs))
    return [paragraph(rng, rng.randint(25, 60)) for _ in range(n)]


SEPARATORS = st.sampled_from(["\n\n", "\n", " "])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(), SEPARATORS)
def test_text_without_repeated_run_is_unchanged(paras, sep) -> None:
    text = sep.join(paras)
    result = repair_text(text)
    assert result.text == normalize_text(text)
    assert result.removed == ()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(), SEPARATORS, SEPARATORS)
def test_repair_of_x_twice_equals_repair_of_x(paras, sep, join) -> None:
    """repair(X + X) == repair(X) for X of two or more paragraphs (at least min_words words)."""
    x = sep.join(paras)
    assert repair_text(x + join + x).text == repair_text(x).text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(min_paragraphs=3), st.data())
def test_repair_is_idempotent(paras, data) -> None:
    # build a faulted text (random repeats of random blocks) and repair it twice
    faulted = list(paras)
    for _ in range(data.draw(st.integers(0, 3))):
        i = data.draw(st.integers(0, len(faulted) - 1))
        j = data.draw(st.integers(i + 1, len(faulted)))
        at = data.draw(st.integers(j, len(faulted)))
        faulted[at:at] = faulted[i:j]
    once = repair_text("\n\n".join(faulted)).text
    assert repair_text(once).text == once


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300))
def test_repair_is_idempotent_on_arbitrary_text(text) -> None:
    once = repair_text(text).text
    assert repair_text(once).text == once


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles(min_paragraphs=3))
def test_removed_spans_point_at_what_they_repeat(paras) -> None:
    text = "\n\n".join(paras + paras[1:])
    result = repair_text(text)
    assert result.text == "\n\n".join(paras)
    for span in result.removed:
        assert text[span.start : span.end] == span.text
        kept = text[span.repeats_start : span.repeats_end]
        assert kept and span.similarity >= RepairConfig().min_similarity
        assert span.repeats_end <= span.start  # the copy kept comes first


def test_short_line_repeated_alone_is_left_alone() -> None:
    rng = random.Random(1)
    text = "\n\n".join([paragraph(rng, 40), "Photo: Reuters", paragraph(rng, 40), "Photo: Reuters"])
    assert repair_text(text).text == text


def test_repeated_paragraph_below_min_words_is_kept_and_threshold_is_a_setting() -> None:
    rng = random.Random(2)
    block = paragraph(rng, 30)
    text = "\n\n".join([paragraph(rng, 40), block, block, paragraph(rng, 40)])
    assert repair_text(text).text == text  # 30 words: could be the author's choice
    small = CleanConfig(repair=RepairConfig(min_words=20))
    fixed = repair_text(text, small)
    assert fixed.text.count(block) == 1 and len(fixed.removed) == 1


def test_template_repeated_many_times_is_left_alone() -> None:
    """A block repeated more than max_copies times is a template (menu, offers)."""
    rng = random.Random(3)
    block = paragraph(rng, 60)
    parts = [paragraph(rng, 30)]
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        parts += [f"Menu for {day}", block]
    text = "\n\n".join(parts)
    assert repair_text(text).text == text


def test_first_copy_cut_off_keeps_the_complete_copy() -> None:
    rng = random.Random(4)
    paras = [paragraph(rng, 40) for _ in range(4)]
    full = "\n\n".join(paras)
    cut = full[: len(full) // 2].rstrip(". ")
    result = repair_text(cut + "\n\n" + full)
    assert result.text == full
    assert result.removed[0].reason == "truncated-copy"


def test_repair_can_be_switched_off() -> None:
    rng = random.Random(5)
    x = "\n\n".join(paragraph(rng, 40) for _ in range(3))
    off = CleanConfig(repair=RepairConfig(enabled=False))
    assert repair_text(x + "\n\n" + x, off).text == x + "\n\n" + x


def test_remove_repeats_works_on_raw_text_offsets() -> None:
    rng = random.Random(6)
    x = "\n\n".join(paragraph(rng, 40) for _ in range(3))
    text = x + "\n\n" + x
    out, spans = remove_repeats(text)
    assert out.strip() == x
    assert text[spans[0].start : spans[0].end] == spans[0].text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ngram": 1},
        {"min_words": 3, "ngram": 5},
        {"max_gap": -1},
        {"min_density": 1.5},
        {"min_similarity": -0.1},
        {"max_copies": 1},
        {"max_rounds": 0},
    ],
)
def test_invalid_repair_settings_fail_on_creation(kwargs) -> None:
    with pytest.raises(ConfigError):
        RepairConfig(**kwargs)


def test_cjk_text_doubled_is_repaired() -> None:
    rng = random.Random(7)
    chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"

    def para(n):
        return "".join(rng.choice(chars) for _ in range(n)) + "。"

    x = "\n".join(para(rng.randint(40, 80)) for _ in range(3))
    assert repair_text(x + "\n" + x).text == x


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=40, max_size=260),
    st.integers(0, 200),
    st.integers(45, 120),
    st.lists(st.integers(0, 119), max_size=6),
)
def test_quick_test_never_hides_a_repeat_the_full_search_finds(base, at, length, typos) -> None:
    """The cheap gate (:func:`_may_repeat`) is a necessary condition: whenever the full
    search finds a repeat, the gate lets the text through. Texts from a small
    vocabulary (so short phrases recur by chance), with a block copied further on,
    typos in the copy."""
    from neardup.repair import _find_best_repeat, _may_repeat
    from neardup.shingles import words

    vocab = [f"w{i}" for i in range(41)]
    toks = [vocab[i] for i in base]
    block = toks[at % len(toks) : at % len(toks) + length]
    copy = list(block)
    for t in typos:
        if t < len(copy):
            copy[t] = "typo"
    sentences = toks + ["."] + copy
    text = " ".join(sentences).replace(" .", ".\n")
    config = RepairConfig()
    if _find_best_repeat(text, config) is not None:
        assert _may_repeat(text, config, words(text))


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("ab ?\n\x00\x1b\u00c3\u00e2\u00a9\u0420\u20ac\u2122\ufffd\x85")
        | st.sampled_from(TOKEN_SEPARATORS),
        max_size=30,
    )
)
def test_mojibake_fast_path_only_skips_texts_without_signs(text) -> None:
    """A text the quick test lets through holds none of the signs the full check looks
    for (so ftfy would not have been called on it either)."""
    from neardup.normalize import _MOJIBAKE_SIGNS, _only_lone_separators

    if _only_lone_separators(text):
        assert not any(sign.search(text) for sign in _MOJIBAKE_SIGNS)


def test_a_text_over_max_chars_is_passed_through_with_a_reason() -> None:
    rng = random.Random(8)
    body = "\n\n".join(paragraph(rng, 60) for _ in range(3))
    doubled = body + "\n\n" + body
    assert repair_text(doubled).text == body  # repaired under the limit
    config = CleanConfig(repair=RepairConfig(max_chars=len(doubled) - 1))
    result = repair_text(doubled, config)
    assert result.text == doubled and result.skipped == "too-large" and not result.removed


def test_a_real_repeat_is_found_among_many_template_chains() -> None:
    """A text of two words at random has thousands of repeated chains (each a template):
    the search stops after a bounded number of them, and a real doubled body next to
    such a text is still repaired."""
    rng = random.Random(9)
    noise = " ".join(rng.choice(["foo", "bar"]) for _ in range(3000))
    assert repair_text(noise).text == noise
    body = "\n\n".join(paragraph(rng, 60) for _ in range(3))
    assert repair_text(body + "\n\n" + body).text == body


def test_a_truncated_first_copy_of_a_short_paragraph_goes_and_a_headline_stays() -> None:
    """Lazy loading: a paragraph cut inside a word, then the full paragraph (far under
    min_words). A headline that is the first words of its lead stays, and so does a line
    that ends a sentence."""
    full = "Government agrees deal to import milk from abroad, officials said on Monday."
    result = repair_text(f"Milk deal\n\nGovernment agrees deal to import mil\n\n{full}")
    assert result.text == f"Milk deal\n\n{full}"
    assert [s.reason for s in result.removed] == ["truncated-copy"]
    for kept in (
        f"Government agrees deal\n\n{full}",  # a headline: the lead's first words
        f"Government agrees deal to import milk.\n\n{full}",  # a sentence of its own
        "Government agrees deal to import mil\n\nSomething else entirely here.",
    ):
        assert repair_text(kept).text == kept
    # cut at a word boundary after many words: a truncated copy too
    rng = random.Random(3)
    long = paragraph(rng, 45)
    cut = " ".join(long.split()[:25]).rstrip(".")
    assert repair_text(f"{cut}\n\n{long}").text == long


def test_below_the_first_line_a_shorter_cut_start_is_a_fragment() -> None:
    """A headline made of its lead's first words stands at the top of a text; below
    another line, the first words of the next paragraph cut at a word boundary are a
    lazy-loading fragment from 8 words. A title followed by itself with the site's name
    ("... - Reuters") is no fragment, and under 8 words nothing goes."""
    full = "Government agrees deal to import milk from abroad, officials said on Monday."
    head = "Government agrees deal to import milk from abroad"  # 8 words, at a word end
    assert repair_text(f"{head}\n\n{full}").text == f"{head}\n\n{full}"  # a headline
    result = repair_text(f"Milk deal\n\n{head}\n\n{full}")
    assert result.text == f"Milk deal\n\n{full}"
    assert [s.reason for s in result.removed] == ["truncated-copy"]
    for kept in (
        f"Milk deal\n\n{head}\n\n{head} - Reuters\n\n{full}",
        f"Milk deal\n\n{' '.join(head.split()[:7])}\n\n{full}",
    ):
        assert repair_text(kept).text == kept, kept


def test_a_fragment_on_the_same_line_or_marked_as_cut_goes() -> None:
    """The cut-off start of a paragraph glued to it on the same line, or ending in an
    ellipsis (a teaser), or spread over the lines of a hard-wrapped paragraph, goes; a
    short line said twice and a refrain on lines of their own stay."""
    full = "Government agrees deal to import milk from abroad, officials said on Monday."
    for faulted in (
        f"Milk deal\n\nGovernment agrees deal to import mil {full}",  # inside a word
        f"Milk deal\n\nGovernment agrees deal to import milk from abroad {full}",  # 8 words
        f"Milk deal\n\nGovernment agrees deal to\u2026\n{full}",  # a teaser
        f"Milk deal\n\nGovernment agrees deal to import [...] {full}",
    ):
        result = repair_text(faulted)
        assert result.text == f"Milk deal\n\n{full}", faulted
        assert [s.reason for s in result.removed] == ["truncated-copy"]
    wrapped = "Government agrees deal to import\nmilk from abroad, officials said\non Monday."
    faulted = f"Milk deal\n\nGovernment agrees deal to import\nmilk fr\n\n{wrapped}\n\nEnd."
    assert repair_text(faulted).text == f"Milk deal\n\n{wrapped}\n\nEnd."
    for kept in (
        "Let it be, let it be, let it be, there will be an answer.",  # under 8 words
        "Intro.\n\n" + "ha " * 20 + "ha",  # repeats itself all along: no fragment
        "The chorus:\n\nCall me when the sirens stop\nCall me when the sirens stop\nAnd sing",
        f"Government agrees deal. {full}",  # a sentence of its own
    ):
        assert repair_text(kept).text == kept, kept


def test_a_block_found_three_times_with_other_text_between_is_the_authors() -> None:
    """A questionnaire prints the same long question before each candidate's answer: a
    repeat found three times or more, with different text between the copies, is the
    author's structure. A body scraped three times, one copy after another, is not."""
    rng = random.Random(11)
    question = "Question: " + paragraph(rng, 55)
    parts = [paragraph(rng, 40)]
    for name in ("Maria Okafor", "James Brennan", "Aisha Lopez"):
        parts += [name, question, paragraph(rng, 25)]
    text = "\n\n".join(parts + [paragraph(rng, 30)])
    assert repair_text(text).text == text
    # the same question before two answers only: a block scraped twice
    two = "\n\n".join(parts[:7])
    assert repair_text(two).text.count(question) == 1
    body = "\n\n".join(paragraph(rng, 40) for _ in range(3))
    assert repair_text("\n\n".join([body] * 3)).text == body


@pytest.mark.parametrize("flat", [" ", "\n"])
def test_the_copy_with_paragraph_breaks_is_kept_whichever_comes_first(flat) -> None:
    """Two copies with the same words, one with its paragraph breaks lost (flat on one
    line, or single line breaks): the copy with the paragraphs is kept."""
    rng = random.Random(12)
    paras = [paragraph(rng, 35) for _ in range(4)]
    body = "\n\n".join(paras)
    for text in (
        f"Headline\n\n{flat.join(paras)}\n\n{body}",
        f"Headline\n\n{body}\n\n{flat.join(paras)}",
    ):
        result = repair_text(text)
        assert result.text == f"Headline\n\n{body}", text[:40]
        assert [s.reason for s in result.removed] == ["repeat"]


def test_a_last_line_that_echoes_the_start_stays_with_the_first_copy() -> None:
    """A body whose last line repeats its headline (or says it again with a word before)
    runs straight on into the start of the second copy: the first copy keeps that line,
    with two copies and with three. Signs that start the cut's first line (a copyright
    mark) go with it."""
    rng = random.Random(13)
    head = "Wide range of investment opportunities at the conference"
    body = "\n\n".join([head, *(paragraph(rng, 40) for _ in range(3)), head])
    for n in (2, 3):
        assert repair_text("\n\n".join([head] + [body] * n)).text == f"{head}\n\n{body}"
    echo = "\n\n".join([*(paragraph(rng, 40) for _ in range(3)), f"So {head.lower()}? We listen."])
    for n in (2, 3):
        text = "\n\n".join([f"'{head}?' | A. Writer"] + [echo] * n)
        assert repair_text(text).text == f"'{head}?' | A. Writer\n\n{echo}"
    marked = "\u00a9 Provided by Example Inc\n" + "\n\n".join(paragraph(rng, 40) for _ in range(2))
    assert repair_text(f"Title\n\n{marked}\n\n{marked}").text == f"Title\n\n{marked}"


def test_a_line_of_its_own_inside_the_second_copy_goes_with_it() -> None:
    """An ad line of 11 words between two paragraphs of the second copy (longer than the
    max_gap words a chain bridges) goes with the copy."""
    rng = random.Random(14)
    paras = [paragraph(rng, 45) for _ in range(4)]
    body = "\n\n".join(paras)
    ad = "Sign up to our free daily newsletter for the latest headlines"
    for at in (1, 3):
        second = "\n\n".join([*paras[:at], ad, *paras[at:]])
        assert repair_text(f"{body}\n\n{second}").text == body


def test_lines_that_differ_by_a_word_are_no_copy_of_each_other() -> None:
    """A share bar: lines that differ by a word or two make a run that goes on over its
    own copy, every copy one line long (under min_words). It stays."""
    rng = random.Random(15)
    bar = "\n\n".join(
        f"{click}, um {how} zu {what} (Wird in neuem Fenster ge\u00f6ffnet)"
        for click, how, what in (
            ("Klick", "auf Facebook", "teilen"), ("Klicken", "auf Google+", "teilen"),
            ("Klicken", "auf Twitter", "teilen"), ("Klicken", "auf LinkedIn", "teilen"),
            ("Klicken", "bei Tumblr", "teilen"), ("Klicken", "bei Pinterest", "teilen"),
            ("Klicken", "dies einem Freund via E-Mail", "senden"),
        )
    )  # fmt: skip
    text = "\n\n".join([paragraph(rng, 40), paragraph(rng, 40), bar])
    assert repair_text(text).text == text


# ----------------------------------------------------------------- lines one copy lacks


def _body(seed: int, n: int = 6) -> list[str]:
    rng = random.Random(seed)
    return [paragraph(rng, rng.randint(30, 50)) for _ in range(n)]


def _with_lines(paras: list[str], at: dict[int, str]) -> str:
    """The paragraphs joined by blank lines, with line ``at[i]`` put before paragraph i."""
    out = []
    for i, p in enumerate(paras):
        if i in at:
            out.append(at[i])
        out.append(p)
    return "\n\n".join(out)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({2: "Advertisement"}, {}),  # ads in the copy that is kept
        ({1: "Advertisement\nContinue reading below", 4: "Anzeige"}, {}),  # a two-line ad
        ({2: "Sign up to our free daily newsletter for the latest headlines"}, {4: "Werbung"}),
        ({1: "Advertisement", 3: "Publicité"}, {2: "Continue reading the main story"}),
        ({2: "Anzeige"}, {2: "Werbung"}),  # each copy its own ad at one place
    ],
)
def test_lines_the_other_copy_lacks_are_removed_from_the_kept_copy(first, second) -> None:
    paras = _body(11)
    clean = "\n\n".join(paras)
    result = repair_text(_with_lines(paras, first) + "\n\n" + _with_lines(paras, second))
    assert result.text == normalize_text(clean)
    inserted = [s for s in result.removed if s.reason == "inserted-line"]
    # one removed span per line, each from the copy that was kept
    assert sorted(s.text.strip() for s in inserted) == sorted(
        line for lines in first.values() for line in lines.split("\n")
    )


def test_a_line_both_copies_hold_or_one_holds_edited_stays() -> None:
    paras = _body(12)
    short = "Earthling"
    first = _with_lines(paras, {2: short, 4: "The answer"})
    # the other copy has the line with a typo, and the other short line as it is
    second = _with_lines(paras, {2: "Eatrhling", 4: "The answer"})
    result = repair_text(first + "\n\n" + second)
    assert result.removed and result.text == normalize_text(first)
    assert all(s.reason != "inserted-line" for s in result.removed)


def test_lines_past_the_end_of_a_shorter_copy_are_not_lacking() -> None:
    # the kept copy goes on after the other ends (a truncated copy): its short lines there
    # (a signature, a credit) are the article's, not ads
    paras = _body(13)
    kept = _with_lines(paras, {5: "Photo: Reuters"}) + "\n\nBy our reporter"
    cut = "\n\n".join(paras[:4]) + "..."
    result = repair_text(cut + "\n\n" + kept)
    assert result.removed  # the shorter copy went
    assert "Photo: Reuters" in result.text and "By our reporter" in result.text
    assert all(s.reason != "inserted-line" for s in result.removed)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({2: "Photo: the harbour bridge at dawn"}, {4: "Photo: the harbour bridge at dawn"}),
        ({2: "$45"}, {2: "$49"}),  # the line edited: a price
        ({2: "The mayor has refused to comment."}, {}),  # a one-line paragraph, not an ad
        ({2: "Advertisement"}, {4: "Advertisement"}),  # an ad both copies hold
    ],
)
def test_a_line_the_other_copy_holds_elsewhere_edited_or_a_sentence_stays(first, second) -> None:
    """What the other copy holds elsewhere (a caption moved), holds edited in its place,
    or a sentence, is no inserted line: the kept copy keeps it."""
    paras = _body(14)
    kept = _with_lines(paras, first)
    result = repair_text(kept + "\n\n" + _with_lines(paras, second))
    assert result.removed and result.text == normalize_text(kept)
    assert all(s.reason != "inserted-line" for s in result.removed)


def test_every_removed_span_is_the_input_text_at_its_offsets() -> None:
    """Three copies, the middle one with an ad: the ad goes in the first round, the copy
    around it in the second; each span's text is still the input's text at its offsets."""
    paras = _body(15)
    doc = "Title\n" + "\n".join(paras) + "\n" + _with_lines(paras, {2: "Advertisement"})
    doc += "\n" + "\n".join(paras)
    result = repair_text(doc)
    normalized = normalize_text(doc)
    assert len(result.removed) >= 2
    for span in result.removed:
        assert normalized[span.start : span.end] == span.text


def test_a_number_that_goes_on_is_no_cut_word() -> None:
    # "2.1" before "2.10" is another value: the line is no lazy-loaded fragment
    kept = "Changes\n\nFixed in release 2.1\n\nFixed in release 2.10 and later, with notes."
    assert repair_text(kept).text == kept
