"""Domain objects to and from stored records, derived from their attrs fields.

The SQLite and MongoDB stores share this mapping; a ``Dialect`` says how each database keeps
the few value types that need converting (timestamps, lists, nested objects). A field added
to the model is stored and read back without touching either store, once its column exists.
"""

from __future__ import annotations

import array
import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen
class Codec:
    """A value's stored form, and the way back."""

    dump: Callable[[Any], Any]
    load: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


SAME = Codec(_same, _same)


def _float32(stored: bytes) -> array.array[float]:
    vector = array.array("f")
    vector.frombytes(bytes(stored))
    return vector


# Vectors as little-endian float32 bytes: a BLOB in SQLite, BinData in MongoDB.
VECTOR = Codec(lambda vector: vector.tobytes(), _float32)


@attrs.frozen
class Dialect:
    """How one database keeps the value types that need converting."""

    id_key: str
    timestamps: Codec
    structured: Codec  # lists and nested objects, already made of plain dicts and lists


class RecordMap(Generic[T]):
    """The stored record of one attrs model class in one dialect.

    ``renamed`` maps a field to another column or key; ``codecs`` overrides a field's codec.
    A key missing from a record (written before the field existed) reads as the default.
    """

    def __init__(
        self,
        model: type[T],
        dialect: Dialect,
        renamed: Mapping[str, str] | None = None,
        codecs: Mapping[str, Codec] | None = None,
    ) -> None:
        attrs.resolve_types(model)  # type: ignore[type-var]
        self.model, self.dialect = model, dialect
        renamed, codecs = renamed or {}, codecs or {}
        self._fields = [
            (field, renamed.get(field.name, dialect.id_key if field.name == "id" else field.name))
            for field in attrs.fields(model)  # type: ignore[arg-type]
        ]
        self._codecs = {field.name: codecs.get(field.name) or _codec(field.type, dialect) for field, _ in self._fields}

    @property
    def keys(self) -> tuple[str, ...]:
        """Column or key names, in field order."""
        return tuple(key for _, key in self._fields)

    @property
    def column_list(self) -> str:
        """The keys as an SQL column list."""
        return ", ".join(self.keys)

    def dump(self, item: T) -> dict[str, Any]:
        """The record of ``item``."""
        return {key: self._codecs[field.name].dump(getattr(item, field.name)) for field, key in self._fields}

    def encode(self, field: str, value: Any) -> Any:
        """One field's stored form, for partial updates."""
        return self._codecs[field].dump(value)

    def decode(self, field: str, stored: Any) -> Any:
        """One field's value from its stored form, for partial reads."""
        return self._codecs[field].load(stored)

    def values(self, item: T) -> tuple[Any, ...]:
        """The record's values in ``keys`` order (SQL parameters)."""
        return tuple(self.dump(item).values())

    def load(self, record: Any) -> T:
        """The object a record holds; ``record`` is a mapping or an ``sqlite3.Row``."""
        values = {}
        for field, key in self._fields:
            stored = _get(record, key)
            if stored is _MISSING:
                continue
            values[field.name] = self._codecs[field.name].load(stored)
        return self.model(**values)


_MISSING = object()


def _get(record: Any, key: str) -> Any:
    try:
        return record[key]
    except (KeyError, IndexError):
        return _MISSING


def _codec(kind: Any, dialect: Dialect) -> Codec:
    """The codec of a field's resolved type."""
    arguments = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and type(None) in arguments:
        inner = _codec(next(a for a in arguments if a is not type(None)), dialect)
        return Codec(lambda v: None if v is None else inner.dump(v), lambda v: None if v is None else inner.load(v))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return Codec(lambda v: v.value, kind)
    if kind is datetime:
        return dialect.timestamps
    if typing.get_origin(kind) is tuple:
        item = arguments[0]
        if attrs.has(item):
            return _structured(dialect, lambda v: [attrs.asdict(x) for x in v], lambda v: tuple(item(**x) for x in v))
        return _structured(dialect, list, tuple)
    if typing.get_origin(kind) is dict:
        return _structured(dialect, dict, dict)
    if isinstance(kind, type) and attrs.has(kind):
        return _structured(dialect, attrs.asdict, lambda v: kind(**v))
    return SAME


def _structured(dialect: Dialect, to_plain: Callable[[Any], Any], from_plain: Callable[[Any], Any]) -> Codec:
    return Codec(
        lambda v: dialect.structured.dump(to_plain(v)),
        lambda v: from_plain(dialect.structured.load(v)),
    )
