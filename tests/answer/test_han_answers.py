"""The answer scorer on Chinese text: question kinds and focus, typed detection in Han sentences, terms, leads,
clause windows, changed facts, the English-to-Chinese term bridge, and questions answered end to end over real
Chinese news articles (the first lines of ../shared/corpus/crud-news-zh/docs.txt.xz)."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from rag.answer.answer_type import answer_kind, asks_count, holds_kind, holds_location, quantities
from rag.answer.bridge import TermBridge
from rag.answer.citations import SentenceSpan
from rag.answer.extractive import _display, clause_windows
from rag.answer.features import FEATURES, FeatureExtractor, TermAnalyzer, lead_clause, looks_like_code
from rag.answer.mismatch import sentence_index, tokens
from rag.models import AskRequest, Hit, Passage
from rag.zh.pinyin import pinyin_names, romanized
from rag.zh.question import asked_units, focus_phrase
from rag.zh.timex import han_dates
from tests.conftest import SHARED

ZH_CORPUS = SHARED / "corpus" / "crud-news-zh" / "docs.txt.xz"
ZH_LINES = 6


@pytest.mark.parametrize(("question", "kind"), [
    ("中国商务部部长是谁？", "person"),
    ("在招待会上致辞的国防武官是谁？", "person"),
    ("国家统计局那个新闻发言人叫啥", "person"),
    ("哪家公司的董事长是谁？", "person"),  # 哪家公司 followed by 的 says whose chairman is asked
    ("约有多少人出席了招待会？", "number"),
    ("赵有亮去世时终年多少岁？", "number"),
    ("夏思凝哪一年出生？", "date"),
    ("比赛在哪一天举行？", "date"),  # 在哪 before 一天 is no place
    ("会议什么时候举行？", "date"),
    ("招待会在哪个城市举行？", "place"),
    ("夏思凝出生于哪里？", "place"),
    ("哪个国际黑客组织发动了网络攻击？", "org"),  # 哪个国际… asks for no country
    ("股东吕仕铭向哪家公司质押了股份？", "org"),
    ("什么是进博会？", None),
    ("几乎所有人都来了吗？", None),
    ("Who is China's Minister of Commerce?", "person"),  # English: the English detector, as before
])
def test_answer_kind_of_chinese_questions(question, kind):
    assert answer_kind(question) == kind


def test_counts_their_units_and_focus():
    assert asks_count("有多少家企业参与？") and not asks_count("夏思凝哪一年出生？")
    assert asked_units("有多少家企业参与？") == ("家",)
    assert "万元" not in asked_units("项目花了多少钱？") and "元" in asked_units("项目花了多少钱？")
    assert asked_units("该项目的总投资是多少？") == ()
    assert focus_phrase("该项目的总投资是多少？") == "总投资"  # before a linking 是 and a final question word
    assert focus_phrase("有多少家企业参与？") == "企业"  # after the question word and its measure word
    assert focus_phrase("夏思凝哪一年出生？") == ""  # the subject is no focus
    assert TermAnalyzer().focus_terms("招待会在哪个城市举行？") == {"城市"}


@pytest.mark.parametrize(("question", "sentence", "holds"), [
    ("有多少家企业参与？", "共有173家企业参与。", True),
    ("有多少家企业参与？", "约350人出席招待会。", False),  # a count, but of people
    ("约有多少人出席了招待会？", "多国使节、华侨华人等约350人出席招待会。", True),
    ("约有多少人出席了招待会？", "7月27日晚，中国驻德国大使馆举行招待会。", False),  # dates are no count
    ("项目花了多少钱？", "该项目总投资五百万元。", True),
    ("How many people attended the reception?", "约350人出席招待会。", True),  # English question, Han sentence
    ("夏思凝哪一年出生？", "2003年，夏思凝出生于湖南邵阳。", True),
    ("When was the final held?", "22日晚，在浙江衢州举行的决赛中夏思凝夺冠。", True),
    ("2023年的比赛在哪一天举行？", "2023年的比赛很精彩。", False),  # the question's own year answers nothing
    ("谁获得了冠军？", "夏思凝以13秒25的成绩获得冠军！", True),
    ("谁获得了冠军？", "这也是她个人生涯首个全国锦标赛冠军。", False),
    ("Who won the women's 100m hurdles?", "夏思凝以13秒25的成绩获得冠军！", True),
    ("比赛在哪里举行？", "22日晚，在浙江衢州举行的决赛中夏思凝夺冠。", True),
    ("股东吕仕铭向哪家公司质押了股份？", "股东吕仕铭向安信证券股份有限公司合计质押240.0万股。", True),
])
def test_holds_kind_in_han_sentences(question, sentence, holds):
    assert holds_kind(answer_kind(question), sentence, question) is holds


def test_han_dates_quantities_and_locations():
    assert han_dates("2023年7月27日晚 16:40，22日") == {"2023", "july", "july 27", "t16:40", "d22"}
    assert quantities("7月27日晚，约350人出席，2023年") == {"350"}
    assert holds_location("22日晚，在浙江衢州举行的决赛", "决赛在哪里举行？")
    assert not holds_location("浙江队获得冠军", "决赛在哪里举行？")  # a place, but no locative before it


def test_content_terms_of_han_text_and_english_unchanged():
    an = TermAnalyzer()
    assert an.content_terms("夏思凝哪一年出生？") == ["夏思凝", "出生"]  # question words and particles out
    assert "上海" in an.content_terms("上海市政府发布通知")  # sub-words of a long word too
    assert an.content_terms("Shanghai opened 1,215 stores") == ["shanghai", "open", "215", "store"]


def test_lead_code_and_clause_windows_of_han_sentences():
    assert lead_clause("7月27日晚,中国驻德国大使馆举行招待会。") == "中国驻德国大使馆举行招待会"
    assert lead_clause("7月27日晚,中国驻德国大使馆举行招待会。", skip_openers=False) == "7月27日晚"
    assert not looks_like_code("对被告人以受贿罪判处有期徒刑十一年,并处罚金(一百八十万元);以违法发放贷款罪判处有期徒刑五年。")
    text = ("据了解,四川省泸州市古蔺县出现极端强降雨天气,最大小时雨量146.1毫米,古蔺多个乡镇小时雨量超过100毫米,"
            "暴雨导致县城大面积停电,道路积水严重,多名群众被困,当地消防救援人员连夜展开救援,共转移被困群众三百余人。")
    windows = clause_windows(text)
    assert len(windows) > 1 and all(text[a:b][-1] not in ",，" for a, b in windows)  # cut at commas without spaces
    assert _display("最大小时雨量146.1毫米,") == "最大小时雨量146.1毫米。"


def test_a_changed_name_in_the_same_slot_is_a_substitution():
    q = tokens("华住二季度营收多少亿")  # 华|住: jieba could not join the name, the question keeps it whole
    assert q[0][0] == "华住" and q[1][0]
    assert sentence_index("以此计算,山西汾酒二季度营收大约63.29亿元。").substituted(q) == 1
    assert sentence_index("第二季度华住集团营收大约30亿元。").substituted(q) == 0


class _LetterEncoder:
    """Bag-of-characters vectors for the lexical features below (their cosines are not what is checked)."""

    def encode(self, texts, show_progress=False):  # noqa: ANN001, ANN201
        vecs = np.array([[t.count(c) for c in "的是在人年月日中国"] + [1.0] for t in texts], dtype=np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def _spans(texts: list[str]) -> tuple[list[SentenceSpan], list[Hit]]:
    text = "".join(texts)
    hit = Hit(passage=Passage(chunk_id="c", doc_id="d", text=text, start=0, end=len(text)), score=1.0, dense_score=0.7)
    spans, pos = [], 0
    for t in texts:
        spans.append(SentenceSpan(0, "d", pos, pos + len(t), t))
        pos += len(t)
    return spans, [hit]


def test_features_of_chinese_candidates():
    spans, hits = _spans(["华住集团发布二季度业绩。", "截至6月30日，华住在18个国家经营着8750家酒店。", "山西汾酒二季度营收63亿元。"])
    c = FeatureExtractor(_LetterEncoder()).featurize("华住现在在全球开了多少家酒店？", spans, hits)
    f = {name: c.x[:, i] for i, name in enumerate(FEATURES)}
    assert c.kind == "number"
    assert f["has_number"].tolist() == [0.0, 1.0, 0.0]  # only 8750家 counts hotels (多少家)
    assert f["keys_in"].tolist() == [1.0, 1.0, 0.0]  # 华住, matched in the text however jieba cut it
    assert f["cover"][1] == f["cover"].max() and f["focus_in"].tolist() == [0.0, 1.0, 0.0]
    assert f["short"][1] == 0.0 and f["log_words"][1] > 2.5  # jieba's words are counted, not one "word" a clause


@pytest.fixture(scope="module")
def use():
    from rag.embed.use_encoder import UseEncoder

    return UseEncoder(threads=1)


def test_english_question_words_reach_chinese_sentences_through_the_bridge(use):
    found = TermBridge(use).translations(["Minister", "Commerce", "embassy", "weather"], ["部长", "商务部", "大使馆", "招待会"])
    assert found == {"Minister": {"部长"}, "Commerce": {"商务部"}, "embassy": {"大使馆"}}
    spans, hits = _spans(["中国商务部部长王文涛出席活动。", "今天下雨了。"])
    c = FeatureExtractor(use).featurize("Who is China's Minister of Commerce?", spans, hits)
    f = {name: c.x[:, i] for i, name in enumerate(FEATURES)}
    assert f["cover"][0] > 0.5 and f["cover"][1] == 0.0 and f["terms_nowhere"][0] == 0.0
    assert f["has_person"].tolist() == [1.0, 0.0]


def test_names_written_in_pinyin_find_their_characters(use):
    assert romanized("赵有亮") == "zhaoyouliang" and romanized("Apple") == ""
    words = {"甘肃", "赵有亮", "江永", "基地", "李"}
    assert pinyin_names("When did Zhao Youliang die? how many bases does gansu plan, Li", words) == {
        "Zhao Youliang": {"赵有亮"}, "gansu": {"甘肃"}}  # "Li" alone: too short to trust
    found = TermBridge(use).translations(["Jiangyong", "students"], ["江永", "学生", "研学"], "Jiangyong County students")
    assert found["Jiangyong"] == {"江永"} and "学生" in found["students"]


@pytest.fixture(scope="module")
def zh_service(tmp_path_factory):
    """A collection of the corpus' first articles, one .txt file each as a user keeps them, indexed as shipped."""
    from rag.pipeline.indexer import index_paths
    from rag.service import RagService
    from rag.settings import Settings

    if not ZH_CORPUS.exists():
        pytest.fail(f"The Chinese news corpus is missing: {ZH_CORPUS}")
    root = tmp_path_factory.mktemp("zh-answers")
    folder = Path(root) / "news"
    folder.mkdir()
    with lzma.open(ZH_CORPUS, "rt", encoding="utf-8") as f:
        for i in range(ZH_LINES):
            (folder / f"article{i}.txt").write_text(next(f), encoding="utf-8")
    settings = Settings(index_dir=Path(root) / "index", collection="zh")
    index_paths([folder], settings)
    with RagService(settings) as service:
        yield service


@pytest.mark.parametrize(("question", "expected"), [
    ("在招待会上致辞的国防武官是谁？", "吴俊辉"),
    ("中国商务部部长是谁？", "王文涛"),
    ("拉海纳大火截至目前导致至少多少人丧生？", "99人"),
    ("股东吕仕铭向哪家公司质押了股份？", "安信证券"),
    ("Who is China's Minister of Commerce?", "王文涛"),
    ("苹果公司的市值是多少？", None),  # not in the documents: refused
])
def test_questions_answered_with_verified_chinese_quotes(zh_service, question, expected):
    answer = zh_service.ask(AskRequest(question=question, mode="extractive"))
    if expected is None:
        assert answer.refused, answer.answer
        return
    assert not answer.refused and expected in answer.answer, answer.answer
    assert answer.citations and all(c.verified for c in answer.citations)
    assert any(expected in c.quote for c in answer.citations)
