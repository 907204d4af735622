"""Grounded answers end to end, through the HTTP API, on XQuAD-en (which has gold answers).

Starts ``botgpt serve`` on a fresh data directory with the configured (by default the
embedded) models, uploads the 240 XQuAD passages as documents, then asks a fixed sample of
questions, each as a new ``rag_mode`` conversation over all 240 documents. Prints:

- cited chunk holds the answer: share of turns where some cited chunk contains a gold answer
  (and the share of all citations that do). An answer without ``[n]`` markers cites every
  source it was given, so the share is also given for the answers that do use markers;
- top source is gold: share of questions whose best-ranked chunk (``/api/v1/search``, the same
  retriever the turn uses) comes from the gold passage;
- answer holds the answer: share of answers that contain a gold answer (SQuAD normalisation);
- support precision: of the citations marked ``supported``, the share from the gold passage
  (and the same for those marked unsupported, which should be low);
- turn latency: median and p90, seconds.

    python bench/answer_eval.py --data ../shared/data/xquad_en [--questions 40] [--url URL]
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _support import median, percentile
from list_throughput import free_port, start_server

USER = "answer-eval"
MARKER = re.compile(r"\[\d{1,3}\]")


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def holds(text: str, answers: list[str]) -> bool:
    return any(normalise(answer) in normalise(text) for answer in answers)


def sample(path: Path, count: int) -> list[dict[str, Any]]:
    """Every n-th question in id order: fixed across runs and spread over all articles."""
    rows = sorted((json.loads(line) for line in path.open(encoding="utf-8")), key=lambda row: row["id"])
    step = max(1, len(rows) // count)
    return rows[::step][:count]


def upload_passages(client: httpx.Client, corpus: list[dict[str, Any]]) -> dict[str, str]:
    """Passage id -> document id, once every document is ready."""
    ids = {}
    for row in corpus:
        files = {"file": (f"{row['_id']}.txt", row["text"].encode())}
        response = client.post("/api/v1/documents", data={"user_id": USER}, files=files)
        response.raise_for_status()
        ids[row["_id"]] = response.json()["id"]
    started = time.perf_counter()
    while not _all_ready(client, ids):
        time.sleep(1)
    print(f"ingested {len(ids)} passages in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return ids


def _all_ready(client: httpx.Client, ids: dict[str, str]) -> bool:
    for offset in range(0, len(ids), 100):
        page = client.get("/api/v1/documents", params={"user_id": USER, "limit": 100, "offset": offset}).json()
        if any(d["status"] != "ready" for d in page["documents"]):
            return False
    return True


def ask(client: httpx.Client, question: dict[str, Any], document_ids: list[str]) -> tuple[dict[str, Any], float]:
    body = {"user_id": USER, "message": question["question"], "mode": "rag_mode", "document_ids": document_ids}
    started = time.perf_counter()
    response = client.post("/api/v1/conversations", json=body)
    response.raise_for_status()
    return response.json()["assistant_message"], time.perf_counter() - started


def top_document(client: httpx.Client, question: str, document_ids: list[str]) -> str:
    body = {"user_id": USER, "query": question, "document_ids": document_ids, "k": 1}
    return str(client.post("/api/v1/search", json=body).json()["results"][0]["document_id"])


def evaluate(client: httpx.Client, data: Path, count: int) -> None:
    corpus = [json.loads(line) for line in (data / "corpus.jsonl").open(encoding="utf-8")]
    texts = {row["_id"]: row["text"] for row in corpus}
    documents = upload_passages(client, corpus)
    passage_of = {document: passage for passage, document in documents.items()}
    all_ids = list(documents.values())
    turns, latencies = [], []
    for question in sample(data / "qa.jsonl", count):
        answer, seconds = ask(client, question, all_ids)
        latencies.append(seconds)
        top = top_document(client, question["question"], all_ids)
        turns.append((question, answer, passage_of[top]))
    report(turns, latencies, texts, passage_of)


def report(
    turns: list[tuple[dict[str, Any], dict[str, Any], str]],
    latencies: list[float],
    texts: dict[str, str],
    passage_of: dict[str, str],
) -> None:
    def cited_text(citation: dict[str, Any]) -> str:
        return texts[passage_of[citation["document_id"]]][citation["start"] : citation["end"]]

    def from_gold(citation: dict[str, Any], question: dict[str, Any]) -> bool:
        return bool(passage_of[citation["document_id"]] == question["passage_id"])

    citations = [(q, c) for q, a, _ in turns for c in a["citations"]]
    supported = [from_gold(c, q) for q, c in citations if c.get("supported") is True]
    unsupported = [from_gold(c, q) for q, c in citations if c.get("supported") is False]
    marked = [(q, a) for q, a, _ in turns if MARKER.search(a["content"])]
    rates = {
        "answers that cite with [n] markers": [bool(MARKER.search(a["content"])) for _, a, _ in turns],
        "cited chunk holds the answer, answers with markers (turns)": [
            any(holds(cited_text(c), q["answers"]) for c in a["citations"]) for q, a in marked
        ],
        "cited chunk holds the answer (turns)": [
            any(holds(cited_text(c), q["answers"]) for c in a["citations"]) for q, a, _ in turns
        ],
        "cited chunk holds the answer (citations)": [holds(cited_text(c), q["answers"]) for q, c in citations],
        "top source is the gold passage": [top == q["passage_id"] for q, _, top in turns],
        "answer holds a gold answer": [holds(a["content"], q["answers"]) for q, a, _ in turns],
        "supported citations from the gold passage (precision)": supported,
        "unsupported citations from the gold passage": unsupported,
    }
    print(f"questions={len(turns)} citations={len(citations)} model={turns[0][1]['model'] if turns else '-'}")
    for name, values in rates.items():
        share = sum(values) / len(values) if values else float("nan")
        print(f"{name}: {share:.3f} ({sum(values)}/{len(values)})")
    print(f"turn latency: median {median(latencies):.2f}s, p90 {percentile(latencies, 0.9):.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--url", default=None, help="a running server (default: start one on a fresh data dir)")
    args = parser.parse_args()
    if args.url:
        with httpx.Client(base_url=args.url, timeout=600) as client:
            evaluate(client, args.data, args.questions)
        return
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        server = start_server(Path(data_dir), port, workers=1)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
                evaluate(client, args.data, args.questions)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
