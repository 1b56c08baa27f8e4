"""`rag eval` on Chinese documents (issue 32): the Han-aware answer check, the `lang` field, per-language figures,
and one real run over a tiny Chinese corpus folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.adapters import DatasetError, EvalSet, load_seeds
from eval.metrics import answer_contains, answer_hit_scores
from eval.report import lang_table
from eval.runner import EvalOptions, collection_name, run_evaluation
from eval.scoring import aggregate
from rag.settings import Settings


@pytest.mark.parametrize(("answer", "golds", "expected"), [
    ("沈德咏被判处有期徒刑十五年。", ["十五年"], True),  # Han has no word boundaries
    ("并处罚金人民币六百万元", ["600万元"], True),
    ("并处罚金人民币6,000,000元", ["六百万元"], True),
    ("共计折合人民币6456万余元", ["6456万余元"], True),
    ("全市新开首店一百七十三家", ["173家"], True),
    ("全市新开首店一百七十三家", ["73家"], False),  # not inside a longer number
    ("同比增长百分之十二", ["12%"], True),  # an English gold over a Han answer
    ("会议于2023年7月27日召开", ["七月二十七日"], True),
    ("会议于2023年7月27日召开", ["2023-07-27"], True),
    ("会议于7月27日召开", ["7月28日"], False),
    ("王文涛出席活动", ["王文涛"], True),
    ("It opened in 1995.", ["95"], False),  # English: the old word-boundary rule, unchanged
    ("It opened 1,215 stores", ["1215"], False),  # nor folds separators without Han: outcomes as before
])
def test_answer_contains_reads_han(answer: str, golds: list[str], expected: bool) -> None:
    assert answer_contains(answer, golds) is expected


def test_answer_hit_is_the_rank_of_the_first_passage_holding_a_gold() -> None:
    passages = ["无关的段落。", "另一段。", "并处罚金人民币六百万元。"]
    s = answer_hit_scores(passages, ["600万元"])
    assert (s["answer_hit@1"], s["answer_hit@3"], s["answer_hit@5"]) == (0.0, 1.0, 1.0)
    assert s["answer_mrr@10"] == pytest.approx(1 / 3)
    assert answer_hit_scores(passages, ["七百万元"])["answer_hit@20"] == 0.0


def _line(**kw: object) -> str:
    return json.dumps({"kind": "fact", "evidence": [], **kw}, ensure_ascii=False) + "\n"


def test_the_seeds_adapter_reads_lang_and_checks_it(tmp_path: Path) -> None:
    p = tmp_path / "q.jsonl"
    p.write_text(_line(id="a", split="test", lang="zh", question="多少？", answers=["五家"])
                 + _line(id="b", split="test", lang="en", question="How many?", answers=["五家"])
                 + _line(id="c", split="train", question="Who?", answers=["x"]), encoding="utf-8")
    assert [q.lang for q in load_seeds(p, "test").questions] == ["zh", "en"]
    assert load_seeds(p, "train").questions[0].lang == ""  # an untagged question: no per-language figures
    p.write_text(_line(id="a", lang="fr", question="Combien ?", answers=["5"]), encoding="utf-8")
    with pytest.raises(DatasetError, match="lang 'fr'"):
        load_seeds(p, "all")


def test_figures_are_reported_per_language() -> None:
    def rec(lang: str, hit: float, correct: bool | None, refused: bool) -> dict:
        scores = {"refused": refused, "citations": [], "sentences": 0, "sentences_supported": 0}
        if correct is not None:
            scores["correct"] = correct
        return {"qid": lang, "question": "?", "lang": lang, "unanswerable": correct is None, "answer": "答",
                "retrieval": None if correct is None else {"answer_hit@5": hit}, "scores": scores}

    records = [rec("zh", 1.0, True, False), rec("zh", 0.0, False, True), rec("zh", 0.0, None, True),
               rec("en", 1.0, True, False)]
    m = aggregate("seeds", records)
    assert m["by_lang"]["zh"]["retrieval"]["answer_hit@5"] == 0.5 and m["by_lang"]["en"]["questions"] == 1
    assert m["by_lang"]["zh"]["answer"]["accuracy"] == 0.5
    assert m["by_lang"]["zh"]["answer"]["unanswerable_refused"] == 1.0
    assert m["retrieval"]["answer_hit@5"] == pytest.approx(2 / 3) and m["answer"]["accuracy"] == pytest.approx(2 / 3)
    table = "\n".join(lang_table(m))
    assert "| metric | en | zh | all |" in table and "| answer.accuracy | 1.0000 | 0.5000 | 0.6667 |" in table
    assert "by_lang" not in aggregate("seeds", [{**r, "lang": ""} for r in records])


def test_a_corpus_file_gets_one_collection_for_every_split(tmp_path: Path) -> None:
    corpus = tmp_path / "crud-news-zh" / "docs.txt.xz"
    corpus.parent.mkdir()
    corpus.write_bytes(b"")
    empty = EvalSet("seeds", "test", ())
    names = {collection_name(EvalOptions("seeds", split=s, corpus=corpus), empty) for s in ("train", "test")}
    assert names == {"eval-seeds-crud-news-zh-docs.txt.xz"}
    assert collection_name(EvalOptions("seeds", split="dev"), empty) == "eval-seeds-dev"  # the sample: as before


ARTICLES = {
    "shops.txt": "2023-07-28 16:40，正文：上海市商务委员会表示，今年上半年全市新开首店一百七十三家，其中旗舰店二十家。"
                 "市政府还安排专项资金500万元，用于支持首发经济。",
    "tourism.txt": "2023年08月11日，正文：北京市文化和旅游局7月27日发布消息，今年暑期全市接待游客三千五百万人次，"
                   "同比增长百分之十二。",
    "tower.txt": "正文：广州塔今晚将举行灯光秀，主办方邀请市民前往观看。灯光秀持续二十分钟。",
}
QUESTIONS = [
    dict(id="zh-1", lang="zh", question="上海今年上半年新开了多少家首店？", answers=["173家"],
         evidence=["全市新开首店一百七十三家"]),
    dict(id="zh-2", lang="zh", question="上海安排了多少专项资金支持首发经济？", answers=["五百万元"],
         evidence=["市政府还安排专项资金500万元"]),
    dict(id="zh-3", lang="zh", kind="unanswerable", question="深圳今年新建了多少个公园？", answers=[], evidence=[]),
    dict(id="en-1", lang="en", question="By how much did Beijing's summer tourist numbers grow?",
         answers=["百分之十二", "12%"], evidence=["同比增长百分之十二"]),
]


def test_an_eval_run_over_chinese_documents_reports_each_language(tmp_path: Path) -> None:
    corpus = tmp_path / "news"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    questions = tmp_path / "zh_questions.jsonl"
    questions.write_text("".join(_line(split="test", **q) for q in QUESTIONS), encoding="utf-8")

    run = run_evaluation(EvalOptions("seeds", questions, split="test", output=tmp_path / "out", corpus=corpus,
                                     mode="extractive", progress=False), Settings(index_dir=tmp_path / "index"))
    recs = {r["qid"]: r for r in run.records}
    assert not any("error" in r for r in recs.values()), [r.get("error") for r in recs.values()]
    assert {r["lang"] for r in recs.values()} == {"zh", "en"}
    # three articles: every answerable question's passage is in the top 5, its gold found there after folding
    assert all(recs[q]["retrieval"]["answer_hit@5"] == 1.0 for q in ("zh-1", "zh-2", "en-1"))
    assert recs["zh-3"]["retrieval"] is None
    for r in recs.values():  # the run's verdicts are the Han-aware check's
        if r["gold_answers"] and not r["scores"]["refused"]:
            assert r["scores"]["correct"] == answer_contains(r["answer"].replace("[1]", ""), r["gold_answers"])
    m = run.metrics
    assert set(m["by_lang"]) == {"zh", "en"} and m["by_lang"]["zh"]["questions"] == 3
    assert m["by_lang"]["en"]["retrieval"]["answer_hit@5"] == 1.0
    assert run.config["settings"]["collection"] == "eval-seeds-news"
    assert "## By language" in (run.folder / "report.md").read_text(encoding="utf-8")
