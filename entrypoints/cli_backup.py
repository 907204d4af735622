"""``botgpt backup DEST`` and ``botgpt restore SRC [--data-dir D]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import attrs

from botgpt.entrypoints.backup import BackupError, Manifest, create_backup, restore_backup


def add_backup_commands(commands: Any) -> None:
    """Add ``backup`` and ``restore`` to the CLI's subcommands."""
    backup = commands.add_parser("backup", help="write a consistent backup of the data directory (server may run)")
    backup.add_argument("destination", type=Path, help="a new or empty directory for the backup")
    backup.set_defaults(run=_backup, uses_data=False, uses_models=False)
    restore = commands.add_parser("restore", help="rebuild a data directory from a backup, after checking it")
    restore.add_argument("source", type=Path, help="the backup directory")
    restore.add_argument(
        "--data-dir", type=Path, default=None, help="a new or empty data directory (default: BOTGPT_DATA_DIR)"
    )
    restore.set_defaults(run=_restore, uses_data=False, uses_models=False)


def _backup(args: argparse.Namespace, settings: Any) -> int:
    try:
        manifest = create_backup(settings, args.destination)
    except (BackupError, OSError) as error:
        print(f"botgpt: backup failed: {error}", file=sys.stderr)
        return 1
    print(f"backed up to {args.destination}: {_summary(manifest)}")
    return 0


def _restore(args: argparse.Namespace, settings: Any) -> int:
    target = attrs.evolve(settings, data_dir=args.data_dir) if args.data_dir else settings
    try:
        manifest, indexed = asyncio.run(restore_backup(args.source, target))
    except (BackupError, OSError) as error:
        print(f"botgpt: restore refused: {error}", file=sys.stderr)
        return 1
    print(f"restored {args.source} (taken {manifest.created_at}) into {target.data_dir}: {_summary(manifest)};")
    print(f"  index rebuilt: {indexed} chunks of ready documents")
    return 0


def _summary(manifest: Manifest) -> str:
    counts = manifest.counts
    return (
        f"{counts['conversations']} conversations, {counts['messages']} messages, {counts['documents']} documents,"
        f" {counts['chunks']} chunks, {counts['api_keys']} keys, {counts['collections']} collections"
    )
