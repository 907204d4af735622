"""Where settings come from, and how text becomes a typed value: TOML files and environment."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

ENV_PREFIX = "BOTGPT_"


class SettingsError(ValueError):
    """A setting has a value botgpt cannot use."""


def read_toml(path: Path, names: set[str]) -> dict[str, Any]:
    """The settings of a TOML file; unknown keys are an error, so typos do not pass silently."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"cannot read config file {path}: {error}") from error
    unknown = set(data) - names
    if unknown:
        raise SettingsError(f"unknown settings in {path}: {', '.join(sorted(unknown))}")
    return data


# Well-known variables of the services themselves, read as botgpt settings too.
ENV_ALIASES = {
    "MONGODB_URI": "mongodb_uri",
    "GROQ_API_KEY": "groq_api_key",
    "GEMINI_API_KEY": "gemini_api_key",
    "GEMINI_BASE_URL": "gemini_base_url",
    "OPENAI_API_KEY": "openai_api_key",
    "OPENAI_BASE_URL": "openai_base_url",
}


def from_environment(environ: Mapping[str, str], names: set[str]) -> dict[str, Any]:
    """``BOTGPT_*`` variables, and the services' own well-known ones, by setting name."""
    found = {name: environ[alias] for alias, name in ENV_ALIASES.items() if alias in environ and name in names}
    for key, value in environ.items():
        name = key.removeprefix(ENV_PREFIX).lower()
        if key.startswith(ENV_PREFIX) and name in names:
            found[name] = value
    return found


def coerce(field: attrs.Attribute[Any], value: Any) -> Any:
    """``value`` as the field's type, checked against its choices."""
    try:
        coerced = _convert(field.type, value)
    except ValueError as error:
        raise SettingsError(f"setting {field.name}: {error}") from error
    choices = field.metadata.get("choices")
    if choices and coerced not in choices:
        raise SettingsError(f"setting {field.name} must be one of {', '.join(choices)}; got {coerced!r}")
    _check_range(field, coerced)
    return coerced


def _check_range(field: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    low, high = field.metadata.get("minimum"), field.metadata.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        span = (
            f"between {low:g} and {high:g}"
            if low is not None and high is not None
            else (f"at least {low:g}" if low is not None else f"at most {high:g}")
        )
        raise SettingsError(f"setting {field.name} must be {span}; got {value!r}")


def _convert(kind: Any, value: Any) -> Any:
    if kind in ("bool", bool):
        return _to_bool(value)
    if kind in ("int", int):
        return _number(int, value, "a whole number")
    if kind in ("float", float):
        return _number(float, value, "a number")
    if kind in ("Path", Path):
        return Path(value)
    return str(value)


def _number(kind: type[int] | type[float], value: Any, expected: str) -> int | float:
    # Python's own message ("could not convert string to float: 'hot'") names neither the
    # setting's type nor what would be accepted.
    if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected {expected}, got {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected {expected}, got {value!r}") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")
