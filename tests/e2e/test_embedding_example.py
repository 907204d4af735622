"""The README's embedding example runs as written, against a real engine process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.servers import REPO


def test_the_grounded_question_example_prints_the_answer_and_its_citations(tmp_path: Path) -> None:
    env = {**os.environ, "BOTGPT_ENGINE_FACTORY": "botgpt.adapters.echo_engine:build", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "grounded_question.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The summary started after the turn finishes (or is cancelled) before the store closes.
    assert "Traceback" not in result.stderr and "closed database" not in result.stderr, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "season.txt: ready"
    assert lines[1].startswith("answer: echo:")  # the echo engine repeats the grounded prompt
    citations = [line for line in lines if line.startswith("[1] season.txt")]
    assert citations and "308 points" in citations[0]
