"""Operator statistics: questions, refusals and "not helpful" feedback counted per day; question text
kept only on request.

Counts never hold question text. The text of refused questions (what the corpus is missing) is
stored only when Settings.log_refused_questions is on, the text of questions whose answer a reader
marked "not helpful" only when Settings.log_feedback_questions is on, and rows older than the retention limit are
deleted on every write and read. Kept in `<index_dir>/<collection>.ops.sqlite`, beside the
collection's folder rather than in it: it is not part of what a generation stores, and a
`--rebuild` (which swaps the whole folder) keeps it.

Every answer is counted on its way out, so the write must be cheap: one connection is kept open
and the file is in WAL mode with synchronous=NORMAL (a commit appends to the log without an
fsync; a crash of the process loses nothing, a power cut at most the last counts). Measured here:
opening the file and committing in rollback-journal mode took 5.1 ms wall p50 / 20.8 ms p95 per
answer (fsyncs), the kept connection in WAL mode ~0.1 ms. When question rows are deleted the log is
checkpointed and truncated, so deleted text does not linger in the -wal file either.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from rag.models import Answer

OPS_SUFFIX = ".ops.sqlite"
MAX_KEPT_QUESTIONS = 10_000  # a bound beside the age limit, so a flood of refusals cannot fill the disk
_SCHEMA = """
CREATE TABLE IF NOT EXISTS daily (day TEXT PRIMARY KEY, asked INTEGER NOT NULL, refused INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refused_questions (id INTEGER PRIMARY KEY, at TEXT NOT NULL, question TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback_daily (day TEXT NOT NULL, reason TEXT NOT NULL, refused INTEGER NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (day, reason, refused));
CREATE TABLE IF NOT EXISTS feedback_questions (id INTEGER PRIMARY KEY, at TEXT NOT NULL, reason TEXT NOT NULL,
    question TEXT NOT NULL);
"""
FeedbackReason = Literal["wrong", "incomplete", "should_have_answered", "bad_citation", "other"]


class DayCount(BaseModel):
    day: str = Field(description="UTC day, YYYY-MM-DD")
    asked: int
    refused: int
    not_helpful: int = Field(0, description="Answers marked not helpful by a reader that day")


class RefusedQuestion(BaseModel):
    at: str = Field(description="UTC time, ISO 8601")
    question: str


class Feedback(BaseModel):
    """One "not helpful" mark on an answer, as the chat page (or any client) sends it."""

    reason: FeedbackReason = Field(description="wrong | incomplete | should_have_answered (refused, but the "
                                   "documents hold it) | bad_citation | other")
    refused: bool = Field(False, description="Whether the marked answer was a refusal")
    question: str | None = Field(None, max_length=20_000, description="The question; its text is kept only when "
                                 "the operator turned on log_feedback_questions, otherwise it is dropped at once")


class FeedbackQuestion(BaseModel):
    at: str = Field(description="UTC time, ISO 8601")
    reason: str
    question: str


class RefusalStats(BaseModel):
    days: list[DayCount] = Field(description="Newest first")
    asked: int
    refused: int
    questions_logged: bool = Field(description="Whether refused questions' text is kept (log_refused_questions)")
    retention_days: int
    questions: list[RefusedQuestion] = Field(default_factory=list, description="Newest first; empty unless logged")
    not_helpful: int = Field(0, description="Answers marked not helpful in the days shown")
    not_helpful_refused: int = Field(0, description="Of those, refusals (a reader thinks the documents hold it)")
    feedback_reasons: dict[str, int] = Field(default_factory=dict, description="not_helpful by reason")
    feedback_questions_logged: bool = Field(False, description="Whether marked questions' text is kept "
                                            "(log_feedback_questions)")
    feedback_questions: list[FeedbackQuestion] = Field(default_factory=list,
                                                       description="Newest first; empty unless logged")


class RefusalLog:
    def __init__(self, collection_dir: Path, keep_questions: bool, retention_days: int,
                 keep_feedback_questions: bool = False) -> None:
        collection_dir = Path(collection_dir)
        self.path = collection_dir.with_name(collection_dir.name + OPS_SUFFIX)
        self.keep_questions, self.retention_days = keep_questions, retention_days
        self.keep_feedback_questions = keep_feedback_questions
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._expired_rows = False  # question rows deleted since the last checkpoint

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The kept connection (opened on first use), inside one transaction; the caller holds _lock."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
            conn.execute("PRAGMA secure_delete = ON")  # a deleted question is overwritten, not left in free pages
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        with self._conn as conn:  # commits, or rolls back on an exception
            yield conn
        if self._expired_rows:
            self._expired_rows = False
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # deleted text leaves the -wal file too

    def _expire(self, conn: sqlite3.Connection, now: datetime) -> None:
        deleted = 0
        for table, keep in (("refused_questions", self.keep_questions),
                            ("feedback_questions", self.keep_feedback_questions)):
            if not keep:  # turned off: what was kept while it was on goes too
                deleted += conn.execute(f"DELETE FROM {table}").rowcount
                continue
            cutoff = (now - timedelta(days=self.retention_days)).isoformat(timespec="seconds")
            deleted += conn.execute(f"DELETE FROM {table} WHERE at < ?", (cutoff,)).rowcount
            deleted += conn.execute(f"DELETE FROM {table} WHERE id NOT IN "
                                    f"(SELECT id FROM {table} ORDER BY id DESC LIMIT ?)", (MAX_KEPT_QUESTIONS,)).rowcount
        self._expired_rows = self._expired_rows or deleted > 0

    def record(self, answer: Answer, now: datetime | None = None) -> None:
        now = now or datetime.now(timezone.utc)
        refused = int(answer.refused)
        with self._lock, self._connect() as conn:
            conn.execute("INSERT INTO daily(day, asked, refused) VALUES (?, 1, ?) ON CONFLICT(day) DO UPDATE "
                         "SET asked = asked + 1, refused = refused + excluded.refused", (now.date().isoformat(), refused))
            if refused and self.keep_questions:
                conn.execute("INSERT INTO refused_questions(at, question) VALUES (?, ?)",
                             (now.isoformat(timespec="seconds"), answer.question))
            self._expire(conn, now)

    def record_feedback(self, feedback: Feedback, now: datetime | None = None) -> None:
        """Count one "not helpful" mark; keep its question's text only when the operator opted in."""
        now = now or datetime.now(timezone.utc)
        with self._lock, self._connect() as conn:
            conn.execute("INSERT INTO feedback_daily(day, reason, refused, count) VALUES (?, ?, ?, 1) "
                         "ON CONFLICT(day, reason, refused) DO UPDATE SET count = count + 1",
                         (now.date().isoformat(), feedback.reason, int(feedback.refused)))
            if self.keep_feedback_questions and feedback.question and feedback.question.strip():
                conn.execute("INSERT INTO feedback_questions(at, reason, question) VALUES (?, ?, ?)",
                             (now.isoformat(timespec="seconds"), feedback.reason, feedback.question.strip()))
            self._expire(conn, now)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def stats(self, days: int = 30, now: datetime | None = None) -> RefusalStats:
        now = now or datetime.now(timezone.utc)
        rows: list[tuple[str, int, int]] = []
        questions: list[tuple[str, str]] = []
        marks: list[tuple[str, str, int, int]] = []
        marked: list[tuple[str, str, str]] = []
        if self.path.exists():
            with self._lock, self._connect() as conn:
                self._expire(conn, now)
                since = (now.date() - timedelta(days=days - 1)).isoformat()
                rows = conn.execute("SELECT day, asked, refused FROM daily WHERE day >= ? ORDER BY day DESC",
                                    (since,)).fetchall()
                marks = conn.execute("SELECT day, reason, refused, count FROM feedback_daily WHERE day >= ?",
                                     (since,)).fetchall()
                if self.keep_questions:
                    questions = conn.execute("SELECT at, question FROM refused_questions ORDER BY id DESC").fetchall()
                if self.keep_feedback_questions:
                    marked = conn.execute("SELECT at, reason, question FROM feedback_questions ORDER BY id DESC").fetchall()
        per_day: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for day, reason, _, count in marks:
            per_day[day] = per_day.get(day, 0) + count
            reasons[reason] = reasons.get(reason, 0) + count
        counted = {d: (a, r) for d, a, r in rows}
        for day in per_day:  # feedback on a day with no counted question (e.g. an answer from before midnight)
            counted.setdefault(day, (0, 0))
        return RefusalStats(
            days=[DayCount(day=d, asked=a, refused=r, not_helpful=per_day.get(d, 0))
                  for d, (a, r) in sorted(counted.items(), reverse=True)],
            asked=sum(r[1] for r in rows), refused=sum(r[2] for r in rows),
            questions_logged=self.keep_questions, retention_days=self.retention_days,
            questions=[RefusedQuestion(at=at, question=q) for at, q in questions],
            not_helpful=sum(per_day.values()), not_helpful_refused=sum(m[3] for m in marks if m[2]),
            feedback_reasons=reasons, feedback_questions_logged=self.keep_feedback_questions,
            feedback_questions=[FeedbackQuestion(at=at, reason=r, question=q) for at, r, q in marked],
        )
