"""The feedback store: served predictions kept for a horizon, joined with labels.

A SQLite file (stdlib ``sqlite3``) holds one row per (request id, model node): the
node's output for that request and, once it arrives, the true label. Predictions
older than the horizon (default 24 h) are purged and their request ids kept as
*expired* for one more horizon, so a late label is told apart from one for a request
the store never saw. The file is bounded twice: by the horizon and by ``max_rows``
(the oldest predictions go first, counted as evicted).

Every label is counted under one outcome: ``matched``, ``unknown`` (no such
request), ``expired`` (its prediction outlived the horizon) or ``duplicate`` (the
request already had a label; the first one stays).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

__all__ = ["DEFAULT_HORIZON", "FeedbackStore", "LABEL_OUTCOMES", "default_store_path"]

DEFAULT_HORIZON = 24 * 3600.0
DEFAULT_MAX_ROWS = 2_000_000
SCORED_LIMIT = 100_000  # the latest labelled predictions a node's quality is computed over
LABEL_OUTCOMES = ("matched", "unknown", "expired", "duplicate")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    request_id TEXT NOT NULL,
    node TEXT NOT NULL,
    prediction TEXT NOT NULL,
    served REAL NOT NULL,
    label TEXT,
    labelled REAL,
    PRIMARY KEY (request_id, node)
);
CREATE INDEX IF NOT EXISTS predictions_served ON predictions (served);
DROP INDEX IF EXISTS predictions_labelled;
CREATE INDEX IF NOT EXISTS predictions_labelled_only ON predictions (node, labelled) WHERE labelled IS NOT NULL;
CREATE TABLE IF NOT EXISTS expired (request_id TEXT PRIMARY KEY, until REAL NOT NULL);
"""


_INSERT = "INSERT OR REPLACE INTO predictions (request_id, node, prediction, served) VALUES (?, ?, ?, ?)"
#: the same rows given as one JSON array of [request_id, node, prediction, served]; ``->``
#: gives the prediction back as JSON text, numbers written as they were sent
_INSERT_JSON = ("INSERT OR REPLACE INTO predictions (request_id, node, prediction, served) "
                "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), value -> '$[2]', "
                "json_extract(value, '$[3]') FROM json_each(?)")


def _has_json(db: sqlite3.Connection) -> bool:
    """Whether this SQLite has its JSON functions and ``->`` (built in since 3.38)."""
    try:
        db.execute("SELECT value -> '$' FROM json_each('[1]')").fetchall()
    except sqlite3.OperationalError:
        return False
    return True


def default_store_path(graph: str, base_dir: str | Path | None) -> Path:
    """Where a graph's feedback lives by default: ``<graph>.feedback.sqlite`` in
    ``$HOGAR_FEEDBACK_DIR`` when set (the console sets it for the servers it starts),
    else in ``.hogar/`` beside the graph file, or the user's data directory when there
    is no file."""
    if os.environ.get("HOGAR_FEEDBACK_DIR"):
        folder = Path(os.environ["HOGAR_FEEDBACK_DIR"])
    elif base_dir is not None:
        folder = Path(base_dir) / ".hogar"
    else:
        import platformdirs

        folder = Path(platformdirs.user_data_dir("hogar", appauthor=False)) / "feedback"  # as the console
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{graph}.feedback.sqlite"


class FeedbackStore:
    """Predictions and their labels for one graph, in SQLite; safe from any thread."""

    def __init__(self, path: str | Path = ":memory:", horizon: float = DEFAULT_HORIZON,
                 max_rows: int = DEFAULT_MAX_ROWS, clock: Any = time.time) -> None:
        if horizon <= 0:
            raise ValueError(f"got {horizon} for the feedback horizon; expected seconds > 0")
        self.path = str(path)
        self.horizon = float(horizon)
        self.max_rows = int(max_rows)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._json = _has_json(self._db)
        self.outcomes: dict[str, Counter[str]] = {}  # node -> outcome -> labels
        self.totals: Counter[str] = Counter()  # outcome -> labels, each label once
        self.evicted = 0
        self.purged = 0
        self._next_purge = 0.0

    # -- predictions --------------------------------------------------------------------
    def add_predictions(self, rows: Iterable[tuple[str, str, Any, float]]) -> int:
        """Keep ``(request_id, node, prediction, served_time)`` rows (one transaction);
        returns how many were written."""
        data = rows if isinstance(rows, list) else list(rows)
        if not data:
            return 0
        if self._json:  # one text for the batch, one statement: the GIL is let go once, not once a row
            text = orjson.dumps(data, default=_plain)
        else:
            data = [(rid, node, _dumps(pred), served) for rid, node, pred, served in data]
        with self._lock:
            self._db.execute("BEGIN")
            if self._json:
                self._db.execute(_INSERT_JSON, (text,))
            else:
                self._db.executemany(_INSERT, data)
            self._db.execute("COMMIT")
            now = self._clock()
            if now >= self._next_purge:
                self._purge(now)
                self._next_purge = now + min(60.0, self.horizon / 10)
        return len(data)

    def purge(self) -> None:
        """Expire predictions past the horizon and forget expired ids past two."""
        with self._lock:
            self._purge(self._clock())

    def _purge(self, now: float) -> None:
        db = self._db
        db.execute("BEGIN")
        cut = now - self.horizon
        db.execute("INSERT OR IGNORE INTO expired (request_id, until) "
                   "SELECT request_id, ? FROM predictions WHERE served < ?", (now + self.horizon, cut))
        self.purged += db.execute("DELETE FROM predictions WHERE served < ?", (cut,)).rowcount
        db.execute("DELETE FROM expired WHERE until < ?", (now,))
        (count,) = db.execute("SELECT COUNT(*) FROM predictions").fetchone()
        if count > self.max_rows:
            self.evicted += db.execute(
                "DELETE FROM predictions WHERE rowid IN (SELECT rowid FROM predictions ORDER BY served LIMIT ?)",
                (count - self.max_rows,)).rowcount
        db.execute("COMMIT")

    # -- labels -------------------------------------------------------------------------
    def add_labels(self, labels: Sequence[tuple[str, Any]], held: list[tuple[str, Any]] | None = None
                   ) -> dict[str, int]:
        """Join each ``(request_id, label)`` with the predictions of that request;
        returns the count of each outcome (also added to :attr:`outcomes`). With a
        ``held`` list, a label for a request not seen (yet) goes there instead of
        counting as unknown."""
        tally: Counter[str] = Counter()
        now = self._clock()
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            for rid, label in labels:
                rows = db.execute("SELECT node, labelled FROM predictions WHERE request_id = ? AND served >= ?",
                                  (rid, now - self.horizon)).fetchall()
                if not rows:
                    late = db.execute("SELECT 1 FROM predictions WHERE request_id = ? UNION ALL "
                                      "SELECT 1 FROM expired WHERE request_id = ?", (rid, rid)).fetchone()
                    outcome = "expired" if late else "unknown"
                    if outcome == "unknown" and held is not None:
                        held.append((rid, label))
                        continue
                    tally[outcome] += 1
                    continue
                text = _dumps(label)
                for node, labelled in rows:
                    outcome = "duplicate" if labelled is not None else "matched"
                    if outcome == "matched":
                        db.execute("UPDATE predictions SET label = ?, labelled = ? WHERE request_id = ? AND node = ?",
                                   (text, now, rid, node))
                    self.outcomes.setdefault(node, Counter())[outcome] += 1
                tally["duplicate" if all(r[1] is not None for r in rows) else "matched"] += 1
            db.execute("COMMIT")
            self.totals.update(tally)
        return {k: tally.get(k, 0) for k in LABEL_OUTCOMES}

    def labelled(self, node: str, most: int = SCORED_LIMIT, since: float | None = None) -> list[tuple[Any, Any]]:
        """The (prediction, label) pairs of ``node`` still within the horizon (and
        served at or after ``since``, epoch s), the latest ``most`` of them, oldest first."""
        cut = self._clock() - self.horizon
        if since is not None:
            cut = max(cut, since)
        with self._lock:
            rows = self._db.execute("SELECT prediction, label FROM predictions "
                                    "WHERE node = ? AND labelled IS NOT NULL AND served >= ? "
                                    "ORDER BY served DESC, rowid DESC LIMIT ?", (node, cut, most)).fetchall()
        return [(orjson.loads(p), orjson.loads(y)) for p, y in reversed(rows)]

    def counts(self) -> dict[str, int]:
        """Predictions kept, those labelled, and expired ids remembered."""
        with self._lock:
            (kept,) = self._db.execute("SELECT COUNT(*) FROM predictions").fetchone()
            (labelled,) = self._db.execute("SELECT COUNT(*) FROM predictions WHERE labelled IS NOT NULL").fetchone()
            (expired,) = self._db.execute("SELECT COUNT(*) FROM expired").fetchone()
        return {"predictions": kept, "labelled": labelled, "expired_ids": expired,
                "purged": self.purged, "evicted": self.evicted}

    def label_outcomes(self, node: str | None = None) -> dict[str, int]:
        """Labels by outcome, for ``node`` or (None) over the whole graph, each label
        once; ``unknown`` and ``expired`` labels belong to no node, only to the graph."""
        c = self.totals if node is None else self.outcomes.get(node, Counter())
        return {k: c.get(k, 0) for k in LABEL_OUTCOMES}

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _dumps(value: Any) -> str:
    """A prediction or label as JSON text (numpy scalars and arrays as plain values)."""
    tolist = getattr(value, "tolist", None)
    return orjson.dumps(tolist() if callable(tolist) else value).decode()


def _plain(value: Any) -> Any:
    """orjson's ``default``: a numpy scalar or array (or anything with ``tolist``) as
    plain values, as :func:`_dumps` writes them."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
