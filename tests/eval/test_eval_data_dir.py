"""`rag eval` finds its datasets under RAG_EVAL_DATA_DIR when no path is given, and says what to set when
they are not there (a user's clone has no ../shared beside it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.adapters import DatasetError
from eval.runner import DATA_FILES, EvalOptions, with_dataset_path
from rag.cli.main import app
from rag.settings import Settings


def test_the_setting_defaults_to_the_shared_folder_and_reads_its_variable(monkeypatch) -> None:
    assert Settings().eval_data_dir == Path("../shared/eval")
    monkeypatch.setenv("RAG_EVAL_DATA_DIR", "/data/eval-sets")
    assert Settings().eval_data_dir == Path("/data/eval-sets")


def test_a_dataset_without_path_is_read_from_the_folder(tmp_path) -> None:
    (tmp_path / "seeds_dev.jsonl").write_text("{}\n")
    (tmp_path / "rgb").mkdir()
    (tmp_path / "rgb" / "en_fact.json").write_text("{}\n")
    settings = Settings(eval_data_dir=tmp_path)
    assert with_dataset_path(EvalOptions("seeds"), settings).path == tmp_path / "seeds_dev.jsonl"
    assert with_dataset_path(EvalOptions("rgb"), settings).path == tmp_path / "rgb" / "en_fact.json"
    given = EvalOptions("seeds", Path("elsewhere.jsonl"))
    assert with_dataset_path(given, settings) is given  # --path wins; nothing is looked up
    with pytest.raises(DatasetError) as e:
        with_dataset_path(EvalOptions("squad2"), settings)
    assert str(tmp_path / DATA_FILES["squad2"]) in str(e.value) and "RAG_EVAL_DATA_DIR" in str(e.value)
    assert "--path" in str(e.value)


def test_eval_without_path_names_the_missing_file_and_the_setting(tmp_path) -> None:
    missing = tmp_path / "no-such-folder"
    res = CliRunner().invoke(app, ["eval", "--dataset", "seeds", "--index-dir", str(tmp_path / "idx"),
                                   "--output", str(tmp_path / "out"), "--no-progress"],
                             env={"RAG_EVAL_DATA_DIR": str(missing)})
    assert res.exit_code == 1, res.output
    text = "".join(res.output.split())  # the console folds long lines, paths included
    assert str(missing / "seeds_dev.jsonl") in text and "RAG_EVAL_DATA_DIR" in text
    assert not (tmp_path / "idx").exists()  # refused before anything was indexed


def test_train_answerer_defaults_come_from_the_setting(tmp_path) -> None:
    missing = tmp_path / "no-such-folder"
    res = CliRunner().invoke(app, ["eval", "train-answerer", "--index-dir", str(tmp_path / "idx")],
                             env={"RAG_EVAL_DATA_DIR": str(missing)})
    assert res.exit_code == 1, res.output
    text = "".join(res.output.split())
    assert str(missing / "seeds_dev.jsonl") in text and "RAG_EVAL_DATA_DIR" in text and "--no-seeds-set" in text
