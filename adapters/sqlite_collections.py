"""SQLite collection store: collections and their memberships beside the documents."""

from __future__ import annotations

from collections.abc import Sequence

from botgpt.adapters.records import RecordMap
from botgpt.adapters.sqlite_db import SQLITE, SqliteDatabase, insert_statement
from botgpt.domain.model import Collection, DocumentCounts

COLLECTIONS = RecordMap(Collection, SQLITE)
_INSERT = insert_statement("collections", COLLECTIONS.keys)


def _placeholders(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


class SqliteCollectionStore:
    """Collections in SQLite; memberships cascade away with their collection or document."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._db = database.connection

    async def add_collection(self, collection: Collection) -> None:
        await self._database.run(lambda: self._db.execute(_INSERT, COLLECTIONS.values(collection)))

    async def get_collection(self, user_id: str | None, collection_id: str) -> Collection | None:
        sql = f"SELECT {COLLECTIONS.column_list} FROM collections WHERE id = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (collection_id,)).fetchone())
        if row is None or (user_id is not None and row["user_id"] != user_id):
            return None
        return COLLECTIONS.load(row)

    async def list_collections(self, user_id: str, limit: int, offset: int) -> list[Collection]:
        sql = (
            f"SELECT {COLLECTIONS.column_list} FROM collections WHERE user_id = ?"
            " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        )
        rows = await self._database.run(lambda: self._db.execute(sql, (user_id, limit, offset)).fetchall())
        return [COLLECTIONS.load(row) for row in rows]

    async def count_collections(self, user_id: str) -> int:
        sql = "SELECT COUNT(*) FROM collections WHERE user_id = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (user_id,)).fetchone())
        return int(row[0])

    async def update_collection(self, collection: Collection) -> bool:
        sql = "UPDATE collections SET name = ?, description = ?, updated_at = ? WHERE id = ?"
        params = (
            collection.name,
            collection.description,
            COLLECTIONS.encode("updated_at", collection.updated_at),
            collection.id,
        )
        return bool(await self._database.run(lambda: self._db.execute(sql, params).rowcount))

    async def delete_collection(self, collection_id: str) -> bool:
        sql = "DELETE FROM collections WHERE id = ?"
        return bool(await self._database.run(lambda: self._db.execute(sql, (collection_id,)).rowcount))

    async def add_members(self, collection_id: str, document_ids: Sequence[str]) -> None:
        sql = "INSERT OR IGNORE INTO collection_documents (collection_id, document_id) VALUES (?, ?)"
        rows = [(collection_id, document_id) for document_id in document_ids]
        await self._database.transaction(lambda: self._db.executemany(sql, rows))

    async def remove_members(self, collection_id: str, document_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(document_ids))
        if not ids:
            return 0
        sql = f"DELETE FROM collection_documents WHERE collection_id = ? AND document_id IN ({_placeholders(ids)})"
        return int(await self._database.run(lambda: self._db.execute(sql, (collection_id, *ids)).rowcount))

    async def member_ids(self, collection_ids: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(collection_ids))
        if not ids:
            return set()
        sql = f"SELECT document_id FROM collection_documents WHERE collection_id IN ({_placeholders(ids)})"
        rows = await self._database.run(lambda: self._db.execute(sql, ids).fetchall())
        return {row[0] for row in rows}

    async def list_members(self, collection_id: str, limit: int, offset: int) -> list[str]:
        sql = (
            "SELECT document_id FROM collection_documents WHERE collection_id = ? ORDER BY rowid DESC LIMIT ? OFFSET ?"
        )
        rows = await self._database.run(lambda: self._db.execute(sql, (collection_id, limit, offset)).fetchall())
        return [row[0] for row in rows]

    async def collections_of(self, document_id: str) -> list[str]:
        sql = "SELECT collection_id FROM collection_documents WHERE document_id = ? ORDER BY rowid"
        rows = await self._database.run(lambda: self._db.execute(sql, (document_id,)).fetchall())
        return [row[0] for row in rows]

    async def document_counts(self, collection_id: str) -> DocumentCounts:
        sql = (
            "SELECT d.status, COUNT(*) FROM collection_documents AS m JOIN documents AS d ON d.id = m.document_id"
            " WHERE m.collection_id = ? GROUP BY d.status"
        )
        rows = await self._database.run(lambda: self._db.execute(sql, (collection_id,)).fetchall())
        return DocumentCounts(**{row[0]: int(row[1]) for row in rows})
