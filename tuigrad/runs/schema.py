"""The run file's schema, and opening a file after checking that it is a run file we can read.

A run file is an SQLite database (`PRAGMA application_id` = APPLICATION_ID,
`PRAGMA user_version` = SCHEMA_VERSION) with three tables:

    meta(key TEXT PRIMARY KEY, value TEXT)       one row per fact about the run (META_KEYS)
    frames(step INTEGER PRIMARY KEY, loss REAL, accuracy REAL, lr REAL, grad_norm REAL,
           grad_norm_clipped REAL, wall_time REAL, val_loss REAL, val_accuracy REAL,
           clipped INTEGER, act_rows INTEGER, layers BLOB)
                                                 one row per sampled step; NULL means NaN;
                                                 `layers` is codec.encode_layers (float32 LE),
                                                 layer names are in meta `layers`
    findings(id INTEGER PRIMARY KEY, step INTEGER, kind TEXT, data TEXT)
                                                 diagnosis findings, `data` is a JSON object

Everything but the layer blobs reads as text in the `sqlite3` command-line tool.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tuigrad.codec import FRAME_SCALARS
from tuigrad.errors import RunFileError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x74677264  # "tgrd"
FORMAT = "tuigrad-run"
SQLITE_MAGIC = b"SQLite format 3\x00"

# Meta keys; every value is text (JSON where it says so).
META_KEYS = {
    "format": "always 'tuigrad-run'",
    "title": "the experiment's title",
    "spec": "the full experiment spec as TOML (empty when the run had no spec)",
    "tuigrad_version": "tuigrad that wrote the file",
    "torch_version": "torch of the writing process (empty when unknown)",
    "python_version": "Python of the writing process",
    "device": "the training device, e.g. cpu or cuda:0",
    "started_at": "when recording started, ISO 8601 with UTC offset",
    "layers": "JSON list of {name, summary, shape, activation}, in blob order",
    "histograms": "JSON: the histogram conventions (see tuigrad.frames)",
    "updated_at": "Unix time of the writer's latest commit (a heartbeat while idle)",
    "finished_at": "ISO 8601 time the writer closed the file cleanly; absent otherwise",
    "dropped": "frames not recorded because the writer's queue was full",
}

FRAME_COLUMNS = ("step", *FRAME_SCALARS, "clipped", "act_rows", "layers")

CREATE = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE frames (
    step INTEGER PRIMARY KEY,
    {", ".join(f"{name} REAL" for name in FRAME_SCALARS)},
    clipped INTEGER NOT NULL,
    act_rows INTEGER NOT NULL,
    layers BLOB NOT NULL
);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX findings_step ON findings (step);
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""


def create(conn: sqlite3.Connection, meta: dict[str, str]) -> None:
    """Create the tables in an empty database and fill in `meta`, in one transaction."""
    conn.execute("BEGIN")
    for statement in CREATE.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
    conn.execute("COMMIT")


def _check_header(path: Path) -> None:
    if not path.exists():
        raise RunFileError(f"{path}: no such file")
    if not path.is_file():
        raise RunFileError(f"{path}: not a file")
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not head:
        raise RunFileError(f"{path}: empty file, not a tuigrad run file")
    if not head.startswith(SQLITE_MAGIC):
        raise RunFileError(f"{path}: not a tuigrad run file (not an SQLite database)")
    if len(head) < 100:
        raise RunFileError(f"{path}: truncated run file ({len(head)} bytes)")

    # The header records the database size in pages; a shorter file lost its tail.
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    size = path.stat().st_size
    if page_size and pages and size < page_size * pages:
        raise RunFileError(f"{path}: truncated run file ({size} of {page_size * pages} bytes)")


def open_for_reading(path: Path) -> sqlite3.Connection:
    """A read-only connection to a run file; RunFileError (one line) when it is not one."""
    _check_header(path)
    try:
        conn = sqlite3.connect(
            f"file:{path.resolve()}?mode=ro",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise RunFileError(f"{path}: cannot open: {exc}") from None
    try:
        _check_schema(path, conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_schema(path: Path, conn: sqlite3.Connection) -> None:
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    except sqlite3.DatabaseError as exc:
        raise RunFileError(f"{path}: damaged run file ({exc})") from None
    if app_id != APPLICATION_ID or not {"meta", "frames"} <= tables:
        raise RunFileError(f"{path}: an SQLite database, but not a tuigrad run file")
    if version > SCHEMA_VERSION:
        raise RunFileError(
            f"{path}: written by a newer tuigrad (run file version {version}, this tuigrad reads "
            f"up to {SCHEMA_VERSION}); upgrade tuigrad to open it"
        )
    if version < 1:
        raise RunFileError(f"{path}: unfinished run file (no schema version); it was never written")
