"""Answer-type detection and the sentence features, on hand-written cases."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.answer_type import answer_kind, holds_kind, holds_location, quantities, without_dates
from rag.answer.citations import SentenceSpan
from rag.answer.features import (
    FEATURES, QUESTION_FEATURES, FeatureExtractor, TermAnalyzer, lead_clause, looks_like_code, question_features,
)
from rag.models import Hit, Passage


@pytest.mark.parametrize(("question", "kind"), [
    ("Who chaired the meeting?", "person"),
    ("Which Vice Minister of Commerce spoke?", "person"),
    ("When did classes start?", "date"),
    ("On what date was the letter issued?", "date"),
    ("How many exhibitors took part?", "number"),
    ("By how much will the population grow?", "number"),
    ("Where is the store located?", "place"),
    ("In which city did the delegation stay?", "place"),
    ("Which ministry signed the agreement?", "org"),
    ("What did the ministry unveil?", None),
    ("What is the tuition fee for the home economics program?", "number"),  # an amount of money
    ("What starting salary do the graduates earn?", "number"),
    ("What does Yangpu aim to become with respect to the cost of doing business?", None),
    # only the question's own (first) wh-word asks; a later one opens a relative clause
    ("What post did Chen Jining hold when he met Ge Lihe?", None),
    ("What do the students who enrolled out of personal interest already hold?", None),
    ("According to the notice, when does public comment close?", "date"),
    ("During what period could the public send opinions?", "date"),
    ("Besides the mayor, who attended the meeting where the plan was approved?", "person"),
    ("When rich countries trade with poor countries, whose wages increase?", "person"),  # a subordinate "when"
    ("When was the plan approved, and who approved it?", "date"),
    # a kind noun with a possessive is not what is asked
    ("Which region's integrated development did the meeting promote?", None),
    ("Which German company's executive board chairman met with Chen Jining?", "person"),
    ("Which Hongkou District People's Congress representative described the platform?", "person"),
    # "official" before a noun is an adjective: an account is asked for, not a person
    ("Which WeChat official account carried the draft regulations?", None),
    ("Which official attended the signing?", "person"),
])
def test_answer_kind(question, kind):
    assert answer_kind(question) == kind


@pytest.mark.parametrize(("question", "sentence", "holds"), [
    ("Who is the Minister of Commerce?", "Comrade Yan Dong, Vice Minister of Commerce, attended the meeting.", True),
    ("Who is the Minister of Commerce?", "The Ministry of Commerce held a meeting.", False),
    ("When did classes start?", "Since the start of classes in March 2021, students were promoted.", True),
    ("When did classes start in March 2021?", "Since the start of classes in March 2021, students were promoted.", False),
    ("How many stores opened?", "Shanghai opened 1,215 new stores.", True),
    ("How many stores opened?", "Shanghai opened new stores.", False),
    ("Which ministry signed?", "The Ministry of Industry and Information Technology signed it.", True),
    # a count is never a year, a day of a month or a clock time
    ("How many books does the library hold?", "Qingpu District opened the library on 3 March 2024.", False),
    ("How many books does the library hold?", "It opened on June 20th at 9:00 pm.", False),
    ("How many books does the library hold?", "The library holds 48,000 books and is open until 21:00.", True),
    ("How many flagship stores has JD opened?", "It is one of the four flagship stores opened by JD in 2023.", True),
    ("What is the tuition fee?", "The program was launched in 2021.", False),
    ("How long did the exhibition last in 2019?", "It ran from 2018 to 2020.", True),  # a span of years may answer
    # a year before 1500 and a clock time are dates; a count with a thousands comma is not a year
    ("When did the calendar become official?", "It was disseminated in 1281 as the official calendar.", True),
    ("At what time of day did the students finish?", "The students finished at 9:00 pm.", True),
    ("When did the stores open?", "Shanghai opened 1,215 new stores.", False),
    ("When did classes start in 1281?", "Classes started in 1281.", False),
    # the second day of a day range is a date, not a count
    ("How many aid projects did Shanghai sign?", "From July 17 to 18, Chen Jining led the delegation.", False),
    ("How many students graduated?", "On June 20th and 21st the defence was held; 95 students graduated.", True),
    # a duration answers "how long" without a digit, unless the question states it already
    ("How long had the platform been in practice?", "After a year of practice, the platform helped.", True),
    ("How long has smart elderly care been practiced?", "It has been practiced for many years.", True),
    ("How long did it run after a year of planning?", "It opened after a year of planning.", False),
    # names: a title and an "of <place>" tail are no part of them, non-ASCII capitals, initials, particles
    ("Who did Emma marry?", "Emma, sister of Duke Richard II of Normandy, married King Ethelred II of England.", True),
    ("Who was Genghis's third son?", "Under the reign of Genghis' third son, Ögedei Khan, the Jin fell.", True),
    ("Who challenged the theory first?", "It was first challenged by bacteriologist J. F. D. Shrewsbury.", True),
    ("Who masterminded the attacks?", "The attacks were Osama bin Laden's work.", True),
    ("Who chaired the meeting?", "The U.S. Army held a meeting.", False),
    ("Who chaired the meeting?", "The Bank of China and the Ministry of Commerce met.", False),
    # a capitalised number word inside a sentence is part of a name, no count
    ("How many people attended?", 'A meeting on the "Three Communications" in Shanghai.', False),
    ("How many people attended?", "Three hundred people attended.", True),
    # a one-word place that only says whose the question's thing is ("the Shanghai delegation") is not where
    ("Where was Chen Jining's delegation on July 18?", "Chen Jining led the Shanghai delegation.", False),
    ("Where was Chen Jining's delegation on July 18?", "The Shanghai delegation went to Shigatse.", True),
    ("Where was Chen Jining's delegation on July 18?", "The delegation from Shanghai stayed there.", True),
    ("Where was the delegation?", "Chen Jining, Secretary of the CPC Shanghai Municipal Committee, spoke.", False),
    ("Where was the delegation?", "The CPC Shanghai Municipal Committee sent the Shanghai delegation.", False),
    # a name followed by the kind noun asked for is one of that kind, though it holds no organisation word
    ("Which brand did the mayor welcome?", "Gong Zheng welcomed the Arc'teryx brand to open a store.", True),
    ("Which brand did the mayor welcome?", "Gong Zheng welcomed the brand to open a store.", False),
    ("Which brand did the mayor welcome?", "Foreign brands were welcomed.", False),
    # "whose <thing>" asks for the thing's possessor, which may be a group without a name
    ("Whose attention did the products attract?", "They attracted the attention of many elderly people.", True),
    ("Whose attention did the products attract?", "They attracted a lot of attention.", False),
    ("Whose homes did the delegation enter?", "It went into farmers' homes.", True),
])
def test_holds_kind(question, sentence, holds):
    assert holds_kind(answer_kind(question), sentence, question) is holds


@pytest.mark.parametrize(("sentence", "holds"), [
    ("together with Wang Junzheng, Secretary of the Party Committee of the Xizang Autonomous Region", False),
    ("to go deep into schools and remote villages in Shigatse City", True),
    ("led the Shanghai delegation", False),
])
def test_holds_location_is_a_place_after_a_locative_preposition(sentence, holds):
    assert holds_location(sentence, "Where was Chen Jining's delegation on July 18?") is holds


class FakeEncoder:
    """Bag-of-letters vectors: deterministic, so the arithmetic of each feature can be checked by hand."""

    def encode(self, texts, show_progress=False):  # noqa: ANN001, ANN201
        vecs = np.array([[t.casefold().count(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789"] for t in texts],
                        dtype=np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)


def _spans(texts: list[str]) -> tuple[list[SentenceSpan], list[Hit]]:
    text = " ".join(texts)
    hit = Hit(passage=Passage(chunk_id="c", doc_id="d", text=text, start=0, end=len(text)), score=1.0, dense_score=0.7)
    spans, pos = [], 0
    for t in texts:
        spans.append(SentenceSpan(0, "d", pos, pos + len(t), t))
        pos += len(t) + 1
    return spans, [hit]


def test_features_on_hand_written_candidates():
    q = "How many new first-office stores opened last year?"
    texts = ["Shanghai Business Districts", "Shanghai opened 1,215 new first-office stores last year.",
             "The store is located on Nanjing West Road and has three floors of displays."]
    spans, hits = _spans(texts)
    c = FeatureExtractor(FakeEncoder()).featurize(q, spans, hits)
    f = {name: c.x[:, i] for i, name in enumerate(FEATURES)}
    assert c.x.shape == (3, len(FEATURES)) and c.kind == "number"
    assert f["heading"].tolist() == [1.0, 0.0, 0.0] and f["short"].tolist() == [1.0, 0.0, 0.0]
    assert f["has_number"].tolist() == [0.0, 1.0, 1.0]  # "three" counts as a number too
    assert f["asks_number"].tolist() == [1.0, 1.0, 1.0] and f["asks_person"].tolist() == [0.0, 0.0, 0.0]
    assert f["cover"][1] == pytest.approx(1.0) and f["cover_gap"][1] == 0.0
    assert f["bm25_rel"][1] == pytest.approx(1.0) and f["bm25"][0] == 0.0
    assert f["first"].tolist() == [1.0, 0.0, 0.0] and f["position"].tolist() == [0.0, 0.5, 1.0]
    assert f["rank_recip"].tolist() == [1.0, 1.0, 1.0] and f["hit_dense"][0] == pytest.approx(0.7)
    assert f["nb_cover"][0] == pytest.approx(f["cover"][1])  # the neighbour of the heading is the answer
    assert f["cos_gap"].max() == 0.0 and f["keys_nowhere"][0] == 0.0
    assert f["novelty"][1] < f["novelty"][2]


def test_key_term_missing_everywhere_is_seen():
    spans, hits = _spans(["Shanghai opened 1,215 new first-office stores last year."])
    c = FeatureExtractor(FakeEncoder()).featurize("How many stores opened in 1999?", spans, hits)
    assert c.x[0, FEATURES.index("keys_nowhere")] == 1.0


@pytest.mark.parametrize(("question", "focus"), [
    ("How many visitors attended the Old Expo?", {"visitor"}),
    ("What is the tuition fee for the program?", {"tuition", "fee"}),
    ("Which German company's board chairman met with him?", {"german", "compani", "board"}),
    ("How much funding did Shanghai pledge?", {"fund"}),
    ("Who chaired the meeting?", set()),
    # "how many" counts a plural noun: the verb after it ("take part") is no part of the focus
    ("How many cities take part in the pilot projects?", {"citi"}),
    ("How many business owners came?", {"busi", "owner"}),
])
def test_focus_terms(question, focus):
    assert TermAnalyzer().focus_terms(question) == focus


def test_focus_and_typed_features():
    """The asked-for thing ("visitors") is in no candidate: focus_nowhere; the typed coverage counts only
    sentences holding the asked-for kind (a number)."""
    texts = ["The Old Expo opened on Monday with 300 exhibitors.", "The Old Expo drew many visitors from Shanghai."]
    spans, hits = _spans(texts)
    c = FeatureExtractor(FakeEncoder()).featurize("How many visitors attended the Old Expo?", spans, hits)
    f = {name: c.x[:, i] for i, name in enumerate(FEATURES)}
    assert f["focus_in"].tolist() == [0.0, 1.0] and f["focus_nowhere"][0] == 0.0
    assert f["has_number"].tolist() == [1.0, 0.0]
    assert f["typed_cover"][1] == 0.0 and f["typed_cover"][0] == pytest.approx(f["cover"][0])
    assert f["typed_best"][0] == pytest.approx(f["cover"][0])
    assert sorted(f["cos_rank"].tolist()) == [0.5, 1.0]
    c2 = FeatureExtractor(FakeEncoder()).featurize("How many tickets were sold at the Old Expo?", spans, hits)
    assert c2.x[0, FEATURES.index("focus_nowhere")] == 1.0


def test_question_features_read_the_best_candidate():
    spans, hits = _spans(["Shanghai opened 1,215 new first-office stores last year.", "The store has three floors."])
    c = FeatureExtractor(FakeEncoder()).featurize("How many stores opened in 1999?", spans, hits)
    q = dict(zip(QUESTION_FEATURES, question_features(c.x, np.array([0.2, 0.8]))))
    assert q["top_logit"] == pytest.approx(np.log(0.8 / 0.2)) and q["margin"] == pytest.approx(2 * np.log(4))
    assert q["keys_nowhere"] == 1.0 and q["top_focus_in"] == c.x[1, FEATURES.index("focus_in")]
    assert question_features(c.x[:0], np.zeros(0)).shape == (len(QUESTION_FEATURES),)


def test_quantities_leave_out_dates_and_times():
    assert quantities("On March 3, 1,215 new stores opened; 3.5% more than in 2022, at 9:00 am.") == {"1215", "3.5%"}
    assert quantities("Two ministries signed it on 20th June.") == {"two"}
    assert quantities("A ticket costs 12.50 yuan from 8.30 am.") == {"12.5"}
    text = "Opened on 3 March 2024 at 21:00."
    assert len(without_dates(text)) == len(text) and not any(ch.isdigit() for ch in without_dates(text))


def test_only_a_sentence_that_begins_a_line_can_be_a_heading():
    """A notice item inside a paragraph ends without a full stop and is mostly names, yet it is no heading
    (it holds the postal code a question asks for); the title line above it is one."""
    from rag.answer.citations import passage_sentences
    from rag.models import Article

    text = ("Draft Regulations on Data Trading in Pudong New Area\n\n"
            "The Standing Committee reviewed the draft. 2. The method is to send a letter to the Legislative "
            "Affairs Office of the Standing Committee, No. 200 People's Avenue, Shanghai; Postal Code: 200003")
    art = Article(source="notice.txt", text=text)
    hit = Hit(passage=Passage(chunk_id="c", doc_id=art.doc_id, text=text, start=0, end=len(text)), score=1.0)
    spans = passage_sentences([hit], lambda _: art)
    assert [s.line_start for s in spans] == [True, True, False]
    c = FeatureExtractor(FakeEncoder()).featurize("What is the postal code for sending opinions?", spans, [hit])
    assert c.x[:, FEATURES.index("heading")].tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize(("sentence", "lead"), [
    ("Gong Zheng, Deputy Secretary and Mayor, presided over the meeting.", "Gong Zheng"),
    # an opening adverbial is not the subject
    ("From July 17 to 18, Chen Jining, Secretary of the CPC, led the delegation.", "Chen Jining"),
    ("This morning, Chen Jining met with Ge Lihe.", "Chen Jining met with Ge Lihe."),
    ("In 1961, Mao Zedong delivered several speeches.", "Mao Zedong delivered several speeches."),
    ("This plan, adopted in 2020, aims high.", "This plan"),  # "this" + a noun is a subject
])
def test_lead_clause_is_the_subject(sentence, lead):
    assert lead_clause(sentence) == lead


def test_kind_lead_reads_the_subject_for_a_person_and_the_opener_for_a_date():
    texts = ["Since the start of classes in March 2021, Wang Fang has taught the students.",
             "From July 17 to 18, Chen Jining, Secretary of the CPC, led the delegation."]
    spans, hits = _spans(texts)
    ex, col = FeatureExtractor(FakeEncoder()), FEATURES.index("kind_lead")
    assert ex.featurize("When did classes start?", spans, hits).x[:, col].tolist() == [1.0, 1.0]
    assert ex.featurize("Who led the delegation?", spans, hits).x[:, col].tolist() == [1.0, 1.0]
    assert ex.featurize("Who chaired the meeting in Shigatse?", spans[1:], hits).x[:, col].tolist() == [1.0]


def test_changed_fact_feature_reaches_the_refusal_stage():
    """`subst` counts the question's facts a sentence replaces in the same slot; the refusal stage reads the
    best candidate's (`top_subst`)."""
    spans, hits = _spans(["The largest experience center in Shanghai opened today.", "The brand sells jackets."])
    c = FeatureExtractor(FakeEncoder()).featurize("Which brand opened the largest experience center in Beijing?",
                                                  spans, hits)
    assert c.x[:, FEATURES.index("subst")].tolist() == [1.0, 0.0]
    q = dict(zip(QUESTION_FEATURES, question_features(c.x, np.array([0.9, 0.1]))))
    assert q["top_subst"] == 1.0
    q = dict(zip(QUESTION_FEATURES, question_features(c.x, np.array([0.1, 0.9]))))
    assert q["top_subst"] == 0.0


def test_replaced_placement_feature_reaches_the_refusal_stage_only():
    """`subst_place` counts the question's placed facts a sentence places elsewhere ("in Beijing" against "in
    Shanghai"); the refusal stage reads the best candidate's (`top_subst_place`), the sentence scorer never."""
    from eval.train_answerer import RANKER_COLUMNS  # noqa: PLC0415

    spans, hits = _spans(["The Old Expo opened in Shanghai with 400 exhibitors.", "The expo drew 400 exhibitors."])
    c = FeatureExtractor(FakeEncoder()).featurize("How many exhibitors attended the expo in Beijing?", spans, hits)
    assert c.x[:, FEATURES.index("subst_place")].tolist() == [1.0, 0.0]
    assert dict(zip(QUESTION_FEATURES, question_features(c.x, np.array([0.9, 0.1]))))["top_subst_place"] == 1.0
    assert dict(zip(QUESTION_FEATURES, question_features(c.x, np.array([0.1, 0.9]))))["top_subst_place"] == 0.0
    assert "subst_place" not in RANKER_COLUMNS


@pytest.mark.parametrize(("text", "code"), [
    ('fn main() { let b = Box::new(5); println!("b = {b}"); }', True),  # a <pre> block of the Rust book
    ("use std::collections::HashMap;", True),
    ("if x > 5 { return; }", True),
    ("Rust's char type is 4 bytes in size.", False),
    ("To make a variable mutable, we add mut before the variable name:", False),
    ("The Vec<T> type (a vector) stores values of one type", False),  # prose naming types
    ("Using Box<T> to Point to Data on the Heap", False),  # a heading (excluded as one, not as code)
    ("Fares start at 3 yuan (about $0.40) [1]; trains run every 4 minutes.", False),
    ("The prime ideals of the ring of integers are the ideals (0), (2), (3), (5), (7), (11), …", False),  # SQuAD
    ('derives from pharmakon (φάρμακον), meaning "drug", "medicine" (or "poison").[n 1]', False),  # SQuAD
])
def test_looks_like_code(text: str, code: bool) -> None:
    assert looks_like_code(text) is code
