"""The production profile's Prometheus and Grafana, checked statically against the compose
file, and the Grafana dashboard against a live scrape: every metric a panel asks for is one
botgpt exports, and every metric botgpt exports is on a panel."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families
from quart import Quart

from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.http.app import create_app
from botgpt.entrypoints.settings import Settings
from tests.deploy.test_deploy_files import COMPOSE, ROOT
from tests.fakes import HashingEmbedder

DEPLOY = ROOT / "deploy"
DASHBOARD: dict[str, Any] = json.loads((DEPLOY / "grafana" / "botgpt-dashboard.json").read_text())
PROMETHEUS: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
SERIES = re.compile(r"\bbotgpt_[a-z0-9_]+\b")


def mounts(service: str) -> dict[str, str]:
    """A service's bind mounts: the file in the repository -> where the container sees it."""
    found = {}
    for volume in COMPOSE["services"][service].get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[source[2:]] = target
    return found


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_prometheus_scrapes_the_api_with_a_key_and_the_worker_on_its_metrics_port() -> None:
    prometheus = mounts("prometheus")
    assert prometheus["deploy/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    jobs = {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}
    api = jobs["botgpt-api"]
    api_port = option(COMPOSE["services"]["api"]["command"], "--port")
    assert api["static_configs"][0]["targets"] == [f"api:{api_port}"] and api["metrics_path"] == "/metrics"
    # The API listens on 0.0.0.0, where /metrics wants a key: Prometheus reads the mounted one.
    assert option(COMPOSE["services"]["api"]["command"], "--host") == "0.0.0.0"
    assert api["authorization"]["credentials_file"] == prometheus["deploy/metrics.key"]
    worker = COMPOSE["services"]["worker"]["command"]
    assert jobs["botgpt-worker"]["static_configs"][0]["targets"] == [f"worker:{option(worker, '--metrics-port')}"]
    assert option(worker, "--metrics-host") == "0.0.0.0"  # reachable on the compose network, published nowhere
    assert "ports" not in COMPOSE["services"]["worker"]
    published = [port for name in ("prometheus", "grafana") for port in COMPOSE["services"][name]["ports"]]
    assert published and all(port.startswith("127.0.0.1:") for port in published)


def test_grafana_provisions_prometheus_and_the_dashboard() -> None:
    grafana = mounts("grafana")
    provisioning = DEPLOY / "grafana" / "provisioning"
    assert grafana["deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    port = COMPOSE["services"]["prometheus"]["ports"][0].rsplit(":", 1)[1]
    assert source["type"] == "prometheus" and source["url"] == f"http://prometheus:{port}"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "botgpt.yml").read_text())["providers"]
    assert Path(grafana["deploy/grafana/botgpt-dashboard.json"]).parent == Path(provider["options"]["path"])


def dashboard_expressions() -> list[str]:
    panels = [panel for panel in DASHBOARD["panels"] if panel["type"] != "row"]
    assert len({panel["id"] for panel in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])
    assert all(panel["targets"] and panel["datasource"]["uid"] == "${datasource}" for panel in panels)
    return [target["expr"] for panel in panels for target in panel["targets"]]


@pytest.fixture
async def engine_app(tmp_path: Path) -> AsyncIterator[Quart]:
    """The app on the local model's real engine process (the echo engine), metrics open."""
    settings = Settings.load(
        environ={}, data_dir=tmp_path, engine_factory="botgpt.adapters.echo_engine:build", metrics_access="open"
    )
    container = build_container(settings)
    container.embedder.override(providers.Object(HashingEmbedder()))
    app = create_app(container)
    async with app.test_app():
        client = app.test_client()
        for _ in range(600):
            if (await client.get("/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        yield app


async def test_every_series_on_the_dashboard_is_exported_and_every_export_is_on_it(engine_app: Quart) -> None:
    response = await engine_app.test_client().get("/metrics")
    exported: set[str] = set()
    for family in text_string_to_metric_families((await response.get_data()).decode()):
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}.get(family.type, ("",))
        exported |= {family.name + suffix for suffix in suffixes} | {sample.name for sample in family.samples}
    asked = {name for expr in dashboard_expressions() for name in SERIES.findall(expr)}
    assert asked and asked <= exported, sorted(asked - exported)
    families = {name for name in exported if name.startswith("botgpt_")}
    shown = {re.sub(r"_(bucket|count|sum)$", "", name) for name in asked}
    missing = {name for name in families if re.sub(r"_(bucket|count|sum)$", "", name) not in shown}
    assert not missing, sorted(missing)
    assert {"botgpt_engine_up", "botgpt_engine_queue_depth", "botgpt_ingestion_jobs"} <= exported
