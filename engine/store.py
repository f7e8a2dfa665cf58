"""The run store: one SQLite file (the index: runs, metric history) plus one artifact folder
per finished attempt, each with a manifest.json that can rebuild the index.

A run's id is the hash of its spec (see RunSpec.run_id), so the same request finds the
same row. Every write is one transaction; artifacts are written to a temporary name,
then renamed, and their sha256 is recorded so a damaged file is noticed on load.

Recomputing a finished run (Re-run, --force, a damaged artifact) never destroys it: the new
attempt is a row of its own, `<run id>.retry`, with its own folder. Only when it ends `done`
is it swapped in, in one transaction; a failed, cancelled or killed attempt stays beside the
finished run as a failed attempt and the finished run keeps being served.

A store on a folder this process cannot write is opened read-only: it can be listed and its
results loaded; anything that would write raises StoreReadOnly.

Behind the store's own rows stand the shipped folders (TOP10_STORE_MIRROR, engine/shipped.py):
a finished run found there is served like one of the store's own (same id, row, history and
artifacts, plus a `shipped` key holding its provenance), is never queued again, and cannot be
deleted. The store's own row wins wherever it is finished or live.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import settings
from engine.core import RunSpec
from engine.names import LIVE, PRESETS, RESTARTABLE, STATUSES
from engine.run_folder import MANIFEST, artifact_problems, check_run_id

log = logging.getLogger(__name__)

RETRY = ".retry"  # suffix of a recompute attempt's row id

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, algorithm TEXT NOT NULL, variant TEXT NOT NULL, preset TEXT,
    seed INTEGER, spec TEXT NOT NULL, status TEXT NOT NULL, created REAL, started REAL,
    finished REAL, heartbeat REAL, pid INTEGER, host TEXT, progress REAL DEFAULT 0,
    note TEXT DEFAULT '', params INTEGER, train_seconds REAL, metrics TEXT, error TEXT,
    env TEXT, cancel INTEGER DEFAULT 0, artifacts TEXT, folder TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_algorithm ON runs (algorithm, status);
CREATE TABLE IF NOT EXISTS history (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, seconds REAL NOT NULL,
    key TEXT NOT NULL, value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_run ON history (run_id);
CREATE TABLE IF NOT EXISTS requests (
    run_id TEXT NOT NULL, visitor TEXT NOT NULL, created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_visitor ON requests (visitor);
"""
COLUMNS = ("id", "algorithm", "variant", "preset", "seed", "spec", "status", "created", "started",
           "finished", "heartbeat", "pid", "host", "progress", "note", "params", "train_seconds",
           "metrics", "error", "env", "cancel", "artifacts", "folder")


class CorruptArtifact(RuntimeError):
    """An artifact file is missing or its checksum does not match the store."""


class StoreError(RuntimeError):
    """The store cannot do what was asked. The message is one line, fit to show as is."""


class StoreDamaged(StoreError):
    """The index file cannot be read; `python -m engine store repair` rebuilds it."""


class StoreReadOnly(StoreError):
    """A write was asked of a store opened read-only."""


class NotOwner(StoreError):
    """This process no longer owns the run it was training (taken for dead and taken over):
    its outcome is discarded, never written over the new owner's."""


class QueueFull(StoreError):
    """Queueing this run would pass a limit (public mode): checked and refused in the same
    transaction that would insert it, so simultaneous requests never pass it together."""

    def __init__(self, mine: int, live: int, limit: QueueLimit):
        super().__init__(f"queue limit: {mine} of {limit.per_visitor} for this visitor, "
                         f"{live} of {limit.total} in all")
        self.mine, self.live, self.limit = mine, live, limit


@dataclass(frozen=True)
class QueueLimit:
    per_visitor: int  # runs queued or running that one visitor asked for
    total: int  # runs queued or running in all


class BadRow(StoreDamaged):
    """One row of the index cannot be decoded: damage, never a row to forget."""


class Problem(str):
    """A line of Store.check() that `python -m engine store repair` mends; the other lines
    (a damaged artifact, a silent run, an unreadable manifest) each say what does."""

    repairable = True


def target_of(row_id: str) -> str:
    """The run an attempt row will replace (the id itself for an ordinary row)."""
    return row_id[: -len(RETRY)] if row_id.endswith(RETRY) else row_id


_paused: set[str] = set()  # fault points this process has already paused at


def _fault_point(name: str) -> None:
    """A named point of the write path (settings.FAULT_POINTS) where a fault campaign
    (TOP10_FAULT_AT, `bench faults`) kills this process, or pauses it once, exactly there.
    Unset, it is one environment lookup."""
    fault = settings.fault_at()
    if fault is None or fault[0] != name:
        return
    if fault[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif name not in _paused:  # once: resumed, the process goes on as a woken laptop would
        _paused.add(name)
        os.kill(os.getpid(), signal.SIGSTOP)  # returns after SIGCONT


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
    try:
        for key in ("metrics", "env", "artifacts", "spec"):
            run[key] = json.loads(run[key]) if run[key] else {}
        if not isinstance(run["spec"], dict) or run["status"] not in STATUSES:
            raise ValueError("bad spec or status")
    except (ValueError, TypeError) as error:
        raise BadRow(f"run {str(run.get('id'))[:60]!r} in the store index cannot be read "
                     f"({error}); `python -m engine store check` lists damage") from None
    return run


def _rows(rows) -> list[dict[str, Any]]:
    """Decoded rows; a row that cannot be decoded is skipped with a warning, never hiding
    the others."""
    out = []
    for r in rows:
        try:
            out.append(_row(r))
        except BadRow as error:
            log.warning("%s", error)
    return out


def _damage(error: BaseException) -> bool:
    """Is this sqlite error a sign of a damaged file (not a busy or misused database)?"""
    if isinstance(error, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
        return False
    if isinstance(error, sqlite3.OperationalError):
        return not any(w in str(error) for w in ("locked", "busy", "readonly", "read-only"))
    return isinstance(error, sqlite3.DatabaseError)


def _writable(folder: Path) -> bool:
    """Can this process create files in folder (or create folder itself)?"""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return os.access(folder, os.W_OK | os.X_OK)


class Store:
    def __init__(self, root: str | os.PathLike, read_only: bool | None = None, *,
                 strict: bool = True, mirrors: list[Path] | None = None):
        """Open (or create) the store at root. read_only=None: read-only exactly when the
        folder is not writable. Raises StoreDamaged when the index cannot be read, or is
        empty while run folders are on disk (strict=False, for check/repair: never raises).
        mirrors: the shipped folders behind it (default settings.store_mirrors(); check and
        repair use none)."""
        self.root = Path(root)
        self._attempts: dict[str, str] = {}  # run id -> the folder bound when this claimed it
        self.mirror_roots = [] if not strict else (
            settings.store_mirrors() if mirrors is None else list(mirrors))
        self.artifact_root = self.root / "artifacts"
        self.path = self.root / "runs.sqlite"
        self.read_only = (not _writable(self.root)) if read_only is None else read_only
        self._immutable = self.read_only and not _writable(self.root)
        if not strict:
            return
        if not self.read_only:
            self.artifact_root.mkdir(parents=True, exist_ok=True)
            try:
                db = sqlite3.connect(self.path, timeout=30)
                try:
                    db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
                    db.executescript(SCHEMA)
                    have = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
                    if "folder" not in have:  # stores made before attempts had own folders
                        db.execute("ALTER TABLE runs ADD COLUMN folder TEXT")
                finally:
                    db.close()
            except sqlite3.DatabaseError as error:
                raise self._damaged(error) from None
        if self.read_only and not self.path.exists():
            return
        if not self._read("SELECT id FROM runs LIMIT 1") and (found := self._manifest_folders()):
            raise StoreDamaged(
                f"the run store index {self.path} holds no runs but {len(found)} run folder(s) "
                f"are in {self.artifact_root}; run `python -m engine store repair` to rebuild it")

    def _damaged(self, error: Exception) -> StoreDamaged:
        return StoreDamaged(f"the run store index {self.path} is damaged ({error}); run "
                            "`python -m engine store check`, then `python -m engine store repair` "
                            "(it keeps the damaged file aside)")

    def _wal_snapshot(self) -> Path | None:
        """A private copy of the index and its write-ahead log, when a log is there and the
        folder cannot be written: `immutable=1` would ignore the log, and with it every
        commit a writer that died with its connection open had not yet checkpointed. The
        copy (remade when either file changes) replays the log; None when there is none."""
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            key = (self.path.stat().st_mtime_ns, wal.stat().st_mtime_ns, wal.stat().st_size)
        except OSError:
            return None
        if not key[2]:
            return None
        if getattr(self, "_snapshot_key", None) != key:
            import tempfile

            self._snapshot_dir = tempfile.TemporaryDirectory(prefix="top10-index-")
            copy = Path(self._snapshot_dir.name) / self.path.name
            shutil.copyfile(self.path, copy)
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            self._snapshot_key, self._snapshot = key, copy
        return self._snapshot

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            snapshot = self._wal_snapshot() if self._immutable else None
            if snapshot is not None:  # our own copy: opened plainly, so its log is replayed
                db = sqlite3.connect(snapshot, timeout=30, isolation_level=None)
            else:
                mode = "immutable=1" if self._immutable else "mode=ro"
                db = sqlite3.connect(f"{self.path.resolve().as_uri()}?{mode}", uri=True,
                                     timeout=30, isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    @contextmanager
    def _db(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        """One connection per operation: safe across threads and processes."""
        if immediate and self.read_only:
            raise StoreReadOnly(f"the run store {self.root} is read-only: nothing can be trained "
                                "or changed in it (set TOP10_STORE to a writable folder)")
        if self.read_only and not self.path.exists():
            raise _Empty()
        try:
            db = self._connect()
        except sqlite3.DatabaseError as error:
            raise self._damaged(error) from None
        try:
            db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            yield db
            db.execute("COMMIT")
        except BaseException as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if _damage(error):
                raise self._damaged(error) from None
            raise
        finally:
            db.close()

    def _read(self, query: str, args=()) -> list[sqlite3.Row]:
        try:
            with self._db() as db:
                return db.execute(query, args).fetchall()
        except _Empty:
            return []

    # ---- shipped runs behind the store -----------------------------------------------
    def mirrors(self):
        from engine.shipped import open_mirrors

        return open_mirrors(self.mirror_roots)

    def shipped(self, run_id: str):
        """The first shipped folder (engine.shipped.Shipped) serving run_id, or None."""
        return next((m for m in self.mirrors() if run_id in m.rows), None)

    def _over(self, own: dict | None, run_id: str) -> dict | None:
        """The row to serve: the store's own when finished or live, else a shipped one."""
        if own is not None and own["status"] in ("done", *LIVE):
            return own
        mirror = self.shipped(run_id)
        return dict(mirror.rows[run_id]) if mirror else own

    # ---- lookups -------------------------------------------------------------------
    def get(self, run_id: str) -> dict[str, Any] | None:
        """The row (the store's own, else a shipped one), or None when there is none. Raises
        BadRow (a one-line StoreDamaged) when the store's own row cannot be decoded."""
        found = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        return self._over(_row(found[0]) if found else None, run_id)

    def get_many(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        rows = _rows(self._read(f"SELECT * FROM runs WHERE id IN ({marks})", list(run_ids)))
        own = {r["id"]: r for r in rows}
        served = {i: self._over(own.get(i), i) for i in run_ids}
        return {i: r for i, r in served.items() if r is not None}

    def list_runs(self, algorithm: str | None = None, status: str | None = None) -> list[dict]:
        """The store's own rows, newest first, then the shipped runs it does not override."""
        query, args = "SELECT * FROM runs WHERE 1=1", []
        if algorithm:
            query, args = query + " AND algorithm = ?", [*args, algorithm]
        if status:
            query, args = query + " AND status = ?", [*args, status]
        own = _rows(self._read(query + " ORDER BY created DESC", args))
        mirrors = self.mirrors()
        if not mirrors:
            return own
        served = {r[0] for r in self._read("SELECT id FROM runs WHERE status IN "
                                           "('done', 'queued', 'running')")}
        shipped = {}
        for mirror in mirrors:
            for run_id, row in mirror.rows.items():
                if run_id not in served and run_id not in shipped and (
                        not algorithm or row["algorithm"] == algorithm):
                    shipped[run_id] = dict(row)
        out = [r for r in own if r["id"] not in shipped]  # a shipped run hides a failed retry
        return out + (list(shipped.values()) if status in (None, "done") else [])

    def history(self, run_id: str) -> list[tuple[int, float, str, float]]:
        """(step, seconds, key, value) rows in the order they were reported."""
        row = self.get(run_id)
        if row is not None and row.get("shipped") is not None:
            return list(self.shipped(run_id).histories[run_id])
        return [tuple(r) for r in self._read(
            "SELECT step, seconds, key, value FROM history WHERE run_id = ? ORDER BY rowid",
            (run_id,))]

    def attempt(self, run_id: str) -> dict[str, Any] | None:
        """The recompute attempt beside a finished run (queued, running or failed), if any."""
        return self.get(target_of(run_id) + RETRY)

    def folder(self, run_id: str) -> Path:
        """The artifact folder of a row (each attempt has its own; see enqueue)."""
        rows = self._read("SELECT folder, status FROM runs WHERE id = ?", (run_id,))
        if not rows or rows[0]["status"] not in ("done", *LIVE):
            mirror = self.shipped(run_id)
            if mirror is not None:
                return mirror.folder(run_id)
        name = rows[0]["folder"] if rows and rows[0]["folder"] else check_run_id(run_id)
        return self.artifact_root / name

    # ---- queueing ------------------------------------------------------------------
    def enqueue(self, run_id: str, spec: RunSpec, force: bool = False, visitor: str = "",
                limit: QueueLimit | None = None) -> tuple[str, bool]:
        """Queue a run unless it is already done, queued or running.

        Returns (work id, queued now): the id of the row that does the work, which is
        `<run id>.retry` when a finished run is recomputed (force): the finished row stays
        until that attempt is done. A failed, cancelled or interrupted run is replaced and
        queued again; a live one is shared. visitor (a key that survives a reload, see
        engine/ui) is recorded as asking for it; with a limit, a run that would be queued
        now is refused with QueueFull when the visitor's or everyone's live runs are at it.
        """
        check_run_id(run_id)
        now = time.time()
        with self._db(immediate=True) as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            _row(row)  # an undecodable row is damage to repair, never one to replace
            status = row["status"] if row else None
            if status in LIVE or status == "done" and not force:
                return run_id, False
            if status != "done" and not force and self.shipped(run_id):
                return run_id, False  # shipped: served as it is, nothing to train
            work = run_id + RETRY if status == "done" else run_id
            if work != run_id:
                attempt = db.execute("SELECT status FROM runs WHERE id = ?", (work,)).fetchone()
                if attempt and attempt["status"] in LIVE:
                    return work, False
            if limit is not None:
                self._check_limit(db, visitor, limit)
            old = self._forget(db, work)
            if visitor:
                db.execute("INSERT INTO requests (run_id, visitor, created) VALUES (?, ?, ?)",
                           (work, visitor, now))
            db.execute(
                "INSERT INTO runs (id, algorithm, variant, preset, seed, spec, status, created,"
                " folder) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                (work, spec.algorithm, spec.variant, spec.preset, spec.seed, spec.to_json(), now,
                 f"{run_id}@{secrets.token_hex(4)}"))
        self._remove_folders(old)
        return work, True

    @staticmethod
    def _check_limit(db: sqlite3.Connection, visitor: str, limit: QueueLimit) -> None:
        live = db.execute("SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'running')"
                          ).fetchone()[0]
        mine = db.execute(
            "SELECT COUNT(DISTINCT r.id) FROM runs r JOIN requests q ON q.run_id = r.id"
            " WHERE q.visitor = ? AND r.status IN ('queued', 'running')", (visitor,)).fetchone()[0]
        if mine + 1 > limit.per_visitor or live + 1 > limit.total:
            raise QueueFull(mine, live, limit)

    def requested_by(self, visitor: str) -> set[str]:
        """The run ids (and recompute attempts' ids) this visitor queued, across reloads."""
        if not visitor or self.read_only:  # nothing can be queued there (nor the table made)
            return set()
        return {r[0] for r in self._read("SELECT run_id FROM requests WHERE visitor = ?",
                                         (visitor,))}

    def _forget(self, db: sqlite3.Connection, row_id: str) -> list[str]:
        """Delete a row and its history inside a transaction; return its folder names,
        to be removed once the transaction has committed."""
        row = db.execute("SELECT folder FROM runs WHERE id = ?", (row_id,)).fetchone()
        db.execute("DELETE FROM history WHERE run_id = ?", (row_id,))
        db.execute("DELETE FROM runs WHERE id = ?", (row_id,))
        if row is None:
            return []
        return [row["folder"] or row_id]

    def _path(self, name: str) -> Path:
        """artifacts/<name>, refused (one-line StoreDamaged) unless it lies directly inside
        the store's artifacts folder: a row's folder column never reaches outside it."""
        path = self.artifact_root / str(name)
        if (not name or os.sep in str(name) or "/" in str(name)
                or path.resolve().parent != self.artifact_root.resolve()):
            raise StoreDamaged(f"a row of the run store index {self.path} names folder "
                               f"{str(name)[:60]!r}, outside {self.artifact_root}; run "
                               "`python -m engine store check`")
        return path

    def _remove_folders(self, names: list[str]) -> None:
        for name in names:
            try:
                path = self._path(name)
            except StoreDamaged as error:
                log.warning("not deleted: %s", error)
                continue
            shutil.rmtree(path, ignore_errors=True)

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
                " host = ?, progress = 0, note = 'starting', cancel = 0 WHERE id = ?",
                (now, now, *self._owner(), row["id"]))
        run = self.get(row["id"])
        if run is not None:  # this attempt writes only into the folder it was claimed with
            self._attempts[run["id"]] = run["folder"] or run["id"]
        return run

    # Updates by the process running a run only apply while it still owns the row: a run
    # marked interrupted (silent too long) and taken over elsewhere is not written twice.
    OWNED = " AND status = 'running' AND pid = ? AND host = ?"

    def _owner(self) -> tuple[int, str]:
        return os.getpid(), socket.gethostname()

    def _bound(self, run_id: str) -> str:
        """The folder name of this process's attempt at run_id: the one bound at claim time
        (else, for a claim made through another Store object, the row's while we own it)."""
        if run_id in self._attempts:
            return self._attempts[run_id]
        rows = self._read("SELECT folder FROM runs WHERE id = ?" + self.OWNED,
                          (run_id, *self._owner()))
        if not rows:
            raise NotOwner(f"{run_id} is no longer this process's to record (taken over)")
        return rows[0]["folder"] or check_run_id(run_id)

    def _owns(self, db: sqlite3.Connection, run_id: str, name: str) -> bool:
        """Inside a transaction: is run_id still this process's attempt with folder name?"""
        return db.execute("SELECT 1 FROM runs WHERE id = ?" + self.OWNED
                          + " AND coalesce(folder, id) = ?",
                          (run_id, *self._owner(), name)).fetchone() is not None

    def _still_owner(self, run_id: str, name: str) -> None:
        """Raise NotOwner (dropping this attempt's folder) unless run_id is still ours."""
        with self._db() as db:
            owned = self._owns(db, run_id, name)
        if not owned:
            self._discard(run_id, name)
            raise NotOwner(f"{run_id} is no longer this process's to record (taken over)")

    def _discard(self, run_id: str, name: str) -> None:
        """Drop a stale attempt's own folder (never one a row still names)."""
        self._attempts.pop(run_id, None)
        log.info("%s: this process's attempt was taken over; its outcome is discarded", run_id)
        if not self._read("SELECT 1 FROM runs WHERE coalesce(folder, id) = ?", (name,)):
            self._remove_folders([name])

    def beat(self, run_id: str, progress: float, note: str,
             rows: list[tuple[int, float, str, float]]) -> bool:
        """Record progress and new history rows; return True if a cancel was asked for
        (or the run is no longer this process's to run)."""
        with self._db(immediate=True) as db:
            owned = db.execute("UPDATE runs SET heartbeat = ?, progress = ?, note = ? WHERE id = ?"
                               + self.OWNED, (time.time(), progress, note, run_id, *self._owner()))
            if owned.rowcount == 0:
                return True
            db.executemany("INSERT INTO history (run_id, step, seconds, key, value)"
                           " VALUES (?, ?, ?, ?, ?)", [(run_id, *r) for r in rows])
            flag = db.execute("SELECT cancel FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(flag and flag["cancel"])

    def touch(self, run_id: str) -> None:
        """Heartbeat only (the job's side thread, while no progress is reported)."""
        with self._db(immediate=True) as db:
            db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?" + self.OWNED,
                       (time.time(), run_id, *self._owner()))

    def finish(self, run_id: str, metrics: dict[str, float], params: int, train_seconds: float,
               artifacts: dict[str, str], env: dict[str, Any]) -> bool:
        """Record a run as done (a `.retry` attempt replaces its finished run here, in one
        transaction). Writes the attempt's manifest first (inside that transaction, once it
        is sure this process still owns the row), so the index can be rebuilt. Returns False
        if the run was no longer this process's: nothing is recorded and nothing written."""
        target = target_of(run_id)
        now = time.time()
        try:
            name = self._bound(run_id)
        except NotOwner:
            return False
        folder = self._path(name)
        old, owned = [], True
        with self._db(immediate=True) as db:
            if not self._owns(db, run_id, name):
                owned = False
            else:
                row = _row(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())
                history = [tuple(r) for r in db.execute(
                    "SELECT step, seconds, key, value FROM history WHERE run_id = ?"
                    " ORDER BY rowid", (run_id,))]
                self._write_manifest(row, target, folder, metrics=metrics, params=int(params),
                                     train_seconds=float(train_seconds), artifacts=artifacts,
                                     env=env, finished=now, status="done", history=history)
                _fault_point("after_manifest")
                try:
                    db.execute(
                        "UPDATE runs SET status = 'done', finished = ?, progress = 1, note ="
                        " 'done', metrics = ?, params = ?, train_seconds = ?, artifacts = ?,"
                        " env = ?, error = NULL WHERE id = ?",
                        (now, json.dumps(metrics), int(params), float(train_seconds),
                         json.dumps(artifacts), json.dumps(env), run_id))
                    if target != run_id:
                        old = self._forget(db, target)
                        db.execute("UPDATE runs SET id = ? WHERE id = ?", (target, run_id))
                        db.execute("UPDATE history SET run_id = ? WHERE run_id = ?",
                                   (target, run_id))
                except BaseException:
                    (folder / MANIFEST).unlink(missing_ok=True)
                    raise
        if not owned:
            self._discard(run_id, name)
            return False
        _fault_point("after_swap")
        self._attempts.pop(run_id, None)
        self._remove_folders(old)
        return True

    def end(self, run_id: str, status: str, error: str = "") -> None:
        """Close a run that did not finish: failed, cancelled or interrupted."""
        assert status in RESTARTABLE
        with self._db(immediate=True) as db:
            db.execute("UPDATE runs SET status = ?, finished = ?, error = ?, note = ?"
                       " WHERE id = ?" + self.OWNED,
                       (status, time.time(), error, status, run_id, *self._owner()))

    def request_cancel(self, run_id: str) -> None:
        """A queued run is cancelled at once; a running one at its next report. Cancelling
        a finished run cancels its recompute attempt, if one is live."""
        with self._db(immediate=True) as db:
            for row_id in {run_id, target_of(run_id) + RETRY}:
                db.execute("UPDATE runs SET status = 'cancelled', finished = ?, note ="
                           " 'cancelled' WHERE id = ? AND status = 'queued'", (time.time(), row_id))
                db.execute("UPDATE runs SET cancel = 1 WHERE id = ? AND status = 'running'",
                           (row_id,))

    def recover_interrupted(self, stale_seconds: float | None = None) -> list[str]:
        """Mark running runs whose owner is gone as interrupted: the owner's process on this
        host has exited, or (any host, a reused PID) no heartbeat for stale_seconds
        (default: settings.stale_seconds(), TOP10_STALE_SECONDS); then tidy() what kills
        left. Returns the ids marked. Read-only: nothing."""
        if self.read_only:
            return []
        stale = settings.stale_seconds() if stale_seconds is None else stale_seconds
        host, now = socket.gethostname(), time.time()
        rows = self._read("SELECT id, pid, host, heartbeat FROM runs WHERE status = 'running'")
        dead = {r["id"]: "the worker process stopped mid-run" for r in rows
                if r["host"] == host and not _pid_alive(r["pid"])}
        for r in rows:
            if r["id"] not in dead and now - (r["heartbeat"] or 0) > stale:
                dead[r["id"]] = (f"no heartbeat for {now - (r['heartbeat'] or 0):.0f} s from its "
                                 f"worker (pid {r['pid']} on {r['host']}); taken for dead")
        interrupted = [run_id for run_id, why in dead.items() if self.mark_interrupted(run_id, why)]
        self.tidy()
        return interrupted

    def mark_interrupted(self, run_id: str, why: str = "marked interrupted by hand") -> bool:
        """Mark a running run interrupted (its worker is gone or silent); True if it was
        running. Its history so far is kept; it can be queued again."""
        with self._db(immediate=True) as db:
            return db.execute("UPDATE runs SET status = 'interrupted', finished = ?, note ="
                              " 'interrupted', error = ? WHERE id = ? AND status = 'running'",
                              (time.time(), why, run_id)).rowcount > 0

    def delete(self, run_id: str) -> None:
        """Delete a row, its history and its folder; deleting a finished run also deletes
        its recompute attempt."""
        check_run_id(run_id)
        row = self.get(run_id)
        if row is not None and row.get("shipped") is not None:
            raise StoreReadOnly(f"{run_id} is a shipped result (read-only); it cannot be deleted")
        with self._db(immediate=True) as db:
            old = self._forget(db, run_id)
            if not run_id.endswith(RETRY):
                old += self._forget(db, run_id + RETRY)
        self._remove_folders(old)

    # ---- artifacts -----------------------------------------------------------------
    def save_artifacts(self, run_id: str, artifacts: dict[str, Any]) -> dict[str, str]:
        """Write each artifact as <name>.pt (temp file, then rename) into this attempt's own
        folder, bound when it was claimed; return name -> sha256. Raises NotOwner (writing
        nothing) once the run is no longer this process's."""
        import torch

        name = self._bound(run_id)
        self._still_owner(run_id, name)
        _fault_point("before_artifacts")
        folder = self._path(name)
        index = {}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in artifacts.items():
                final = folder / f"{key}.pt"
                temp = folder / f".{key}.pt.tmp"
                torch.save(value, temp)
                index[key] = hashlib.sha256(temp.read_bytes()).hexdigest()
                _fault_point("before_rename")
                os.replace(temp, final)
        except (OSError, RuntimeError):  # torch.save says RuntimeError for a missing folder
            # Paused mid-write and taken over, this attempt's folder was removed under it
            # (the run was queued again): that is a lost claim (NotOwner), not a failed run.
            self._still_owner(run_id, name)
            raise
        _fault_point("after_artifacts")
        return index

    def load_artifacts(self, run_id: str, names: list[str] | None = None) -> dict[str, Any]:
        """Load a finished run's artifacts, checking each file against its recorded hash."""
        import torch

        run = self.get(run_id)
        if run is None or run["status"] != "done":
            raise KeyError(f"run {run_id} is not finished")
        folder = self.folder(run_id)
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
            out[name] = torch.load(io.BytesIO(data), weights_only=True)
        return out

    def artifacts_intact(self, run_id: str) -> bool:
        run = self.get(run_id)
        return run is not None and not self._artifact_problems(run)

    def _artifact_problems(self, run: dict) -> list[str]:
        return artifact_problems(self.folder(run["id"]), run["artifacts"])

    # ---- manifests, check and repair -----------------------------------------------
    def _write_manifest(self, row: dict, target: str, folder: Path, **fields) -> None:
        """manifest.json in the attempt's folder: enough to rebuild its index row."""
        folder.mkdir(parents=True, exist_ok=True)
        keep = ("algorithm", "variant", "preset", "seed", "spec", "created", "started")
        body = {"format": 1, "run_id": target, "folder": folder.name,
                **{k: row[k] for k in keep}, **fields}
        temp = folder / f".{MANIFEST}.tmp"
        temp.write_text(json.dumps(body))
        os.replace(temp, folder / MANIFEST)

    def _manifest_folders(self) -> list[Path]:
        if not self.artifact_root.is_dir():
            return []
        return sorted(p for p in self.artifact_root.iterdir() if (p / MANIFEST).is_file())

    def _manifests(self) -> tuple[dict[str, dict], list[str]]:
        """The newest done manifest per run id, and one line per folder that cannot be read."""
        found, problems = {}, []
        for folder in self._manifest_folders():
            try:
                body = json.loads((folder / MANIFEST).read_text())
                check_run_id(body["run_id"])
                RunSpec(**body["spec"])
            except (OSError, ValueError, KeyError, TypeError) as error:
                problems.append(f"{folder.name}: manifest cannot be read ({error})")
                continue
            body["folder"] = folder.name
            if body.get("status") == "done" and body.get("finished", 0) >= found.get(
                    body["run_id"], {}).get("finished", -1):
                found[body["run_id"]] = body
        return found, problems

    def _leftovers(self, everywhere: bool = False) -> tuple[list[str], list[Path]]:
        """What kills leave that no row needs: (folders under artifacts/ that no row names,
        temporary files in folders of rows that are not live). Kept out: a folder whose
        manifest cannot be read (damage to look at) or finishes a run the index lacks
        (repair restores it). Temp files are looked for in the folders of failed, cancelled
        and interrupted rows, where a kill leaves them, or (everywhere) of every row that
        is not live. Only the rows' own folder names are compared, and the disk is listed
        before the rows are read: a folder is made only by the owner of a row already in
        the index, so a live row's folder is never taken for one no row names."""
        if not self.artifact_root.is_dir():
            return [], []
        on_disk = sorted(p for p in self.artifact_root.iterdir()
                         if p.is_dir() and not p.is_symlink())
        rows = self._read("SELECT id, folder, status FROM runs")
        named = {r["folder"] or r["id"]: r["status"] for r in rows}
        ids = {r["id"] for r in rows}
        orphans, temps = [], []
        quiet = ("done", *RESTARTABLE) if everywhere else RESTARTABLE
        for path in on_disk:
            if path.name in named:
                if named[path.name] in quiet:  # an unknown status (a bad row) counts as live
                    temps += sorted(f for f in path.iterdir()
                                    if f.name.startswith(".") and f.name.endswith(".tmp"))
                continue
            manifest = path / MANIFEST
            if manifest.exists():
                try:
                    if check_run_id(json.loads(manifest.read_text())["run_id"]) not in ids:
                        continue  # restorable: repair puts it back in the index
                except (OSError, ValueError, KeyError, TypeError):
                    continue  # damage: `store check` reports it, nothing deletes it
            orphans.append(path.name)
        return orphans, temps

    def tidy(self, everywhere: bool = False) -> list[str]:
        """Remove what _leftovers finds (folders no row names, stale temporary files), never
        outside artifacts/ (see _path); one line per thing removed. The recovery after a
        dead worker (recover_interrupted) runs it, and repair (everywhere). Read-only: nothing."""
        if self.read_only:
            return []
        try:
            orphans, temps = self._leftovers(everywhere)
        except OSError as error:  # a folder vanished or unreadable: the next call tries again
            log.warning("store tidy skipped: %s", error)
            return []
        done = []
        for name in orphans:
            self._remove_folders([name])
            if not (self.artifact_root / name).exists():
                done.append(f"removed folder {name}, which no row names")
        for path in temps:
            try:
                path.unlink()
            except OSError:
                continue
            done.append(f"removed the temporary file {path.parent.name}/{path.name}")
        return done

    def check(self) -> list[str]:
        """One line per problem found (an empty list: the store is sound), each saying what
        mends it; those `repair` mends are Problem lines (repairable). Reads only."""
        try:
            rows = self._read("SELECT * FROM runs")
            integrity = self._read("PRAGMA quick_check")
        except StoreDamaged as error:
            return [Problem(str(error))]
        problems = [Problem(f"index: {r[0]} (repair rebuilds it)")
                    for r in integrity if r[0] != "ok"]
        runs = []
        for r in rows:
            try:
                runs.append(_row(r))
            except BadRow as error:
                problems.append(Problem(f"{error} (repair replaces it from its manifest)"))
        ids = {r["id"] for r in rows}
        stale = time.time() - settings.stale_seconds()
        for run in runs:
            if run["status"] == "done" and (found := self._artifact_problems(run)):
                spec = run["spec"]
                preset = f" --preset {spec['preset']}" if spec.get("preset") in PRESETS else ""
                again = (f"python -m engine run {spec.get('algorithm')} --variant "
                         f"{spec.get('variant')}{preset} --seed {spec.get('seed')} --force")
                problems += [f"{run['id']}: {p}; repair cannot mend it: train it again with "
                             f"`{again}` (and its settings, if they differ from the preset's), "
                             "or open it in the app, which recomputes it" for p in found]
            if run["status"] == "running" and (run["heartbeat"] or 0) < stale:
                problems.append(f"{run['id']}: running but silent since "
                                f"{time.ctime(run['heartbeat'] or 0)} (the app's next poll, or "
                                "`python -m engine runs`, marks it interrupted)")
        manifests, bad = self._manifests()
        problems += bad
        for run_id in sorted(set(manifests) - ids):
            problems.append(Problem(f"{run_id}: finished in folder {manifests[run_id]['folder']}"
                                    " but missing from the index (repair restores it)"))
        try:
            orphans, temps = self._leftovers(everywhere=True)
        except OSError as error:
            orphans, temps = [], []
            problems.append(f"{self.artifact_root}: cannot be listed ({error})")
        problems += [Problem(f"{name}: a folder no row names, left by a kill between a commit "
                             "and the removal of the folder it replaced (repair removes it)")
                     for name in orphans]
        problems += [Problem(f"{path.parent.name}/{path.name}: a temporary file left by an "
                             "interrupted write (repair removes it)") for path in temps]
        return problems

    def repair(self) -> list[str]:
        """Rebuild what the folders allow; return one line per thing done. A damaged index
        file is moved aside (never deleted) and a new one built from the manifests; in a
        readable index, unreadable rows are replaced from their manifest (or dropped after
        being copied to a file beside the index) and finished runs missing from it restored."""
        if self.read_only:
            raise StoreReadOnly(f"the run store {self.root} is read-only; repair a writable copy")
        done = []
        try:
            rows = self._read("SELECT * FROM runs")
            if any(r[0] != "ok" for r in self._read("PRAGMA quick_check")):
                raise StoreDamaged("integrity check failed")
        except StoreDamaged:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    aside = source.with_name(f"{source.name}.damaged-{stamp}")
                    os.replace(source, aside)
                    done.append(f"moved the damaged {source.name} aside to {aside.name}")
            rows = []
        bad = []
        for r in rows:
            try:
                _row(r)
            except BadRow:
                bad.append(dict(r))
        manifests, _ = self._manifests()
        # A fresh index (not through __init__: it refuses an empty index beside run folders).
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        finally:
            db.close()
        if bad:
            aside = self.root / f"damaged-rows-{time.strftime('%Y%m%d-%H%M%S')}.json"
            aside.write_text(json.dumps(bad, default=str))
            done.append(f"copied {len(bad)} unreadable row(s) to {aside.name}")
        present = {r["id"] for r in rows} - {r["id"] for r in bad}
        with self._db(immediate=True) as db:
            for r in bad:
                self._forget(db, r["id"])
            for run_id, body in sorted(manifests.items()):
                if run_id in present:
                    continue
                marks = ", ".join("?" * len(COLUMNS))
                db.execute(
                    f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({marks})",
                    (run_id, body["algorithm"], body["variant"], body["preset"], body["seed"],
                     json.dumps(body["spec"], sort_keys=True), "done", body.get("created"),
                     body.get("started"), body.get("finished"), body.get("finished"), None, None,
                     1.0, "done", body.get("params"), body.get("train_seconds"),
                     json.dumps(body["metrics"]), None, json.dumps(body.get("env", {})), 0,
                     json.dumps(body["artifacts"]), body["folder"]))
                db.executemany("INSERT INTO history (run_id, step, seconds, key, value)"
                               " VALUES (?, ?, ?, ?, ?)",
                               [(run_id, *h) for h in body.get("history", [])])
                done.append(f"restored {run_id} from folder {body['folder']}")
        return done + self.tidy(everywhere=True)


class _Empty(Exception):
    """A read-only store without an index file: it holds no runs."""
