"""Whether the standard ``OTEL_*`` environment variables ask for traces, and to which
exporters; read without importing the OpenTelemetry SDK, which only tracing needs.

On when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, ``console``, any installed one)
or an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or its ``_TRACES_`` form); off
with ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``. ``otlp`` speaks
``http/protobuf`` (the specification's default) unless ``OTEL_EXPORTER_OTLP_PROTOCOL`` (or its
``_TRACES_`` form) says ``grpc``.
"""

from __future__ import annotations

from collections.abc import Mapping

OTLP_BY_PROTOCOL = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters == "none":
        return False
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return bool(exporters or endpoint)


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The exporters' entry-point names: ``OTEL_TRACES_EXPORTER`` (``otlp`` by default), with
    ``otlp`` resolved to its protocol's exporter."""
    names = [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if name.strip()]
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    ).strip() or "http/protobuf"
    resolved = []
    for name in names or ["otlp"]:
        if name == "otlp":
            if protocol not in OTLP_BY_PROTOCOL:
                raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL must be one of {', '.join(OTLP_BY_PROTOCOL)}")
            name = OTLP_BY_PROTOCOL[protocol]
        resolved.append(name)
    return resolved
