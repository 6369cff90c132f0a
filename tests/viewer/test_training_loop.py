"""frcnn_viewer.state.training.loop: the pause / step / abort gate across threads, and OOM detection."""

from __future__ import annotations

import threading
import time

import torch

from frcnn_viewer.state.training.loop import ABORT, SINGLE_STEP, STEP, Request, StepGate, is_out_of_memory


def _run(gate: StepGate, total: int, log: list) -> threading.Thread:
    """A loop like the worker's: ``total`` steps, requests served in between, ended by abort."""

    def loop() -> None:
        done = 0
        while True:
            action = gate.next_action(can_step=done < total)
            if action == ABORT:
                return
            if isinstance(action, Request):
                log.append(action.kind)
                continue
            done += 1
            log.append(action)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def _until(predicate, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_paused_loop_takes_exactly_the_steps_asked_for_and_serves_requests():
    phases: list[str] = []
    gate = StepGate(phases.append, paused=True)
    log: list = []
    thread = _run(gate, total=100, log=log)
    _until(lambda: phases == ["paused"])
    gate.step(3)
    _until(lambda: len(log) == 3 and phases[-1] == "paused")
    assert log == [SINGLE_STEP] * 3 and phases == ["paused", "stepping", "paused"]
    gate.submit(Request("save"))
    _until(lambda: log[-1] == "save")
    assert len(log) == 4  # a request is no step
    gate.resume()
    _until(lambda: phases[-1] == "finished")
    assert log.count(STEP) == 97 and phases[-2:] == ["running", "finished"]
    gate.abort()
    thread.join(5)
    assert not thread.is_alive()


def test_abort_wakes_a_paused_loop():
    gate = StepGate(paused=True)
    thread = _run(gate, total=10, log=[])
    gate.abort()
    thread.join(5)
    assert not thread.is_alive() and gate.aborted


def test_out_of_memory_errors_are_recognised():
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory"))
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 1 GB"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
