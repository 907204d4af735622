"""The README's five-minute tour runs as written, in order, on a fresh data directory.

The blocks are read from README.md itself, so that the README cannot drift from what works.
A curl that answers 4xx or 5xx fails the run (``--fail-with-body``), as it would fail a reader.
The chat model is the echo engine (the real model's answers are covered elsewhere); the
embedder, store and index are the defaults a reader gets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.servers import REPO, serving

README_BASE = "http://127.0.0.1:8000"
# A probe that already says -f (the readiness loop) keeps its own meaning.
STRICT_CURL = """set -eo pipefail
curl() {
  case " $* " in
    *" -sf "* | *" -f "*) command curl --max-time 10 "$@" ;;
    *) command curl --fail-with-body --show-error --max-time 120 "$@" ;;
  esac
}
"""


def tour_blocks() -> dict[str, str]:
    """The tour's first bash and first python block."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## Five-minute tour", 1)[1].split("\n## ", 1)[0]
    return {kind: re.search(rf"```{kind}\n(.*?)```", tour, re.S).group(1) for kind in ("bash", "python")}  # type: ignore[union-attr]


@pytest.mark.skipif(shutil.which("jq") is None or shutil.which("curl") is None, reason="the tour needs curl and jq")
def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    blocks = tour_blocks()
    with serving(tmp_path, {"BOTGPT_ENGINE_FACTORY": "botgpt.adapters.echo_engine:build"}) as server:
        script = STRICT_CURL + blocks["bash"].replace(README_BASE, server.base) + '\necho "DOC=$DOC"\n'
        shell = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=240)
        assert shell.returncode == 0, shell.stdout + shell.stderr + server.log()[-3000:]
        doc = re.search(r"^DOC=(\S+)$", shell.stdout, re.M).group(1)  # type: ignore[union-attr]
        assert f"{doc} is ready" in shell.stdout
        grounded = json.loads(shell.stdout.split(f"{doc} is ready", 1)[1].rsplit("DOC=", 1)[0])
        assert grounded["citations"] and {c["filename"] for c in grounded["citations"]} == {"pharos.txt"}

        code = blocks["python"].replace(README_BASE, server.base + "")
        sdk = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "DOC": doc}, capture_output=True, text=True, timeout=120
        )
        assert sdk.returncode == 0, sdk.stderr
        assert "pharos.txt" in sdk.stdout
