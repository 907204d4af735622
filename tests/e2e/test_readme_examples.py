"""Every example of the README runs as written, in order, on a fresh data directory.

The blocks are read from README.md itself. Each fenced block is handled one way, or the test fails
(a new block must be runnable or say why not):

- ```` ```bash ````: run, in README order, in ONE bash session against ``botgpt serve`` on a fresh
  data directory, so that variables flow from block to block as in a reader's terminal. Every curl
  fails the run on a 4xx or 5xx (``--fail-with-body``), as it would stop a reader. A line that
  shows an error on purpose ends with ``# expect: STATUS``: that curl must answer STATUS (and
  nothing else). ``botgpt ...`` commands run the installed CLI on the server's data directory
  (``BOTGPT_DATA_DIR``).
- ```` ```python ````: run in the same session (``python3 - <<EOF``), so it sees what the shell
  exported.
- ```` ```toml ````: parsed; a block that starts with ``# botgpt.toml`` is loaded as settings.
- A comment on the line above the fence marks a block not run here:
  ``<!-- not run: REASON -->`` (it needs docker, MongoDB, a remote key, or is a synopsis; the
  reason is required), or ``<!-- same as: PATH -->`` (the block must be in that file verbatim;
  the file has a test of its own).

The chat model is the echo engine (the real model's answers are covered elsewhere); the embedder
(MiniLM), store and index are the defaults a reader gets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from botgpt.entrypoints.settings import Settings
from tests.e2e.servers import REPO, serving

README_BASE = "http://127.0.0.1:8000"
MARK = re.compile(r"^<!--\s*(not run|same as):\s*(\S.*?)\s*-->$")
FENCE = re.compile(r"^(\s*)```(.*)$")
EXPECT = re.compile(r"#\s*expect:\s*(\d{3})\b")
SECTION = "@@@ README block"
PYTHON_END = "BOTGPT_README_PYTHON"

# A probe that already says -f (a readiness loop) keeps its own meaning. A line marked
# `# expect: STATUS` leaves its status in a file (it may run in a pipeline's subshell), and
# its curl must answer exactly that; every check is logged, so none can be skipped unseen.
STRICT_CURL = r"""set -eo pipefail
trap 'echo "README example failed (status $?): $BASH_COMMAND" >&2' ERR
readme_expect() { printf '%s' "$1" > "$README_EXPECT"; }
curl() {
  if [ -s "$README_EXPECT" ]; then
    local want got body
    want=$(cat "$README_EXPECT"); rm -f "$README_EXPECT"; body=$(mktemp)
    got=$(command curl --show-error --max-time 60 -o "$body" -w '%{http_code}' "$@") || { cat "$body"; return 1; }
    cat "$body"; rm -f "$body"
    echo "$want $got" >> "$README_EXPECT.log"
    [ "$got" = "$want" ] || { echo "expected HTTP $want, got $got: curl $*" >&2; return 1; }
    return 0
  fi
  case " $* " in
    *" -sf "* | *" -f "*) command curl --max-time 10 "$@" ;;
    *) command curl --fail-with-body --show-error --max-time 120 "$@" ;;
  esac
}
readme_block_done() {
  [ ! -e "$README_EXPECT" ] || { echo "an '# expect:' line ran no curl" >&2; exit 1; }
}
"""


@dataclass(frozen=True)
class Block:
    """One fenced block of the README: where it is, what it is, and how it is marked."""

    line: int
    heading: str
    language: str
    text: str
    mark: tuple[str, str] | None

    def where(self) -> str:
        return f"README.md line {self.line} ({self.heading}, {self.language or 'no language'})"


def readme_blocks(readme: str) -> list[Block]:
    """Every fenced block, in order, with the heading it is under and the mark above it."""
    lines = readme.splitlines()
    blocks: list[Block] = []
    heading, index = "top", 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if fence is None:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            index += 1
            continue
        indent, language = fence.group(1), fence.group(2).strip()
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        body = "\n".join(text[len(indent) :] if text.startswith(indent) else text for text in lines[index + 1 : end])
        mark = MARK.match(lines[index - 1].strip()) if index else None
        marked = (mark.group(1), mark.group(2)) if mark else None
        blocks.append(Block(index + 1, heading, language, body + "\n", marked))
        index = end + 1
    return blocks


def check_unrun(block: Block) -> None:
    """A block the session does not run: marked with a reason, a copy of a file, or TOML."""
    if block.mark is not None:
        kind, value = block.mark
        if kind == "same as":
            assert block.text in (REPO / value).read_text(encoding="utf-8"), f"{block.where()} differs from {value}"
        return
    if block.language == "toml":
        parsed = tomllib.loads(block.text)
        if block.text.startswith("# botgpt.toml"):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "botgpt.toml"
                path.write_text(block.text, encoding="utf-8")
                settings = Settings.load(environ={}, config_file=path)  # unknown keys, bad values: SettingsError
            assert all(str(getattr(settings, key)) == str(value) for key, value in parsed.items()), block.where()
        return
    raise AssertionError(
        f"{block.where()}: the README runner runs bash and python blocks and parses toml; mark any other "
        "block with <!-- not run: REASON --> above its fence"
    )


def with_expectations(code: str) -> tuple[str, int]:
    """Put `readme_expect STATUS` before each command whose last line says `# expect: STATUS`."""
    lines = code.splitlines()
    out: list[str] = []
    count = 0
    for line in lines:
        expected = EXPECT.search(line)
        if expected is not None:
            start = len(out)
            while start > 0 and out[start - 1].rstrip().endswith("\\"):
                start -= 1
            out.insert(start, f"readme_expect {expected.group(1)}")
            count += 1
        out.append(line)
    return "\n".join(out) + "\n", count


def session_script(blocks: list[Block], base: str) -> tuple[str, int]:
    """One bash script: each runnable block in order, announced by a marker line."""
    parts, expected = [STRICT_CURL], 0
    for number, block in enumerate(blocks):
        code = block.text.replace(README_BASE, base)
        parts.append(f"printf '\\n{SECTION} {number}\\n'")  # curl's output may lack a final newline
        if block.language == "bash":
            code, count = with_expectations(code)
            expected += count
            parts.append(code + "readme_block_done")
        else:
            assert PYTHON_END not in code
            parts.append(f"python3 - <<'{PYTHON_END}'\n{code}{PYTHON_END}")
    return "\n".join(parts) + "\n", expected


def runnable(blocks: list[Block]) -> list[Block]:
    """The blocks the session runs; every other block is checked by check_unrun (or fails)."""
    run = []
    for block in blocks:
        if block.mark is None and block.language in ("bash", "python"):
            run.append(block)
        else:
            check_unrun(block)
    return run


def outputs(stdout: str, blocks: list[Block]) -> dict[str, str]:
    """Each block's output, keyed by its text."""
    pieces = re.split(rf"^{SECTION} (\d+)$", stdout, flags=re.M)
    numbered = zip(pieces[1::2], pieces[2::2], strict=True)
    return {blocks[int(number)].text: output.lstrip("\n") for number, output in numbered}


def output_of(results: dict[str, str], needle: str) -> str:
    """The output of the one block whose text holds ``needle``."""
    found = [output for text, output in results.items() if needle in text]
    assert len(found) == 1, f"{len(found)} README blocks hold {needle!r}"
    return found[0]


def json_values(output: str) -> list[dict[str, Any]]:
    """The JSON objects a block printed one after another (curl adds no newline between them)."""
    decoder, values, index = json.JSONDecoder(), [], 0
    while (index := output.find("{", index)) != -1:
        value, index = decoder.raw_decode(output, index)
        values.append(value)
    return values


def test_every_readme_block_is_run_or_marked_with_a_reason() -> None:
    blocks = readme_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    run = runnable(blocks)
    assert len(run) >= 10 and {b.language for b in run} == {"bash", "python"}


@pytest.mark.skipif(shutil.which("jq") is None or shutil.which("curl") is None, reason="the README needs curl and jq")
def test_the_readme_examples_run_as_written_in_order(tmp_path: Path) -> None:
    blocks = runnable(readme_blocks((REPO / "README.md").read_text(encoding="utf-8")))
    env = {"BOTGPT_ENGINE_FACTORY": "botgpt.adapters.echo_engine:build"}
    with serving(tmp_path, env) as server:
        server.wait_until("/ready")  # the tour's first step, which this session skips
        script, expected = session_script(blocks, server.base)
        shell_env = {
            **os.environ,
            **env,
            "BOTGPT_DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(REPO),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # botgpt, python3
            "README_EXPECT": str(tmp_path / "expect"),
        }
        work = tmp_path / "reader"
        work.mkdir()
        shell = subprocess.run(
            ["bash", "-c", script], cwd=work, env=shell_env, capture_output=True, text=True, timeout=240
        )
        (tmp_path / "session.out").write_text(shell.stdout)  # kept whole, for reading a failure
        assert shell.returncode == 0, shell.stdout[-6000:] + shell.stderr[-4000:] + server.log()[-3000:]

    log = tmp_path / "expect.log"
    checks = log.read_text().splitlines() if log.exists() else []
    assert len(checks) == expected and all(want == got for want, got in map(str.split, checks)), checks
    results = outputs(shell.stdout, blocks)
    assert '"finish_reason": "length"' in output_of(results, '"max_tokens": 3')
    assert output_of(results, "jq .duplicate").splitlines()[0] == "true"
    assert "event: done" in output_of(results, "curl -N")
    assert re.fullmatch(r"[0-9a-f]{32}", json_values(output_of(results, "conversations/import"))[0]["id"])
    assert json_values(output_of(results, "api/v1/usage"))[0]["requests"] > 0
    searched = [v for v in json_values(output_of(results, '"filters": {"type": "and"')) if "results" in v]
    assert [{hit["filename"] for hit in search["results"]} for search in searched] == [{"leave.txt"}]
    assert "leave.txt" in output_of(results, "grounded.botgpt")
    assert (work / "botgpt-data-restored").is_dir()
