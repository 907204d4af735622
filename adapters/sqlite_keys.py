"""SQLite key and usage stores."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from botgpt.adapters.records import RecordMap
from botgpt.adapters.sqlite_db import SQLITE, SqliteDatabase, insert_statement, stamp
from botgpt.domain.model import ApiKey, UsageTotals

KEYS = RecordMap(ApiKey, SQLITE)
_KEY_COLUMNS = KEYS.column_list
_INSERT_KEY = insert_statement("api_keys", KEYS.keys)


class SqliteKeyStore:
    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._db = database.connection

    async def add_key(self, key: ApiKey) -> None:
        params = KEYS.values(key)
        await self._database.run(lambda: self._db.execute(_INSERT_KEY, params))

    async def find_key(self, prefix: str) -> ApiKey | None:
        sql = f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE prefix = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (prefix,)).fetchone())
        return None if row is None else KEYS.load(row)

    async def list_keys(self) -> list[ApiKey]:
        sql = f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
        return [KEYS.load(row) for row in await self._database.run(lambda: self._db.execute(sql).fetchall())]

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        sql = "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
        return bool(await self._database.run(lambda: self._db.execute(sql, (stamp(at), key_id)).rowcount))

    async def has_active_keys(self) -> bool:
        sql = "SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL)"
        return bool((await self._database.run(lambda: self._db.execute(sql).fetchone()))[0])


class SqliteUsageStore:
    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._db = database.connection

    async def add_usage(self, user_id: str, key_id: str, day: date, prompt_tokens: int, completion_tokens: int) -> None:
        sql = (
            "INSERT INTO usage_daily (user_id, key_id, day, requests, prompt_tokens, completion_tokens)"
            " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (user_id, key_id, day) DO UPDATE SET requests = requests + 1,"
            " prompt_tokens = prompt_tokens + excluded.prompt_tokens,"
            " completion_tokens = completion_tokens + excluded.completion_tokens"
        )
        params = (user_id, key_id, day.isoformat(), prompt_tokens, completion_tokens)
        await self._database.run(lambda: self._db.execute(sql, params))

    async def key_tokens(self, key_id: str, day: date) -> int:
        sql = "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage_daily WHERE key_id = ? AND day = ?"
        return int((await self._database.run(lambda: self._db.execute(sql, (key_id, day.isoformat())).fetchone()))[0])

    async def user_totals(self, user_id: str) -> UsageTotals:
        sql = (
            "SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0)"
            " FROM usage_daily WHERE user_id = ?"
        )
        row = await self._database.run(lambda: self._db.execute(sql, (user_id,)).fetchone())
        return UsageTotals(int(row[0]), int(row[1]), int(row[2]))

    async def count_request(self, key_id: str, minute: datetime) -> int:
        def work() -> int:
            # Old buckets of this key go as new ones come: the table stays small.
            self._db.execute(
                "DELETE FROM request_counts WHERE key_id = ? AND minute < ?",
                (key_id, stamp(minute - timedelta(minutes=2))),
            )
            row = self._db.execute(
                "INSERT INTO request_counts (key_id, minute, count) VALUES (?, ?, 1)"
                " ON CONFLICT (key_id, minute) DO UPDATE SET count = count + 1 RETURNING count",
                (key_id, stamp(minute)),
            ).fetchone()
            return int(row[0])

        return await self._database.transaction(work)
