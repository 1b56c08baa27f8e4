from __future__ import annotations

import pytest

from rag.ingest.normalize import normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # run-together sentences, as in the sample corpus
        ("industrial chain and supply chain.We must act", "industrial chain and supply chain. We must act"),
        ("in 2023.The plan", "in 2023. The plan"),
        ('he said."We will', 'he said. "We will'),
        ("(P = .009).We confirmed", "(P = .009). We confirmed"),
        ("done.A new start", "done. A new start"),
        ("security,Provide employment", "security, Provide employment"),
        # the stray word glued on both sides
        ("supply chain.wantContinue to deepen reform", "supply chain. want Continue to deepen reform"),
        # odd spaces, curly quotes, invisible characters
        ("Pudong\u00a0New\u2009Area\u3000today", "Pudong New Area today"),
        ("\u201cFive Centers\u201d and Shanghai\u2019s", '"Five Centers" and Shanghai\'s'),
        ("zero\u200bwidth soft\u00adhyphen", "zerowidth softhyphen"),
        ("a  b\t\tc   d", "a b c d"),
        ("\ufb01nance \uff11\uff12\uff13", "finance 123"),  # NFKC: ligature, full-width digits
        # paragraphs
        ("p1 line\nstill p1  \n\n\n\np2\r\n\r\np3\n", "p1 line\nstill p1\n\np2\n\np3"),
        ("  \n\n lead and trail \n\n ", "lead and trail"),
    ],
)
def test_repairs(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "growth of 3.5% and 1,215 stores",
        "the U.S. Army and the U.S.A. team",
        "No.1 and No.200 People's Avenue",
        "visit www.gov.cn or https://example.com/Path.Html today",
        "mail fg@Example.Com or a.b@shnpc.gov.cn",
        "Dongfang.com, Xinmin.com",
        "N,N-dimethylformamide",
        "McDonald sells the iPhone and uses camelCase at eBay",
        "they mature. preNeus expand",
        "the Atf1.Pcr1 heterodimer",
        "crossbreeding B6.Cg-Tg mice",
        "e.g. this, i.e. that, 9:00 a.m. sharp",
        "java.lang.String is a class",
        "",
    ],
)
def test_leaves_safe_text_alone(kept: str) -> None:
    assert normalize_text(kept) == kept


def test_idempotent_on_sample_like_text() -> None:
    raw = "Shanghai\u2019s chain.We must \u201cact\u201d.wantContinue to deepen,Provide jobs.\n\n\nNext\u00a0para."
    once = normalize_text(raw)
    assert normalize_text(once) == once


def test_chinese_text_keeps_its_full_width_punctuation_and_quotes() -> None:
    # A quote must read as the source wrote it; full-width digits and spaces are still folded.
    raw = "记者刘仲华）7月27日晚，大使馆举行“庆祝”招待会：约３５０人出席！（完）"
    assert normalize_text(raw) == "记者刘仲华）7月27日晚，大使馆举行“庆祝”招待会：约350人出席！（完）"
    assert normalize_text("He said “hi”, ｆｕｌｌ：width") == 'He said "hi", full:width'  # no Han: as before
