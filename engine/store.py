"""The run store: one SQLite file (runs, metric history) plus one artifact folder per run.

A run's id is the hash of its spec (see RunSpec.run_id), so the same request finds the
same row. Every write is one transaction; artifacts are written to a temporary name,
then renamed, and their sha256 is recorded so a damaged file is noticed on load.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from engine.core import RunSpec

STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
RESTARTABLE = ("failed", "cancelled", "interrupted")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, algorithm TEXT NOT NULL, variant TEXT NOT NULL, preset TEXT,
    seed INTEGER, spec TEXT NOT NULL, status TEXT NOT NULL, created REAL, started REAL,
    finished REAL, heartbeat REAL, pid INTEGER, host TEXT, progress REAL DEFAULT 0,
    note TEXT DEFAULT '', params INTEGER, train_seconds REAL, metrics TEXT, error TEXT,
    env TEXT, cancel INTEGER DEFAULT 0, artifacts TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_algorithm ON runs (algorithm, status);
CREATE TABLE IF NOT EXISTS history (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, seconds REAL NOT NULL,
    key TEXT NOT NULL, value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_run ON history (run_id);
"""


class CorruptArtifact(RuntimeError):
    """An artifact file is missing or its checksum does not match the store."""


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    run = dict(row)
    for key in ("metrics", "env", "artifacts", "spec"):
        run[key] = json.loads(run[key]) if run[key] else {}
    return run


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.artifact_root = self.root / "artifacts"
        self.artifact_root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "runs.sqlite"
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            db.executescript(SCHEMA)
        finally:
            db.close()

    @contextmanager
    def _db(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        """One connection per operation: safe across threads and processes."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # ---- lookups -------------------------------------------------------------------
    def get(self, run_id: str) -> dict[str, Any] | None:
        with self._db() as db:
            return _row(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())

    def get_many(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM runs WHERE id IN ({marks})", run_ids).fetchall()
        return {r["id"]: _row(r) for r in rows}

    def list_runs(self, algorithm: str | None = None, status: str | None = None) -> list[dict]:
        query, args = "SELECT * FROM runs WHERE 1=1", []
        if algorithm:
            query, args = query + " AND algorithm = ?", [*args, algorithm]
        if status:
            query, args = query + " AND status = ?", [*args, status]
        with self._db() as db:
            return [_row(r) for r in db.execute(query + " ORDER BY created DESC", args)]

    def history(self, run_id: str) -> list[tuple[int, float, str, float]]:
        """(step, seconds, key, value) rows in the order they were reported."""
        with self._db() as db:
            return [tuple(r) for r in db.execute(
                "SELECT step, seconds, key, value FROM history WHERE run_id = ? ORDER BY rowid",
                (run_id,))]

    # ---- queueing ------------------------------------------------------------------
    def enqueue(self, run_id: str, spec: RunSpec, force: bool = False) -> tuple[dict, bool]:
        """Queue a run unless it is already done, queued or running.

        Returns (row, queued_now). A finished run is only redone with force; a failed,
        cancelled or interrupted one is queued again; a live one is shared.
        """
        now = time.time()
        with self._db(immediate=True) as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            status = row["status"] if row else None
            live = status in ("queued", "running")
            if status == "done" and not force or live:
                queued = False
            else:
                if row:
                    db.execute("DELETE FROM history WHERE run_id = ?", (run_id,))
                    db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
                db.execute(
                    "INSERT INTO runs (id, algorithm, variant, preset, seed, spec, status, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                    (run_id, spec.algorithm, spec.variant, spec.preset, spec.seed,
                     spec.to_json(), now))
                queued = True
        if queued:
            shutil.rmtree(self.artifact_root / run_id, ignore_errors=True)
        return self.get(run_id), queued

    def claim_next(self, run_id: str | None = None) -> dict[str, Any] | None:
        """Atomically move the oldest queued run (or the given one, if still queued) to
        running, owned by this process. None if there is nothing to claim."""
        with self._db(immediate=True) as db:
            if run_id is None:
                row = db.execute("SELECT id FROM runs WHERE status = 'queued'"
                                 " ORDER BY created LIMIT 1").fetchone()
            else:
                row = db.execute("SELECT id FROM runs WHERE status = 'queued' AND id = ?",
                                 (run_id,)).fetchone()
            if row is None:
                return None
            now = time.time()
            db.execute(
                "UPDATE runs SET status = 'running', started = ?, heartbeat = ?, pid = ?,"
                " host = ?, progress = 0, note = 'starting' WHERE id = ?",
                (now, now, os.getpid(), socket.gethostname(), row["id"]))
        return self.get(row["id"])

    def beat(self, run_id: str, progress: float, note: str,
             rows: list[tuple[int, float, str, float]]) -> bool:
        """Record progress and new history rows; return True if a cancel was asked for."""
        with self._db(immediate=True) as db:
            db.executemany("INSERT INTO history (run_id, step, seconds, key, value)"
                           " VALUES (?, ?, ?, ?, ?)", [(run_id, *r) for r in rows])
            db.execute("UPDATE runs SET heartbeat = ?, progress = ?, note = ? WHERE id = ?",
                       (time.time(), progress, note, run_id))
            flag = db.execute("SELECT cancel FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(flag and flag["cancel"])

    def finish(self, run_id: str, metrics: dict[str, float], params: int, train_seconds: float,
               artifacts: dict[str, str], env: dict[str, Any]) -> None:
        with self._db(immediate=True) as db:
            db.execute(
                "UPDATE runs SET status = 'done', finished = ?, progress = 1, note = 'done',"
                " metrics = ?, params = ?, train_seconds = ?, artifacts = ?, env = ?, error = NULL"
                " WHERE id = ?",
                (time.time(), json.dumps(metrics), int(params), float(train_seconds),
                 json.dumps(artifacts), json.dumps(env), run_id))

    def end(self, run_id: str, status: str, error: str = "") -> None:
        """Close a run that did not finish: failed, cancelled or interrupted."""
        assert status in RESTARTABLE
        with self._db(immediate=True) as db:
            db.execute("UPDATE runs SET status = ?, finished = ?, error = ?, note = ?"
                       " WHERE id = ?", (status, time.time(), error, status, run_id))

    def request_cancel(self, run_id: str) -> None:
        """A queued run is cancelled at once; a running one at its next report."""
        with self._db(immediate=True) as db:
            db.execute("UPDATE runs SET status = 'cancelled', finished = ?, note = 'cancelled'"
                       " WHERE id = ? AND status = 'queued'", (time.time(), run_id))
            db.execute("UPDATE runs SET cancel = 1 WHERE id = ? AND status = 'running'", (run_id,))

    def recover_interrupted(self) -> list[str]:
        """Mark runs whose worker process on this host is gone as interrupted."""
        host = socket.gethostname()
        with self._db() as db:
            rows = db.execute("SELECT id, pid, host FROM runs WHERE status = 'running'").fetchall()
        dead = [r["id"] for r in rows if r["host"] == host and not _pid_alive(r["pid"])]
        for run_id in dead:
            with self._db(immediate=True) as db:
                db.execute("UPDATE runs SET status = 'interrupted', finished = ?, note ="
                           " 'interrupted', error = 'the worker process stopped mid-run'"
                           " WHERE id = ? AND status = 'running'", (time.time(), run_id))
        return dead

    def delete(self, run_id: str) -> None:
        with self._db(immediate=True) as db:
            db.execute("DELETE FROM history WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.artifact_root / run_id, ignore_errors=True)

    # ---- artifacts -----------------------------------------------------------------
    def save_artifacts(self, run_id: str, artifacts: dict[str, Any]) -> dict[str, str]:
        """Write each artifact as <name>.pt (temp file, then rename); return name -> sha256."""
        import torch

        folder = self.artifact_root / run_id
        folder.mkdir(parents=True, exist_ok=True)
        index = {}
        for name, value in artifacts.items():
            final = folder / f"{name}.pt"
            temp = folder / f".{name}.pt.tmp"
            torch.save(value, temp)
            index[name] = hashlib.sha256(temp.read_bytes()).hexdigest()
            os.replace(temp, final)
        return index

    def load_artifacts(self, run_id: str, names: list[str] | None = None) -> dict[str, Any]:
        """Load a finished run's artifacts, checking each file against its recorded hash."""
        import torch

        run = self.get(run_id)
        if run is None or run["status"] != "done":
            raise KeyError(f"run {run_id} is not finished")
        folder = self.artifact_root / run_id
        out = {}
        for name, digest in run["artifacts"].items():
            if names is not None and name not in names:
                continue
            path = folder / f"{name}.pt"
            try:
                data = path.read_bytes()
            except OSError:
                raise CorruptArtifact(f"{run_id}: artifact {name} is missing") from None
            if hashlib.sha256(data).hexdigest() != digest:
                raise CorruptArtifact(f"{run_id}: artifact {name} is damaged (checksum mismatch)")
            import io
            out[name] = torch.load(io.BytesIO(data), weights_only=True)
        return out

    def artifacts_intact(self, run_id: str) -> bool:
        run = self.get(run_id)
        if run is None:
            return False
        folder = self.artifact_root / run_id
        for name, digest in run["artifacts"].items():
            path = folder / f"{name}.pt"
            if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                return False
        return True
