"""The engine process's scheduler and CPU check, driven in process with the echo engine."""

from __future__ import annotations

import threading
import time
from typing import Any

from botgpt.adapters.cpu_features import missing_cpu_features
from botgpt.adapters.echo_engine import EchoEngine
from botgpt.adapters.engine_protocol import Job
from botgpt.adapters.engine_scheduler import Scheduler
from botgpt.adapters.engine_server import warm_up


def job(text: str, events: list[dict[str, Any]], max_tokens: int = 50) -> Job:
    return Job([{"role": "user", "content": text}], max_tokens=max_tokens, temperature=0.0, emit=events.append)


def running(scheduler: Scheduler) -> threading.Thread:
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    return thread


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_jobs_start_in_arrival_order_and_each_finishes_once() -> None:
    scheduler = Scheduler(EchoEngine(slots=1, step_seconds=0.001), queue_depth=10)
    logs: list[list[dict[str, Any]]] = [[] for _ in range(5)]
    started: list[int] = []
    for n, events in enumerate(logs):

        def emit(event: dict[str, Any], n: int = n, events: list[dict[str, Any]] = events) -> None:
            if event["event"] == "started":
                started.append(n)
            events.append(event)

        assert scheduler.submit(Job([{"role": "user", "content": f"job {n}"}], 10, 0.0, emit)) is not None
    thread = running(scheduler)
    wait_for(lambda: all(events and events[-1]["event"] == "done" for events in logs))
    scheduler.stop()
    thread.join()
    assert started == [0, 1, 2, 3, 4]
    assert [events[-1]["text"] for events in logs] == [f"echo: job {n}" for n in range(5)]
    assert all([e["event"] for e in events].count("done") == 1 for events in logs)


def test_past_the_queue_depth_a_job_is_refused_at_once() -> None:
    scheduler = Scheduler(EchoEngine(slots=1), queue_depth=2)
    events: list[dict[str, Any]] = []
    # Nothing runs yet: one job will take the slot, two may wait.
    assert [scheduler.submit(job(f"j{n}", events)) for n in range(3)] == [0, 1, 2]
    assert scheduler.submit(job("too many", events)) is None


def test_a_cancelled_waiting_job_leaves_the_queue_and_never_starts() -> None:
    scheduler = Scheduler(EchoEngine(slots=1, step_seconds=0.001), queue_depth=5)
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    waiting = job("never", second)
    scheduler.submit(job("a b c d e f g h", first))
    scheduler.submit(waiting)
    scheduler.cancel(waiting)
    assert scheduler.waiting == 1  # only the first job is left
    thread = running(scheduler)
    wait_for(lambda: first and first[-1]["event"] == "done")
    scheduler.stop()
    thread.join()
    assert second == []


def test_a_running_job_that_is_cancelled_stops_at_the_next_step() -> None:
    engine = EchoEngine(slots=2, step_seconds=0.01)
    scheduler = Scheduler(engine, queue_depth=5)
    events: list[dict[str, Any]] = []
    long = job(" ".join(["word"] * 500), events, max_tokens=500)
    scheduler.submit(long)
    thread = running(scheduler)
    wait_for(lambda: len(events) > 3)
    scheduler.cancel(long)
    wait_for(lambda: engine.active == 0)
    tokens = sum(e["event"] == "token" for e in events)
    time.sleep(0.05)
    assert sum(e["event"] == "token" for e in events) == tokens < 500
    assert not any(e["event"] == "done" for e in events)
    scheduler.stop()
    thread.join()


def test_the_stall_clock_runs_only_while_a_step_runs() -> None:
    engine = EchoEngine(slots=1, step_seconds=0.3)
    scheduler = Scheduler(engine, queue_depth=1)
    assert scheduler.stalled_for() == 0.0
    events: list[dict[str, Any]] = []
    scheduler.submit(job("x", events, max_tokens=1))
    thread = running(scheduler)
    time.sleep(0.15)
    assert scheduler.stalled_for() > 0.1
    wait_for(lambda: events and events[-1]["event"] == "done")
    time.sleep(0.01)
    assert scheduler.stalled_for() == 0.0
    scheduler.stop()
    thread.join()


def test_warm_up_generates_one_token() -> None:
    engine = EchoEngine()
    warm_up(engine)
    assert engine.active == 0


def test_a_build_for_features_the_host_lacks_is_refused() -> None:
    info = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 0 | OPENMP = 1 |"
    old_cpu = {"pni", "ssse3", "avx", "sse4_2"}
    assert missing_cpu_features(info, old_cpu) == ["AVX2", "BMI2", "F16C", "FMA"]
    assert missing_cpu_features(info, old_cpu | {"avx2", "bmi2", "f16c", "fma"}) == []
