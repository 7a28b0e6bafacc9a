import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import JaroWinkler

from pishkhan.iran import name_key, names_equal, normalize_name, similarity

PROPERTY = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("مصطفى", "مصطفی"),  # alef maksura
        ("كريم", "کریم"),  # Arabic kaf
        ("آرش", "ارش"),
        ("أحمد", "احمد"),
        ("إسماعیل", "اسماعیل"),
        ("ٱمید", "امید"),
        ("مؤمن", "مومن"),
        ("رئیسی", "رییسی"),
        ("فاطمة", "فاطمه"),
        ("خانۀ", "خانه"),
        ("خانهٔ", "خانه"),  # heh + hamza above (a diacritic)
        ("محمد\u200cرضا", "محمد رضا"),  # ZWNJ -> space
        ("مُحَمَّد", "محمد"),  # diacritics
        ("محـــمد", "محمد"),  # kashida
        ("\u202bعلی\u202c \u200f رضایی", "علی رضایی"),  # bidi marks, spaces
        ("  علی   رضا  ", "علی رضا"),
        ("ﻋﻠﯽ", "علی"),  # presentation forms
        ("Ali  REZAEI", "ali rezaei"),
        ("علی۲", "علی2"),
    ],
)
def test_fold_table(raw: str, folded: str) -> None:
    assert normalize_name(raw) == folded


def test_name_key_and_equality() -> None:
    assert name_key("محمد رضا") == "محمدرضا"
    assert names_equal("محمد\u200cرضا", "محمدرضا")
    assert not names_equal("محمد", "محمود")


def test_mohammad_vs_mahmoud() -> None:
    # The formula gives 89; the "95" sometimes quoted for this pair is Jaro-Winkler's score.
    assert similarity("محمد", "محمود") == 89
    assert round(JaroWinkler.normalized_similarity("محمد", "محمود") * 100) == 95


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("فاطمة", "فاطمه"),
        ("علي كريمي", "علی کریمی"),
        ("آرش", "ارش"),
        ("محمدرضا", "محمد رضا"),
        ("رضا محمدی", "محمدی رضا"),  # swapped order
        ("مُحَمَّد", "محمد"),
    ],
)
def test_identical_after_folding_scores_100(a: str, b: str) -> None:
    assert similarity(a, b) == 100


@pytest.mark.parametrize(
    ("a", "b"),
    [("حسین", "زهرا"), ("علی احمدی", "سارا کریمی"), ("مریم", "جواد")],
)
def test_unrelated_names_score_low(a: str, b: str) -> None:
    assert similarity(a, b) < 40


def test_empty_names() -> None:
    assert similarity("", " ") == 100
    assert similarity("علی", "") == 0


def test_close_names_score_between() -> None:
    assert 60 < similarity("علی رضایی", "علی رضائیان") < 100


persian_text = st.text(
    alphabet=st.sampled_from(list("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكآأإةۀئؤ \u200c\u064e\u0640")),
    max_size=20,
)


@PROPERTY
@given(persian_text)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_name(text)
    assert normalize_name(once) == once


@PROPERTY
@given(persian_text, persian_text)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = similarity(a, b)
    assert 0 <= s <= 100
    assert s == similarity(b, a)
    assert similarity(a, a) == 100
