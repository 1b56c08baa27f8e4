"""Each chunk's BM25 terms, saved with its generation so a commit analyses only the chunks it adds (issue 30).

bm25s cannot update an index, so every generation is built again from all chunks; analysing their texts
(stop words, stems, jieba for Han text) was most of that work: ~0.7 s of a one-document commit on SciFact,
~30 s on the 34k-chunk Chinese news collection. The terms do not change while a chunk lives (a row id
names one chunk text for the collection's life: SQLite AUTOINCREMENT, chunks are never updated), so the
previous generation's terms are reused and only rows it lacks are analysed.

Stored compactly (`terms.npz`, uncompressed so it loads in milliseconds): the vocabulary as one UTF-8
blob of "\n"-joined terms (a term never holds whitespace: bm25s's \\w pattern, jieba words of Han runs),
every row's term ids in one flat int32 array, and int64 offsets per row. A row is reused only when its
text's CRC-32 matches too, and the whole file only when it was written by the same analyser (`key`: the
BM25 parameters and analyser version), so a stale file can cost a full analysis but never a wrong index.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TERMS_FILE = "terms.npz"


@dataclass(frozen=True)
class RowTerms:
    key: str  # the analyser that produced the terms (BM25 params + versions): reuse needs an equal key
    row_ids: np.ndarray  # int64, in index order
    checks: np.ndarray  # uint32 CRC-32 of each row's text
    vocab: list[str]  # every term used by some row (unused ones are dropped at each build)
    ids: np.ndarray  # int32, all rows' term ids one after another
    offsets: np.ndarray  # int64, len(row_ids) + 1: row i's terms are ids[offsets[i]:offsets[i + 1]]

    def corpus(self) -> tuple[list[list[int]], dict[str, int]]:
        """bm25s's (token ids per document, vocabulary) input: skips its string-to-id pass. The vocabulary
        holds only terms present, as bm25s's own would (its BM25L/BM25+ give every term a score)."""
        flat, bounds = self.ids.tolist(), self.offsets.tolist()
        return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])], {t: i for i, t in enumerate(self.vocab)}

    def save(self, path: Path) -> None:
        np.savez(path, key=_blob(self.key), row_ids=self.row_ids, checks=self.checks,
                 vocab=_blob("\n".join(self.vocab)), ids=self.ids, offsets=self.offsets)

    @classmethod
    def load(cls, path: Path) -> RowTerms | None:
        """The saved terms, or None when absent or unreadable (the caller analyses every text)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                vocab = bytes(z["vocab"]).decode("utf-8")
                terms = cls(bytes(z["key"]).decode("utf-8"), z["row_ids"], z["checks"],
                            vocab.split("\n") if vocab else [], z["ids"], z["offsets"])
        except (OSError, KeyError, ValueError):
            return None
        sound = len(terms.offsets) == len(terms.row_ids) + 1 == len(terms.checks) + 1 and \
            (len(terms.row_ids) == 0 or int(terms.offsets[-1]) == len(terms.ids))
        return terms if sound else None


def _blob(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def merge_terms(key: str, row_ids: np.ndarray, texts: list[str], tokenize: Callable[[list[str]], list[list[str]]],
                previous: RowTerms | None) -> RowTerms:
    """Terms of every row: `previous`'s where it has the row (same id and text CRC, same `key`), the rest
    from `tokenize`. Rows `previous` has but `row_ids` lacks are dropped, and so are terms no row uses."""
    row_ids = np.asarray(row_ids, dtype=np.int64)
    checks = np.array([zlib.crc32(t.encode("utf-8")) for t in texts], dtype=np.uint32)
    src = np.full(len(row_ids), -1, dtype=np.int64)  # each row's position in previous; -1 = analyse its text
    if previous is not None and previous.key == key and len(previous.row_ids):
        order = np.argsort(previous.row_ids, kind="stable")
        pos = np.minimum(np.searchsorted(previous.row_ids[order], row_ids), len(order) - 1)
        hit = previous.row_ids[order[pos]] == row_ids
        hit &= previous.checks[order[pos]] == checks
        src[hit] = order[pos[hit]]
        vocab = list(previous.vocab)
        old_ids, old_offsets = previous.ids, previous.offsets
    else:
        vocab, old_ids, old_offsets = [], np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64)
    kept = src >= 0
    fresh = np.flatnonzero(~kept)
    lookup = {t: i for i, t in enumerate(vocab)}
    new_flat: list[int] = []
    lens = np.zeros(len(row_ids), dtype=np.int64)
    lens[kept] = old_offsets[src[kept] + 1] - old_offsets[src[kept]]
    for i, terms in zip(fresh.tolist(), tokenize([texts[i] for i in fresh.tolist()]) if len(fresh) else []):
        for t in terms:
            tid = lookup.get(t)
            if tid is None:
                tid = lookup[t] = len(vocab)
                vocab.append(t)
            new_flat.append(tid)
        lens[i] = len(terms)
    offsets = np.zeros(len(row_ids) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    ids = np.empty(int(offsets[-1]), dtype=np.int32)
    # Kept rows: copy each row's slice of the previous flat array in one gather (position + per-row shift).
    kept_pos = np.repeat(kept, lens)
    shift = np.zeros(len(row_ids), dtype=np.int64)
    shift[kept] = old_offsets[src[kept]] - offsets[:-1][kept]
    gather = np.arange(len(ids), dtype=np.int64) + np.repeat(shift, lens)
    ids[kept_pos] = old_ids[gather[kept_pos]]
    ids[~kept_pos] = np.array(new_flat, dtype=np.int32)  # fresh rows in row order, as they were appended
    used = np.bincount(ids, minlength=len(vocab)) > 0
    if not used.all():  # terms only removed rows had: renumber the rest densely
        remap = np.cumsum(used, dtype=np.int64) - 1
        ids = remap[ids].astype(np.int32)
        vocab = [t for t, u in zip(vocab, used.tolist()) if u]
    return RowTerms(key, row_ids, checks, vocab, ids, offsets)
