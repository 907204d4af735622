"""The OpenAPI document, with every schema its references name.

quart-schema keeps only the top-level schema of each msgspec-converted model, so nested
models (``ConversationOut`` inside a listing, the ``Mode`` enum, …) were referenced but
never defined: ReDoc refuses such a document and Swagger UI shows resolver errors. This
provider adds the missing component schemas from the DTO classes themselves.
"""

from __future__ import annotations

import enum
import json
import re
import sys
from typing import Any

import attrs
import msgspec
from quart_schema import OpenAPIProvider

COMPONENTS = "#/components/schemas/"
# The HTTP layer's modules, and the export file format it shares with the CLI.
DTO_MODULE_PREFIXES = ("botgpt.entrypoints.http.", "botgpt.entrypoints.transfer_format")


def _dto_classes() -> dict[str, type]:
    """Every attrs class and enum defined in (or imported into) the HTTP layer's modules."""
    found: dict[str, type] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith(DTO_MODULE_PREFIXES):
            continue
        for value in vars(module).values():
            if isinstance(value, type) and (attrs.has(value) or issubclass(value, enum.Enum)):
                found.setdefault(value.__name__, value)
    return found


def dangling_references(document: dict[str, Any]) -> set[str]:
    """Schema names that ``$ref``s point at but ``components.schemas`` does not define."""
    named = set(re.findall(re.escape(COMPONENTS) + r'([^"]+)"', json.dumps(document)))
    return named - set(document.get("components", {}).get("schemas", {}))


class CompleteOpenAPIProvider(OpenAPIProvider):
    """quart-schema's provider, plus the component schemas it leaves out."""

    def schema(self) -> dict[str, Any]:
        document = super().schema()
        missing = dangling_references(document)
        classes = _dto_classes()
        wanted = [classes[name] for name in sorted(missing) if name in classes]
        if wanted:
            _, components = msgspec.json.schema_components(wanted, ref_template=COMPONENTS + "{name}")
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in components.items():
                schemas.setdefault(name, schema)
        return document
