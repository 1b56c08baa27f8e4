"""Each adapter on a small slice of its real file in ../shared/eval, plus its error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.adapters import DatasetError, load_beir, load_rgb, load_seeds, load_squad2
from eval.adapters.split_file import read_split_file
from eval.splits import TUNE_SIZE, split_ids

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval"
SPLITS = Path(__file__).resolve().parents[2] / "eval" / "data"


def head(path: Path, n: int) -> list[str]:
    if not path.is_file():
        pytest.fail(f"{path} missing: the shared data must sit at ../shared beside the repository")
    lines: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            lines.append(line)
            if len(lines) == n:
                break
    return lines


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


# ------------------------------------------------------------------ seeds


def test_seeds_slice(tmp_path: Path) -> None:
    lines = head(EVAL / "seeds_dev.jsonl", 100)
    raw = [json.loads(x) for x in lines]
    got = load_seeds(write(tmp_path / "seeds_dev.jsonl", lines))
    assert [q.qid for q in got.questions] == [r["id"] for r in raw]
    for q, r in zip(got.questions, raw):
        assert q.text == r["question"] and list(q.answers) == r["answers"]
        assert list(q.evidence) == r["evidence"] and q.kind == r["kind"]
        assert q.is_unanswerable == (r["kind"] == "unanswerable")
    assert any(q.is_unanswerable for q in got.questions)
    # a folder works too, the split picks the file
    assert load_seeds(tmp_path, "dev").questions == got.questions


def test_seeds_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load_seeds(tmp_path / "nope.jsonl")
    line = head(EVAL / "seeds_dev.jsonl", 1)[0]
    bad = write(tmp_path / "a.jsonl", [line, "{not json\n"])
    with pytest.raises(DatasetError, match=r"a\.jsonl:2: not valid JSON"):
        load_seeds(bad)
    obj = json.loads(line)
    del obj["question"]
    with pytest.raises(DatasetError, match="missing field 'question'"):
        load_seeds(write(tmp_path / "b.jsonl", [json.dumps(obj) + "\n"]))
    obj = json.loads(line) | {"kind": "trivia"}
    with pytest.raises(DatasetError, match="kind 'trivia'"):
        load_seeds(write(tmp_path / "c.jsonl", [json.dumps(obj) + "\n"]))
    with pytest.raises(DatasetError, match="twice"):
        load_seeds(write(tmp_path / "d.jsonl", [line, line]))


# ------------------------------------------------------------------ BEIR


@pytest.fixture()
def beir_slice(tmp_path: Path) -> Path:
    """First 300 SciFact abstracts, the real train qrels on them, query texts keyed to them."""
    src = EVAL / "scifact"
    corpus = head(src / "corpus.jsonl", 300)
    ids = {json.loads(x)["_id"] for x in corpus}
    qrels = head(src / "qrels" / "train.tsv", 10_000)
    kept = [r for r in qrels[1:] if r.split("\t")[1] in ids]
    root = tmp_path / "scifact"
    write(root / "corpus.jsonl", corpus)
    # Synthetic query texts keep the slice independent of queries.jsonl.
    qids = sorted({r.split("\t")[0] for r in kept})
    # one graded and one zero-grade row on top of the real ones
    first = sorted(ids)[:2]
    extra = [f"g1\t{first[0]}\t2\n", f"g1\t{first[1]}\t0\n", "g2\t" + first[1] + "\t0\n"]
    write(root / "qrels" / "train.tsv", [qrels[0]] + kept + extra)
    write(root / "queries.jsonl", [json.dumps({"_id": q, "text": f"query {q}"}) + "\n" for q in qids + ["g1", "g2"]])
    return root


def test_beir_slice(beir_slice: Path) -> None:
    got = load_beir(beir_slice, "train")
    assert got.corpus is not None and len(got.corpus.documents) == 300
    first = json.loads(head(beir_slice / "corpus.jsonl", 1)[0])
    doc = got.corpus.documents[0]
    assert (doc.doc_id, doc.title, doc.text) == (first["_id"], first["title"], first["text"])
    by_id = {q.qid: q for q in got.questions}
    assert "g2" not in by_id  # only a zero-grade row: no relevant document
    lowest, second = sorted(d.doc_id for d in got.corpus.documents)[:2]
    assert by_id["g1"].relevant == {lowest: 2}  # grade 2 kept, the grade-0 row on `second` dropped
    assert second not in by_id["g1"].relevant
    real = [r.split("\t") for r in (beir_slice / "qrels" / "train.tsv").read_text().splitlines()[1:-3]]
    for qid, doc_id, score in real:
        assert by_id[qid].relevant[doc_id] == int(score)


def test_beir_corpus_limit_drops_queries(beir_slice: Path) -> None:
    full = load_beir(beir_slice, "train")
    small = load_beir(beir_slice, "train", corpus_limit=50)
    assert small.corpus is not None and len(small.corpus.documents) == 50
    ids = {d.doc_id for d in small.corpus.documents}
    assert 0 < len(small.questions) < len(full.questions)
    assert all(set(q.relevant) <= ids for q in small.questions)


def test_beir_real_shared_copy_scores_train_and_the_committed_parts_split_it() -> None:
    """All 809 SciFact train queries are scorable; tune and report parts are disjoint and cover them."""
    train = load_beir(EVAL / "scifact", "train")
    assert len(train.questions) == 809
    tune = load_beir(EVAL / "scifact", str(SPLITS / "scifact_tune.txt"))
    report = load_beir(EVAL / "scifact", str(SPLITS / "scifact_report.txt"))
    t, r = {q.qid for q in tune.questions}, {q.qid for q in report.questions}
    assert (len(t), len(r)) == (600, 209) and not t & r and t | r == {q.qid for q in train.questions}
    by_id = {q.qid: q for q in train.questions}
    assert all(q.relevant == by_id[q.qid].relevant and q.text == by_id[q.qid].text for q in report.questions)
    # the committed files are what eval.splits makes: re-drawing gives the same parts
    assert split_ids(by_id, TUNE_SIZE) == (read_split_file(SPLITS / "scifact_tune.txt")[0],
                                           read_split_file(SPLITS / "scifact_report.txt")[0])


def test_beir_split_file_errors(beir_slice: Path, tmp_path: Path) -> None:
    f = tmp_path / "ids.txt"
    with pytest.raises(DatasetError, match="not found"):
        load_beir(beir_slice, str(f))
    f.write_text("# nothing here\n")
    with pytest.raises(DatasetError, match="holds no query ids"):
        load_beir(beir_slice, str(f))
    f.write_text("g1\n")
    with pytest.raises(DatasetError, match="# qrels: train"):
        load_beir(beir_slice, str(f))
    f.write_text("# qrels: train\ng1\ng1\n")
    with pytest.raises(DatasetError, match="appears twice"):
        load_beir(beir_slice, str(f))
    f.write_text("# qrels: train\ng1 g2\n")
    with pytest.raises(DatasetError, match="one query id per line"):
        load_beir(beir_slice, str(f))
    f.write_text("# qrels: train\ng1\ng2\nnope\n")  # g2 has only a grade-0 row
    with pytest.raises(DatasetError, match="2 query id\\(s\\) without relevant qrels"):
        load_beir(beir_slice, str(f))
    f.write_text("# qrels: dev\ng1\n")
    with pytest.raises(DatasetError, match="splits present: train"):
        load_beir(beir_slice, str(f))
    f.write_text("# qrels: train\ng1\n")
    assert [q.qid for q in load_beir(beir_slice, str(f)).questions] == ["g1"]


def test_beir_errors(beir_slice: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a folder"):
        load_beir(tmp_path / "missing")
    with pytest.raises(DatasetError, match="splits present: train"):
        load_beir(beir_slice, "test")
    q = beir_slice / "qrels" / "train.tsv"
    q.write_text(q.read_text() + "x\ty\n")
    with pytest.raises(DatasetError, match="3 tab-separated columns"):
        load_beir(beir_slice, "train")
    q.write_text("query-id\tcorpus-id\tscore\ng1\tno-such-doc\t1\n")
    with pytest.raises(DatasetError, match="absent from corpus"):
        load_beir(beir_slice, "train")


# ------------------------------------------------------------------ SQuAD 2.0


def test_squad2_slice(tmp_path: Path) -> None:
    src = EVAL / "squad2"
    qlines = head(src / "questions_dev.jsonl", 30)
    raw = [json.loads(x) for x in qlines]
    write(tmp_path / "contexts.jsonl", head(src / "contexts.jsonl", 10_000))
    write(tmp_path / "questions_dev.jsonl", qlines)
    got = load_squad2(tmp_path, "dev")
    assert got.corpus is not None and len(got.corpus.documents) == len(head(src / "contexts.jsonl", 10_000))
    assert [q.qid for q in got.questions] == [r["id"] for r in raw]
    assert sum(q.is_unanswerable for q in got.questions) == sum(r["is_impossible"] for r in raw)
    assert any(q.is_unanswerable for q in got.questions) and not all(q.is_unanswerable for q in got.questions)
    for q, r in zip(got.questions, raw):
        if r["is_impossible"]:
            assert q.answers == () and q.relevant == {}
        else:
            assert list(q.answers) == r["answers"] and q.relevant == {r["context_id"]: 1}


def test_squad2_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="contexts.jsonl"):
        load_squad2(tmp_path)
    write(tmp_path / "contexts.jsonl", ['{"id": "ctx-1", "text": "t"}\n'])
    with pytest.raises(DatasetError, match="questions_dev.jsonl"):
        load_squad2(tmp_path)
    line = json.loads(head(EVAL / "squad2" / "questions_dev.jsonl", 1)[0])
    write(tmp_path / "questions_dev.jsonl", [json.dumps(line) + "\n"])
    with pytest.raises(DatasetError, match="context_id"):
        load_squad2(tmp_path)


# ------------------------------------------------------------------ RGB


def test_rgb_slice(tmp_path: Path) -> None:
    lines = head(EVAL / "rgb" / "en_fact.json", 20)
    raw = [json.loads(x) for x in lines]
    assert any(isinstance(r["answer"], list) for r in raw)  # the slice covers nested answers
    got = load_rgb(write(tmp_path / "en_fact.json", lines))
    assert len(got.questions) == 20
    for q, r in zip(got.questions, raw):
        assert q.qid == str(r["id"]) and q.text == r["query"]
        assert q.passages == tuple(r["positive_wrong"])
        assert q.fake_answers == (r["fakeanswer"],)
        want = r["answer"] if isinstance(r["answer"], str) else None
        assert q.answers == ((want,) if want else tuple(r["answer"][0]))
    control = load_rgb(tmp_path, "en_fact", passages="positive")
    assert control.questions[0].passages == tuple(raw[0]["positive"])
    # a JSON array file reads the same
    write(tmp_path / "arr.json", [json.dumps(raw)])
    assert load_rgb(tmp_path / "arr.json").questions == got.questions


def test_rgb_errors(tmp_path: Path) -> None:
    r = json.loads(head(EVAL / "rgb" / "en_fact.json", 1)[0])
    multi = r | {"answer": [["a", "b"], ["c"]]}
    with pytest.raises(DatasetError, match="must all appear"):
        load_rgb(write(tmp_path / "m.json", [json.dumps(multi) + "\n"]))
    no_fake = {k: v for k, v in r.items() if k != "fakeanswer"}
    with pytest.raises(DatasetError, match="missing field 'fakeanswer'"):
        load_rgb(write(tmp_path / "f.json", [json.dumps(no_fake) + "\n"]))
    with pytest.raises(DatasetError, match="not found"):
        load_rgb(tmp_path / "none.json")


def test_rust_book_question_set_reads_as_a_seeds_set() -> None:
    """eval/data/rust_book_questions.jsonl: a check over a book nobody here wrote (its corpus is rustup's copy of
    The Rust Programming Language, passed with --corpus; see the README). Never trained or tuned on."""
    from eval.adapters import load_seeds  # noqa: PLC0415

    path = Path(__file__).resolve().parents[2] / "eval" / "data" / "rust_book_questions.jsonl"
    qs = load_seeds(path).questions
    assert len(qs) == 15
    assert sum(q.is_unanswerable for q in qs) == 3
    assert all(q.evidence and q.answers for q in qs if not q.is_unanswerable)


def test_embedded_book_question_set_reads_as_a_seeds_set() -> None:
    """eval/data/embedded_book_questions.jsonl: documentation questions over rustup's copy of The Embedded Rust
    Book (passed with --corpus; see the README), 20 of them "What is X?". The definition rule of the composer was
    chosen on it (a dev set), so it is not a report set; the Rust book and Cargo sets stay unseen."""
    from eval.adapters import load_seeds  # noqa: PLC0415
    from rag.answer.definition import definition_term  # noqa: PLC0415

    path = Path(__file__).resolve().parents[2] / "eval" / "data" / "embedded_book_questions.jsonl"
    qs = load_seeds(path).questions
    assert (len(qs), sum(q.is_unanswerable for q in qs)) == (42, 8)
    assert all(q.evidence and q.answers for q in qs if not q.is_unanswerable)
    # 20 definitions, and "What is the downside of semihosting?", which reads as one and has no defining sentence
    assert sum(definition_term(q.text) is not None for q in qs if not q.is_unanswerable) == 21


def test_cargo_guide_question_set_checks_out_against_its_pages() -> None:
    """eval/data/cargo_guide_questions.jsonl over eval/data/cargo_guide/ (8 pages of the Cargo Book, MIT-licensed,
    notice beside them): every evidence string is verbatim in one page, every unanswerable question names the
    page it is about. A report-only set of documentation questions (`test` split): never trained on."""
    from eval.adapters import load_seeds  # noqa: PLC0415
    from eval.adapters.sample_questions import check_questions, read_questions  # noqa: PLC0415
    from rag.ingest.discover import load_paths  # noqa: PLC0415

    data = Path(__file__).resolve().parents[2] / "eval" / "data"
    articles = load_paths([data / "cargo_guide"]).articles
    assert len(articles) == 8
    report = check_questions(read_questions(data / "cargo_guide_questions.jsonl"), articles)
    assert report.problems == []
    qs = load_seeds(data / "cargo_guide_questions.jsonl", "test").questions
    assert (len(qs), sum(q.is_unanswerable for q in qs)) == (35, 6)
