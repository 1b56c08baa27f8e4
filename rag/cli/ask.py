"""`rag ask QUESTION`: a grounded answer with [n] markers and a numbered source list."""



import sys
from typing import Annotated, Optional

import typer

from rag.cli.common import CollectionOpt, IndexDirOpt, fail, make_settings, open_service, parse_filters
from rag.models import Answer, AnswerMode, AskRequest, ExplainTrace, SearchFilters
from rag.settings import Settings


def render(answer: Answer) -> str:
    """Plain-text rendering shared by the CLI (and readable in any terminal or log)."""
    lines = [answer.answer.strip(), ""]
    for note in answer.notes:
        lines.append(f"note: {note}")
    if answer.refused and answer.closest:
        lines.append("Closest passages:")
        for i, h in enumerate(answer.closest, start=1):
            p = h.passage
            lines.append(f"  {i}. {p.title or '(untitled)'} ({p.date or 'undated'}) {p.source}")
            lines.append(f"     {p.text[:200]}{'…' if len(p.text) > 200 else ''}")
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            page = f", p. {c.page}" if c.page else (f", {c.location}" if c.location else "")
            check = "verified" if c.verified else "UNVERIFIED"
            lines.append(f"  [{c.n}] {c.title or '(untitled)'} — {c.date or 'undated'} — {c.source}{page} "
                         f"chars {c.start}-{c.end} ({check})")
            lines.append(f"      \"{c.quote}\"")
    if answer.explain is not None:
        lines += ["", *render_explain(answer.explain)]
    return "\n".join(lines).rstrip() + "\n"


def render_explain(trace: ExplainTrace) -> list[str]:
    """The stage-by-stage trace: a retrieval miss, a scoring miss and a refusal look different here."""
    lines = ["Explain:"]
    if trace.rewritten_question:
        lines.append(f"  rewritten question: {trace.rewritten_question}")
    lines.append("  retrieved passages (rank, score, dense, bm25):")
    for p in trace.passages:
        dense = "-" if p.dense_score is None else f"{p.dense_score:.3f}"
        bm25 = "-" if p.bm25_score is None else f"{p.bm25_score:.2f}"
        sentence = "" if p.sentence_score is None else f"  sentence {p.sentence_score:.3f}"
        lines.append(f"    {p.rank}. {p.score:.4f}  {dense}  {bm25}{sentence}  {p.title[:70]}")
    lines.append("  top sentence candidates (model score, passage rank, features):")
    for c in trace.candidates:
        feats = " ".join(f"{k}={v:.2f}" for k, v in c.features.items())
        lines.append(f"    {c.score:.3f}  p{c.passage_rank}  {c.text[:100]}")
        lines.append(f"           {feats}")
    if trace.refusal is not None:
        r = trace.refusal
        best = "-" if r.best_score is None else f"{r.best_score:.3f}"
        margin = "-" if r.margin is None else f"{r.margin:+.3f}"
        lines.append(f"  refusal: {'REFUSED' if r.refused else 'answered'} (best {best}, threshold {r.threshold:.3f}, "
                     f"margin {margin}) {r.reason}")
    if trace.composer:
        lines.append(f"  composer: {trace.composer}")
    if trace.lead_rule:
        lines.append(f"  lead sentence: chosen by the rule '{trace.lead_rule}', not the model's first choice")
    if trace.model:
        lines.append(f"  evidence model: {trace.model}")
    return lines


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: Annotated[str, typer.Argument(help="Your question")],
        k: Annotated[Optional[int], typer.Option("--k", "-k", min=1, max=50, help="Passages to read")] = None,
        since: Annotated[Optional[str], typer.Option(help="Only documents dated on/after YYYY-MM-DD")] = None,
        until: Annotated[Optional[str], typer.Option(help="Only documents dated on/before YYYY-MM-DD")] = None,
        source: Annotated[Optional[str], typer.Option(help="Only sources matching this glob")] = None,
        mode: Annotated[Optional[str], typer.Option(help="auto | extractive | read | llm | hybrid (auto: read with a reader, else extractive)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the structured answer as JSON")] = False,
        explain: Annotated[bool, typer.Option(
            "--explain", help="Show which stage decided: passages, scored sentence candidates, refusal margin")] = False,
        local_llm: Annotated[bool, typer.Option(
            "--local-llm", help="Answer with the local reader model, started for this question and stopped afterwards "
            "(RAG_LOCAL_LLM)")] = False,
        collection: CollectionOpt = None,
        index_dir: IndexDirOpt = None,
    ) -> None:
        """Answer from the indexed documents only; every sentence cites a verified passage."""
        if not question.strip():
            fail("The question is empty. Ask something, e.g. rag ask \"Who chaired the meeting?\"")
        # --local-llm only asks: the service starts the model for this question and stops it when it closes.
        settings = make_settings(collection, index_dir, local_llm=local_llm or None)
        filters = parse_filters(since, until, source)
        answer = _ask(settings, question, k, filters, mode, explain)
        if as_json:
            sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
        else:
            sys.stdout.write(render(answer))


def _ask(settings: Settings, question: str, k: Optional[int], filters: Optional[SearchFilters],
         mode: Optional[str], explain: bool = False) -> Answer:
    from rag.service.display import DisplayNames
    from rag.service.wording import plain_words

    try:
        request = AskRequest(question=question, k=k, filters=filters, mode=AnswerMode(mode) if mode else None,
                             explain=explain)
    except ValueError as e:
        fail(str(e))
    with open_service(settings) as service:
        # refusal scores only with --explain; documents by display name, as every front end names them
        return DisplayNames(service)(plain_words(service.ask(request)))
