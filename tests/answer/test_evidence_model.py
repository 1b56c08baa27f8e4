"""The shipped evidence model: loads without scikit-learn, matches scikit-learn's own predictions, and
reproduces the cross-validated figure recorded in it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rag.answer.evidence_model import MODEL_FILE, ModelFileError, load_model
from rag.answer.features import FEATURES


def test_model_file_loads_and_is_sane():
    model = load_model()
    assert 0.0 < model.threshold < 1.0
    oof = model.cv["oof"]
    assert {"sample-train", "seeds", "squad2"} <= set(oof)
    assert model.cv["folds"] >= 3 and model.cv["trained_on"]["squad2"] == 250
    probs = model.predict(np.zeros((3, len(FEATURES))))
    assert probs.shape == (3,) and np.all((probs > 0) & (probs < 1))
    # two stages: the sentence scorer reads a subset of the columns, the refusal model question-level features
    assert set(model.columns) <= set(FEATURES) and model.refusal is not None
    assert 0.0 < model.part_threshold < 1.0
    a = model.answerability(np.zeros((3, len(FEATURES))), probs)
    assert a is not None and 0.0 < a < 1.0 and model.answerability(np.zeros((0, len(FEATURES))), np.zeros(0)) is None


def test_refusal_stage_prefers_evidence_that_names_the_question():
    """Same best score, but every key term of the question is missing from all evidence: less answerable."""
    from rag.answer.features import question_features  # noqa: F401 - the stage reads these

    model = load_model()
    x = np.zeros((2, len(FEATURES)))
    x[:, FEATURES.index("cos")] = 0.6
    x[:, FEATURES.index("cover")] = 0.8
    probs = np.array([0.7, 0.2])
    found = model.answerability(x, probs)
    x[:, FEATURES.index("keys_nowhere")] = 1.0
    x[:, FEATURES.index("terms_nowhere")] = 0.5
    assert model.answerability(x, probs) < found


def test_query_time_import_does_not_load_sklearn():
    code = ("import sys; from rag.service.ask import QuestionPath; from rag.answer.evidence_model import load_model; "
            "load_model(); print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.strip() == "False"


def test_model_trained_on_other_features_is_refused(tmp_path):
    d = json.loads(MODEL_FILE.read_text())
    d["features"] = [*d["features"], "no_such_feature"]  # a column this code does not compute
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match="train-answerer"):
        load_model(bad)
    d = json.loads(MODEL_FILE.read_text())
    d["refusal"]["features"] = d["refusal"]["features"][:-1]
    bad.write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match="train-answerer"):
        load_model(bad)
    with pytest.raises(ModelFileError, match="missing"):
        load_model(tmp_path / "none.json")


def test_numpy_trees_equal_sklearn_and_cv_figure_reproduces():
    """Fit the exporter on synthetic data: the numpy trees must give scikit-learn's probabilities."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from eval.train_answerer import TREE_PARAMS, _export_tree

    rng = np.random.default_rng(0)
    x = rng.normal(size=(800, len(FEATURES)))
    x[rng.random(x.shape) < 0.02] = np.nan
    y = (np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 3]) + rng.normal(scale=0.5, size=800) > 0).astype(int)
    gb = HistGradientBoostingClassifier(random_state=0, **TREE_PARAMS).fit(x, y)
    from rag.answer.evidence_model import EvidenceModel

    model = EvidenceModel(kind="trees", threshold=0.5, baseline=float(np.ravel(gb._baseline_prediction)[0]),
                          trees=tuple(_export_tree(p[0]) for p in gb._predictors))
    np.testing.assert_allclose(model.predict(x), gb.predict_proba(x)[:, 1], rtol=1e-6, atol=1e-9)


def test_recorded_cross_validated_score_reproduces():
    """Re-run the grouped cross-validation on the stored training table: same top-1 figure as recorded."""
    from eval.train_answerer import TABLE, load_table, oof_top1

    assert TABLE.is_file(), f"{TABLE} is missing: `rag eval train-answerer` writes it beside the model"
    model = load_model()
    cases = load_table()
    assert len(cases) == sum(model.cv["trained_on"].values())
    assert oof_top1(cases, model.kind) == pytest.approx(model.cv["oof_top1_positive"], abs=1e-4)


def test_stacked_forest_gives_the_same_floats_as_tree_by_tree():
    """The query path walks all trees at once (`Forest`); the scores must be the very floats of walking the
    exported trees one at a time (the recorded cross-validation was computed that way)."""
    model = load_model()
    d = np.load(MODEL_FILE.parent.parent.parent / "eval" / "data" / "answerer_features.npz")
    x = d["x"][:3000].astype(np.float64)
    x[::97, 0] = np.nan  # a missing value takes each node's recorded side
    cols = x[:, [FEATURES.index(c) for c in model.columns]]
    expected = np.full(len(x), model.baseline)
    for tree in model.trees:
        expected += tree.predict(cols)
    assert np.array_equal(model.logits(x), expected)


def test_a_model_without_trees_scores_its_baseline():
    from rag.answer.evidence_model import EvidenceModel

    model = EvidenceModel(kind="trees", threshold=0.5, baseline=0.25)
    assert np.array_equal(model.logits(np.zeros((3, len(FEATURES)))), np.full(3, 0.25))


def test_refusal_coefficients_keep_their_signs():
    """Evidence that lacks what the question names may only lower answerability, evidence that names it only
    raise it: a collinear feature fitted with the wrong sign is dropped (coefficient 0) and the rest refitted."""
    from eval.train_answerer import REFUSAL_SIGNS, fit_signed
    from rag.answer.features import QUESTION_FEATURES

    assert set(REFUSAL_SIGNS) == set(QUESTION_FEATURES)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(400, len(QUESTION_FEATURES)))
    col = {f: j for j, f in enumerate(QUESTION_FEATURES)}
    z = 1.5 * q[:, col["top_logit"]] - 1.0 * q[:, col["top_subst"]] + rng.normal(scale=0.5, size=400)
    q[:, col["focus_nowhere"]] = z + rng.normal(scale=0.3, size=400)  # tracks answerability: fits positive
    y = (z > 0).astype(int)
    from sklearn.linear_model import LogisticRegression

    free = LogisticRegression(max_iter=5000).fit(q, y).coef_[0]
    assert free[col["focus_nowhere"]] > 0  # the unconstrained fit takes the wrong sign
    coef, _ = fit_signed(q, y)
    signs = np.array([REFUSAL_SIGNS[f] for f in QUESTION_FEATURES])
    assert np.all(coef * signs >= 0) and coef[col["focus_nowhere"]] == 0
    assert coef[col["top_logit"]] > 0 and coef[col["top_subst"]] < 0
    shipped = load_model().refusal
    assert shipped is not None and np.all(shipped.coef * signs >= 0)


def test_signed_fit_with_no_feature_of_the_right_sign_is_the_base_rate():
    from eval.train_answerer import REFUSAL_SIGNS, fit_signed
    from rag.answer.features import QUESTION_FEATURES

    signs = np.array([REFUSAL_SIGNS[f] for f in QUESTION_FEATURES], dtype=float)
    rng = np.random.default_rng(1)
    z = rng.normal(size=300)
    q = -signs[None, :] * z[:, None] + rng.normal(scale=0.1, size=(300, len(signs)))  # every sign reversed
    y = (z > 0).astype(int)
    coef, intercept = fit_signed(q, y)
    assert not coef.any() and intercept == pytest.approx(np.log(y.mean() / (1 - y.mean())))
