"""Backups refuse what they cannot vouch for: missing, extra or changed files, a damaged
database, a non-empty target; and a backup is never left half-made at its destination."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from botgpt.adapters.sqlite_db import open_sqlite_database
from botgpt.entrypoints.backup import BackupError, create_backup, restore_backup, verify_backup
from botgpt.entrypoints.settings import Settings

DOC = "0123456789abcdef0123456789abcdef"


async def data_dir(root: Path) -> Settings:
    settings = Settings.load(environ={}, data_dir=root, index="memory")
    async with open_sqlite_database(settings.sqlite_path):
        pass
    with sqlite3.connect(settings.sqlite_path) as connection:
        connection.execute(
            "INSERT INTO documents (id, user_id, filename, content_type, size_bytes, sha256, status, created_at,"
            " updated_at) VALUES (?, 'alice', 'a.txt', 'text/plain', 5, 'x', 'failed', 'now', 'now')",
            (DOC,),
        )
    blob = settings.blob_dir / DOC[:2] / DOC
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"hello")
    return settings


async def test_a_backup_lists_every_file_with_its_checksum(tmp_path: Path) -> None:
    settings = await data_dir(tmp_path / "data")
    manifest = create_backup(settings, tmp_path / "backup")
    assert set(manifest.files) == {"botgpt.sqlite3", f"blobs/{DOC[:2]}/{DOC}"}
    assert manifest.counts["documents"] == 1
    assert verify_backup(tmp_path / "backup") == manifest
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []  # no partial directory left


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: (b / "blobs" / DOC[:2] / DOC).unlink(), "incomplete backup: 1 files are missing"),
        (lambda b: (b / "blobs" / DOC[:2] / DOC).write_bytes(b"HELLO"), "differ from the manifest"),
        (lambda b: (b / "blobs" / "stray").write_bytes(b"?"), "not in the manifest"),
        (lambda b: (b / "manifest.json").unlink(), "is not a botgpt backup"),
        (lambda b: (b / "manifest.json").write_text("{"), "cannot be read"),
        (lambda b: (b / "manifest.json").write_text(json.dumps({"format": 9})), "is not a format-1"),
    ],
)
async def test_a_damaged_backup_is_refused_and_nothing_is_restored(tmp_path: Path, damage: object, reason: str) -> None:
    settings = await data_dir(tmp_path / "data")
    create_backup(settings, tmp_path / "backup")
    damage(tmp_path / "backup")  # type: ignore[operator]
    with pytest.raises(BackupError, match=reason):
        await restore_backup(tmp_path / "backup", Settings.load(environ={}, data_dir=tmp_path / "restored"))
    assert not (tmp_path / "restored").exists()


async def test_rows_changed_behind_the_manifest_are_refused(tmp_path: Path) -> None:
    settings = await data_dir(tmp_path / "data")
    create_backup(settings, tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    manifest["counts"]["documents"] = 2
    (tmp_path / "backup" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="rows differ"):
        verify_backup(tmp_path / "backup")


async def test_a_restore_into_a_non_empty_directory_is_refused(tmp_path: Path) -> None:
    settings = await data_dir(tmp_path / "data")
    create_backup(settings, tmp_path / "backup")
    with pytest.raises(BackupError, match="exists and is not empty"):
        await restore_backup(tmp_path / "backup", settings)
    with pytest.raises(BackupError, match="exists and is not empty"):
        create_backup(settings, tmp_path / "data")


async def test_a_restore_copies_the_files_into_a_new_directory(tmp_path: Path) -> None:
    settings = await data_dir(tmp_path / "data")
    create_backup(settings, tmp_path / "backup")
    target = Settings.load(environ={}, data_dir=tmp_path / "restored", index="memory")
    manifest, indexed = await restore_backup(tmp_path / "backup", target)
    assert indexed == 0  # the only document failed: nothing to index
    assert (target.blob_dir / DOC[:2] / DOC).read_bytes() == b"hello"
    assert manifest.counts["documents"] == 1


def test_the_mongo_profile_is_pointed_at_its_own_tools(tmp_path: Path) -> None:
    settings = Settings.load(environ={}, data_dir=tmp_path, store="mongo")
    with pytest.raises(BackupError, match="mongodump"):
        create_backup(settings, tmp_path / "backup")
