"""The telemetry the container injects: Prometheus metrics unless ``metrics_access = off``,
and OpenTelemetry traces only when the ``OTEL_*`` environment asks for them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from botgpt.entrypoints.settings import Settings, SettingsError
from botgpt.ports.telemetry import NO_METRICS, NO_TRACER, Metrics, Tracer

log = logging.getLogger(__name__)


def botgpt_version() -> str:
    """The installed botgpt's version."""
    try:
        return version("botgpt")
    except PackageNotFoundError:
        return "0+unknown"


def metrics(settings: Settings) -> Metrics:
    """Prometheus metrics, or none at all when they are switched off."""
    if settings.metrics_access == "off":
        return NO_METRICS
    from botgpt.adapters.prometheus_metrics import PrometheusMetrics

    return PrometheusMetrics()


async def tracer(settings: Settings) -> AsyncIterator[Tracer]:
    """OpenTelemetry spans as ``OTEL_*`` says, flushed at stop; no tracing without them."""
    from botgpt.adapters.otel_environment import exporter_names, tracing_requested

    if not tracing_requested(os.environ):
        yield NO_TRACER
        return
    from botgpt.adapters.otel_tracing import OtelTracer, traced_provider

    try:
        provider = traced_provider(os.environ, botgpt_version())
    except ValueError as error:  # an exporter that is not installed, an unknown protocol
        raise SettingsError(str(error)) from error
    assert provider is not None
    log.info("tracing on: spans go to %s, as OTEL_* configures", ", ".join(exporter_names(os.environ)))
    try:
        yield OtelTracer(provider, record_text=settings.trace_message_text)
    finally:
        await asyncio.to_thread(provider.shutdown)  # exports what is still batched


MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's multiprocess mode


@contextlib.contextmanager
def shared_metrics(workers: int) -> Iterator[None]:
    """For several HTTP workers, a directory where each writes its samples and from which any
    one's scrape sums them all (prometheus_client's multiprocess mode). Made before the
    workers start, emptied of an earlier run's files, and removed at exit unless the operator
    chose it with ``PROMETHEUS_MULTIPROC_DIR``. One worker keeps its counts in memory."""
    if workers <= 1:
        yield
        return
    chosen = os.environ.get(MULTIPROC_VARIABLE)
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="botgpt-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # an earlier server's counts are not this one's
        stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_VARIABLE] = str(path)  # the spawned workers inherit it
    try:
        yield
    finally:
        if not chosen:
            shutil.rmtree(path, ignore_errors=True)


def forget_worker(pid: int) -> None:
    """A worker process has exited: its live gauges leave the scrape (its counters stay, so
    that totals never go back)."""
    path = os.environ.get(MULTIPROC_VARIABLE)
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def metrics_endpoint(metrics: Metrics, host: str, port: int | None) -> Iterator[None]:
    """For a process without the HTTP API (``botgpt worker``): its own metrics on
    ``http://host:port/metrics`` while the block runs; nothing when ``port`` is None."""
    from botgpt.adapters.prometheus_metrics import PrometheusMetrics

    if port is None or not isinstance(metrics, PrometheusMetrics):
        yield
        return
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, host, registry=metrics.registry)
    log.info("metrics on http://%s:%d/metrics", host, server.server_port)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
