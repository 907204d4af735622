"""Several processes opening one fresh SQLite file at once: one migrates, none fails."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from botgpt.adapters.sqlite_db import MIGRATIONS, connect

PROCESSES, RACES = 4, 8


def open_each_at_once(paths: list[str], start: Any, results: Any) -> None:
    for path in paths:
        start.wait()  # every process opens this file at the same moment
        try:
            connection = connect(Path(path))
            results.put(connection.execute("PRAGMA user_version").fetchone()[0])
            connection.close()
        except Exception as error:
            results.put(repr(error))


def test_concurrent_first_opens_all_find_the_schema_current(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    results, start = context.Queue(), context.Barrier(PROCESSES)
    paths = [str(tmp_path / f"fresh-{n}.sqlite3") for n in range(RACES)]
    workers = [context.Process(target=open_each_at_once, args=(paths, start, results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    outcomes = [results.get(timeout=5) for _ in range(PROCESSES * RACES)]
    assert outcomes == [len(MIGRATIONS)] * (PROCESSES * RACES)
