"""Concurrent writers never lose each other's contexts; a writer killed mid-write never leaves a
partial file."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context

_fork = multiprocessing.get_context("fork")
PADDING = 20_000  # makes each write take a few milliseconds, so kills land mid-write


def _save_after_barrier(barrier: object, index: int) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    config.save_context(Context(f"ctx-{index:02d}", f"https://org{index}.example", f"token-{index:02d}-secret"))


def test_twenty_processes_saving_at_once_lose_nothing() -> None:
    config.save_context(Context("existing", "https://e.example", "token-existing"))
    barrier = _fork.Barrier(20)
    workers = [_fork.Process(target=_save_after_barrier, args=(barrier, i)) for i in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    names = config.load_config().names
    assert names[0] == "existing"
    assert sorted(names[1:]) == [f"ctx-{i:02d}" for i in range(20)]


def _version_text(i: int) -> str:
    """The complete file of version i; large enough that a write takes a while."""
    padding = Context("padding", "https://pad.example", "p" * PADDING)
    versioned = Context("counter", f"https://v{i}.example", f"token-version-{i:08d}")
    return config.Config((versioned, padding), "counter").to_yaml()


def _write_forever(path: Path) -> None:
    counter = config.load_config(path).find("counter")
    i = int(counter.api_token.reveal().rsplit("-", 1)[1]) + 1 if counter else 1
    while True:
        padding = Context("padding", "https://pad.example", "p" * PADDING)
        versioned = Context("counter", f"https://v{i}.example", f"token-version-{i:08d}")
        config.update_config(lambda c, v=versioned, p=padding: config.Config((v, p), "counter"), path)
        i += 1


def test_sigkill_at_random_points_leaves_a_complete_file() -> None:
    path = config.credentials_path()
    config.update_config(lambda c: config.Config(
        (Context("counter", "https://v0.example", "token-version-00000000"),
         Context("padding", "https://pad.example", "p" * PADDING)), "counter"), path)
    rng = random.Random(20261128)
    seen_versions = set()
    for _ in range(200):
        writer = _fork.Process(target=_write_forever, args=(path,))
        writer.start()
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(writer.pid, signal.SIGKILL)  # type: ignore[arg-type]
        writer.join()
        text = path.read_text()
        counter = config.load_config().find("counter")
        assert counter is not None
        version = int(counter.api_token.reveal().rsplit("-", 1)[1])
        if version > 0:
            assert text == _version_text(version)
        seen_versions.add(version)
    assert len(seen_versions) > 10, "the writer was never caught mid-way: the test proves nothing"
