"""Review text cleaning: one test per quirk of the real data set (../shared/data/README.md)."""

from __future__ import annotations

import pytest

from ml_code.preprocessing.text import clean_text, repair_mojibake, unescape_html


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("my fiancã© was not a fan", "my fiancé was not a fan"),  # double-encoded, then lowercased
        ("while the jacket is ã¼ber cute", "while the jacket is über cute"),
        ("appliquã©d patches", "appliquéd patches"),
        ("the colour is crã¨me", "the colour is crème"),
        ("Ã©tÃ© dress", "été dress"),  # double-encoded, case intact
        ("itâ€™s lovely", "it’s lovely"),  # UTF-8 read as Windows-1252
    ],
)
def test_double_encoded_utf8_is_repaired(damaged, repaired):
    assert repair_mojibake(damaged) == repaired


def test_lowercased_double_encoded_no_break_space_becomes_a_plain_space():
    # The data set's "hi-lo front/back.â\xa0â\xa0i have" is a double-encoded, lowercased U+00A0.
    assert (
        clean_text("a hi-lo front/back.\u00e2\xa0\u00e2\xa0i have slim hips") == "a hi-lo front/back. i have slim hips"
    )


@pytest.mark.parametrize(
    "text", ["café, São Paulo, naïve, Zürich", "maçã\u201d said she", "plain ascii", "€20 – 30% off"]
)
def test_text_that_is_not_mojibake_is_left_alone(text):
    assert repair_mojibake(text) == text


@pytest.mark.parametrize(
    ("escaped", "unescaped"),
    [
        ("the fit wasn&#39;t the issue", "the fit wasn't the issue"),
        ("a &quot;felted wool&quot;", 'a "felted wool"'),
        ("i&amp;#39;m just under 6&amp;#39; tall", "i'm just under 6' tall"),  # escaped twice in the data set
        ("i am 5&amp;amp;amp;amp;#39;8&amp;amp;amp;amp;quot;", "i am 5'8\""),  # five times, as in the data set
        ("black & white, AT&T", "black & white, AT&T"),  # a bare ampersand is text
    ],
)
def test_html_entities_are_unescaped(escaped, unescaped):
    assert unescape_html(escaped) == unescaped


def test_crlf_and_other_whitespace_inside_a_text_is_normalised():
    assert clean_text("Love it.\r\n\r\nRuns small,\tsize up.  \u00a0Really ") == "Love it. Runs small, size up. Really"


def test_amazon_line_break_tags_become_spaces():
    assert clean_text("Great shirt.<br /><br />Fits well.<BR>Washes ok") == "Great shirt. Fits well. Washes ok"


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t", "&nbsp;", "<br />", "\u00e2\xa0"])
def test_texts_with_nothing_but_whitespace_or_markup_clean_to_empty(text):
    assert clean_text(text) == ""


def test_cleaning_keeps_quotes_and_case():
    text = 'I\'m 5\'5" and the "petite" fits. TTS.'
    assert clean_text(text) == text


def test_plain_texts_are_exactly_those_cleaning_leaves_unchanged():
    from ml_code.preprocessing.text import is_plain

    samples = ["Fits well.", " lead", "trail ", "two  spaces", "tab\there", "crlf\r\nx", "caf\u00e9", "a &amp; b"]
    samples += ["x<br/>y", "", "a\x00b", "\u00a0nbsp", "ok!"]
    for text in samples:
        assert not is_plain(text) or clean_text(text) == text, text
    assert [is_plain(t) for t in ("Fits well.", "ok!", "")] == [True, True, True]
