"""``botgpt backup`` and ``botgpt restore``: the embedded profile's whole state, and back.

A backup is a directory: ``botgpt.sqlite3`` (conversations, messages, documents with their
chunks and vectors, collections, API keys as stored, i.e. hashed), ``blobs/`` (the uploaded
originals) and ``manifest.json`` (every file's size and SHA-256, and the rows per table).

The chunk index is not copied: it mirrors the ready documents' chunks, which the database
holds with their vectors, so a restore rebuilds it from the snapshot. An index copied while
documents are published could not match the database snapshot; a rebuilt one must.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs

from botgpt.adapters.sqlite_backup import (
    document_ids,
    integrity_problem,
    release_leases,
    snapshot_database,
    table_counts,
)
from botgpt.domain.index_rebuild import IndexRebuild
from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.core import provided, stop_resources
from botgpt.entrypoints.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1
DATABASE = "botgpt.sqlite3"
BLOBS = "blobs"
SNAPSHOT_ATTEMPTS = 3


class BackupError(Exception):
    """A backup cannot be made, or a directory is not a complete, untampered backup."""


@attrs.frozen
class Manifest:
    """What a backup holds: its files with their checksums, and the rows per table."""

    created_at: str
    botgpt_version: str
    files: dict[str, dict[str, Any]]
    counts: dict[str, int]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **attrs.asdict(self)}, indent=2, sort_keys=True) + "\n"


def create_backup(settings: Settings, destination: Path) -> Manifest:
    """Write a consistent backup of the running (or stopped) server's data to ``destination``.

    It is assembled beside ``destination`` and renamed into place, so an interrupted backup
    never looks like a finished one.
    """
    if settings.store != "sqlite":
        raise BackupError(
            f"botgpt backup covers store = sqlite; with store = {settings.store} use the database's own tools"
            " (mongodump, see the README's backup section) and copy the blob directory"
        )
    if not settings.sqlite_path.is_file():
        raise BackupError(f"nothing to back up: {settings.sqlite_path} does not exist")
    _require_empty(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}.partial-"))
    try:
        manifest = _assemble(settings, staging)
        (staging / MANIFEST).write_text(manifest.to_json())
        _move_into_place(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _assemble(settings: Settings, staging: Path) -> Manifest:
    for _ in range(SNAPSHOT_ATTEMPTS):
        database = staging / DATABASE
        snapshot_database(settings.sqlite_path, database)
        # A blob is written before its document row and deleted after it, so every document
        # of the snapshot has its blob, unless it was deleted since: then snapshot again.
        if _copy_blobs(settings.blob_dir, staging / BLOBS, document_ids(database)):
            return Manifest(_now(), _version(), _checksums(staging), table_counts(database))
        database.unlink()
        shutil.rmtree(staging / BLOBS, ignore_errors=True)
    raise BackupError("documents kept being deleted during the backup; run it again")


def _copy_blobs(source: Path, target: Path, keys: list[str]) -> bool:
    for key in keys:
        relative = Path(key[:2]) / key
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source / relative, target / relative)
        except FileNotFoundError:
            return False
    return True


def verify_backup(source: Path) -> Manifest:
    """The backup's manifest, once every file it lists is present, unchanged and alone, and
    the database passes SQLite's integrity check and holds the rows the manifest counted."""
    manifest = _read_manifest(source)
    found = _checksums(source, skip={MANIFEST})
    if missing := sorted(set(manifest.files) - set(found)):
        raise BackupError(f"incomplete backup: {len(missing)} files are missing, such as {missing[0]}")
    if extra := sorted(set(found) - set(manifest.files)):
        raise BackupError(f"tampered backup: {len(extra)} files are not in the manifest, such as {extra[0]}")
    if changed := sorted(name for name, entry in manifest.files.items() if found[name] != entry):
        raise BackupError(
            f"tampered or damaged backup: {len(changed)} files differ from the manifest, such as {changed[0]}"
        )
    if problem := integrity_problem(source / DATABASE):
        raise BackupError(f"damaged backup: the database fails SQLite's integrity check ({problem})")
    if table_counts(source / DATABASE) != manifest.counts:
        raise BackupError("tampered backup: the database's rows differ from the manifest's counts")
    return manifest


async def restore_backup(source: Path, settings: Settings) -> tuple[Manifest, int]:
    """Rebuild ``settings.data_dir`` (new or empty) from the backup at ``source``: its files,
    then the chunk index. Returns the manifest and how many chunks were indexed."""
    manifest = verify_backup(source)
    target = settings.data_dir
    _require_empty(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.restoring-"))
    try:
        shutil.copyfile(source / DATABASE, staging / DATABASE)
        if (source / BLOBS).is_dir():  # a backup without documents has no blobs
            shutil.copytree(source / BLOBS, staging / BLOBS)
        # Workers of the backed-up server held these; the restored one resumes them at once.
        release_leases(staging / DATABASE)
        indexed = await _rebuild_index(attrs.evolve(settings, data_dir=staging), staging / DATABASE)
        _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest, indexed


async def _rebuild_index(settings: Settings, database: Path) -> int:
    container = build_container(settings)
    try:
        rebuild = IndexRebuild(await provided(container.document_store), await provided(container.index))
        return await rebuild.rebuild(document_ids(database, status="ready"))
    finally:
        await stop_resources(container)


def _move_into_place(staging: Path, target: Path) -> None:
    if target.exists():  # empty, as checked before
        target.rmdir()
    staging.rename(target)


def _require_empty(path: Path) -> None:
    if path.is_file() or (path.is_dir() and any(path.iterdir())):
        raise BackupError(f"{path} exists and is not empty; name a new or empty directory")


def _read_manifest(source: Path) -> Manifest:
    try:
        raw = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} is not a botgpt backup: it has no {MANIFEST}") from None
    except (OSError, ValueError) as error:
        raise BackupError(f"{source / MANIFEST} cannot be read: {error}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a format-{FORMAT} botgpt manifest")
    try:
        return Manifest(raw["created_at"], raw["botgpt_version"], dict(raw["files"]), dict(raw["counts"]))
    except (KeyError, TypeError, ValueError):
        raise BackupError(f"{source / MANIFEST} lacks the fields of a botgpt manifest") from None


def _checksums(root: Path, skip: frozenset[str] | set[str] = frozenset()) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and name not in skip:
            entries[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    return entries


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _version() -> str:
    try:
        return metadata.version("botgpt")
    except metadata.PackageNotFoundError:
        return "unknown"
