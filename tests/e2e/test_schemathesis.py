"""schemathesis against a real ``botgpt serve``: every request the OpenAPI document calls
valid is accepted, every invalid one refused, and every answer is the one documented.

A small, time-bound run (the echo engine answers at once); ``schemathesis.toml`` lists the few
rules the document cannot state in JSON Schema, each with its reason.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import REPO, serving

pytest.importorskip("schemathesis")

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
RUN_SECONDS = 75


def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    env = {"BOTGPT_ENGINE_FACTORY": "tests.engines:paced_echo", "HF_HUB_OFFLINE": "1"}
    with serving(tmp_path, env) as server:
        server.wait_until("/ready")
        paths = httpx.get(f"{server.base}/openapi.json").json()["paths"]
        try:
            run = subprocess.run(
                [
                    str(SCHEMATHESIS),
                    "--config-file",
                    str(REPO / "schemathesis.toml"),
                    "run",
                    "--checks",
                    "all",
                    "--phases",
                    "coverage,fuzzing",
                    "--max-examples",
                    "5",
                    "--seed",
                    "1",
                    "--no-color",
                    f"{server.base}/openapi.json",
                ],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=RUN_SECONDS,
            )
        except subprocess.TimeoutExpired as expired:
            pytest.fail(f"schemathesis ran over {RUN_SECONDS} s:\n{expired.stdout}\n{server.log()[-3000:]}")
    assert run.returncode == 0, f"{run.stdout[-12000:]}\n{run.stderr[-2000:]}"
    # Every operation was reached, not skipped (a document that failed to load tests nothing).
    operations = sum(len(methods) for methods in paths.values())
    assert f"Tested: {operations}" in run.stdout, run.stdout[-3000:]
