"""The credentials file in a hostile world: ``bentoml`` rewriting it without a lock while we write, a
folder or file the user made read-only, and hand-edited ``allow_insecure_http`` values.

The races are made deterministic: a writer thread behaves like ``bentoml`` (open with truncation, write
the text, close), and each of its steps runs at an exact point of our write, chosen by wrapping the one
function our write reads the file with. Our write waits for the step to finish before it goes on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pytest

from bentocloud_jupyter.core.credentials import config, guard, reading
from bentocloud_jupyter.core.credentials.config import Config, Context
from bentocloud_jupyter.core.credentials.model import INSECURE_KEY, flag_is_true
from bentocloud_jupyter.core.errors import ConfigError, InsecureEndpointError
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.tokens import Token

SEEDED = tuple(Context(f"s{i}", f"https://org{i}.example", Token(f"token-seeded-{i:02d}-secret")) for i in range(9))
THEIRS = Context("bml", "https://bml.example", Token("token-bentoml-secret"))
OURS = Context("ours", "https://ours.example", Token("token-ours-secret"))


def _text(*contexts: Context) -> str:
    return Config(contexts, "s0").to_yaml()


class Bentoml:
    """A writer thread that rewrites the file in place, one step at a time, as ``bentoml`` does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.handle: IO[str] | None = None

    def run(self, step: Callable[[], None]) -> None:
        self.pool.submit(step).result()  # in the writer thread; we wait until it is done

    def truncate(self, first_part: str = "") -> Callable[[], None]:
        def step() -> None:
            self.handle = open(self.path, "w")  # noqa: SIM115 (held open: the write is under way)
            self.handle.write(first_part)
            self.handle.flush()
        return step

    def finish(self, rest: str) -> Callable[[], None]:
        def step() -> None:
            assert self.handle is not None
            self.handle.write(rest)
            self.handle.close()
        return step

    def rewrite(self, text: str) -> Callable[[], None]:
        def step() -> None:
            with open(self.path, "w") as handle:
                handle.write(text)
        return step


@pytest.fixture()
def seeded() -> Path:
    path = config.credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_text(*SEEDED))
    return path


@pytest.fixture()
def bentoml(seeded: Path) -> Iterator[Bentoml]:
    writer = Bentoml(seeded)
    yield writer
    writer.pool.shutdown()


Plan = dict[tuple[str, int], Callable[[], None]]


def _script(monkeypatch: pytest.MonkeyPatch, writer: Bentoml, plan: Plan) -> list[bytes | None]:
    """Run ``plan[("before"|"after", n)]`` in the writer thread around our n-th read; returns what we read."""
    real = reading.read_raw
    seen: list[bytes | None] = []

    def read_raw(path: Path) -> bytes | None:
        number = len(seen) + 1
        if ("before", number) in plan:
            writer.run(plan[("before", number)])
        raw = real(path)
        seen.append(raw)
        if ("after", number) in plan:
            writer.run(plan[("after", number)])
        return raw

    monkeypatch.setattr(guard, "read_raw", read_raw)
    return seen


def _names(path: Path) -> list[str]:
    return config.load_config(path).names


def _cut_before(text: str, name: str) -> int:
    """Where the context ``name`` starts in ``text`` (each context starts with its ``- api_token`` line)."""
    return text.rindex("- api_token", 0, text.index(f"name: {name}\n"))


FULL = _text(*SEEDED, THEIRS)
AT_A_BOUNDARY = _cut_before(FULL, "s4")  # parses as a valid file holding s0..s3 only
MID_TOKEN = FULL.index("token-seeded-05") + 8  # does not parse


RACES: dict[str, Callable[[Bentoml], Plan]] = {
    "empty file while bentoml writes": lambda b: {
        ("before", 1): b.truncate(), ("after", 1): b.finish(FULL)},
    "only the first contexts written yet": lambda b: {
        ("before", 1): b.truncate(FULL[:AT_A_BOUNDARY]), ("after", 1): b.finish(FULL[AT_A_BOUNDARY:])},
    "cut in the middle of a token": lambda b: {
        ("before", 1): b.truncate(FULL[:MID_TOKEN]), ("after", 1): b.finish(FULL[MID_TOKEN:])},
    "rewritten between our read and our rename": lambda b: {("after", 1): b.rewrite(FULL)},
    "empty just as we check before renaming": lambda b: {
        ("before", 2): b.truncate(), ("after", 2): b.finish(FULL)},
}


@pytest.mark.parametrize("race", list(RACES), ids=list(RACES))
def test_a_write_racing_bentoml_loses_no_context(race: str, bentoml: Bentoml, seeded: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _script(monkeypatch, bentoml, RACES[race](bentoml))
    written = config.save_context(OURS)
    assert written.names == [c.name for c in (*SEEDED, THEIRS, OURS)]
    assert _names(seeded) == written.names
    assert any(raw != FULL.encode() for raw in seen), "the race was never hit: the test proves nothing"


def test_a_file_emptied_for_good_is_written_after_a_quiet_spell(seeded: Path) -> None:
    seeded.write_bytes(b"")
    assert config.save_context(OURS).names == ["ours"]


def test_a_file_that_keeps_changing_is_refused_and_never_written(
        bentoml: Bentoml, seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "SETTLE_LIMIT_SECONDS", 0.2)
    cuts = iter(range(10, len(FULL)))
    plan: Plan = {("before", n): bentoml.rewrite(FULL[:next(cuts)]) for n in range(1, 400)}
    _script(monkeypatch, bentoml, plan)
    writes: list[Path] = []
    monkeypatch.setattr(guard, "atomic_write", lambda target, text, **_: writes.append(target))
    with pytest.raises(ConfigError, match="kept changing") as info:
        config.save_context(OURS)
    assert "\n" not in str(info.value) and writes == []


def test_a_file_rewritten_after_every_read_is_refused(bentoml: Bentoml, seeded: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    extra = [Context(f"bml{n}", "https://bml.example", Token(f"token-bml-{n}")) for n in range(20)]
    plan: Plan = {("after", n): bentoml.rewrite(_text(*SEEDED, *extra[:n])) for n in range(1, 20)}
    _script(monkeypatch, bentoml, plan)
    with pytest.raises(ConfigError, match="kept changing"):
        config.save_context(OURS)
    assert "ours" not in _names(seeded) and set(c.name for c in SEEDED) <= set(_names(seeded))


def test_a_change_that_drops_contexts_it_did_not_remove_is_refused(seeded: Path) -> None:
    before = seeded.read_bytes()
    with pytest.raises(ConfigError, match=r"drop the contexts 's0', 's1'") as info:
        config.update_config(lambda c: replace(c, contexts=c.contexts[2:]))
    assert "\n" not in str(info.value) and seeded.read_bytes() == before
    config.update_config(lambda c: replace(c, contexts=c.contexts[2:]), removing=("s0", "s1"))
    assert _names(seeded) == [f"s{i}" for i in range(2, 9)]


def test_removals_and_renames_the_user_asked_for_still_work(seeded: Path) -> None:
    assert "s3" not in config.remove_context("s3").names
    assert config.rename_context("s4", "four").names[3] == "four"


def test_writers_racing_a_bentoml_loop_never_lose_a_seeded_context(seeded: Path) -> None:
    """Bounded stress beside the exact races above: a thread rewrites the file in place in three chunks
    (as ``bentoml`` does, without our lock) while we save and remove contexts 30 times."""
    import threading

    stop = threading.Event()

    def bentoml_loop() -> None:
        while not stop.is_set():
            with open(seeded, "w") as handle:
                for start in range(0, len(FULL), len(FULL) // 3 + 1):
                    handle.write(FULL[start:start + len(FULL) // 3 + 1])
                    handle.flush()
            stop.wait(0.005)  # complete for a moment, as between two `bentoml` commands

    writer = threading.Thread(target=bentoml_loop, daemon=True)
    writer.start()
    try:
        for round_ in range(30):
            try:
                written = config.save_context(replace(OURS, name=f"ours{round_}"))
            except ConfigError as exc:  # refused (it kept changing): fine, nothing was written
                assert "kept changing" in str(exc)
                continue
            assert {c.name for c in SEEDED} <= set(written.names)
    finally:
        stop.set()
        writer.join()
    assert {c.name for c in SEEDED} <= set(_names(seeded))


# ------------------------------------------------------------------ read-only folder and file (finding 8)
# The tests run as root, which ignores permission bits: the refusal comes from the mode bits we check
# before writing (a folder or file the user made read-only means "do not change me", for root too), and
# the PermissionError a non-root user gets from the lock is simulated by a lock that raises it.


@pytest.fixture()
def restore_modes(seeded: Path) -> Iterator[None]:
    yield
    os.chmod(seeded.parent, 0o700)
    os.chmod(seeded, 0o600)


def _one_line_refusal(call: Callable[[], Any], *fragments: str) -> str:
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and all(fragment in message for fragment in fragments), message
    return message


def test_a_read_only_folder_is_refused_with_one_line(seeded: Path, restore_modes: None) -> None:
    before = seeded.read_bytes()
    os.chmod(seeded.parent, 0o500)
    _one_line_refusal(lambda: config.save_context(OURS), "read-only", "BENTOML_HOME", str(seeded.parent))
    assert seeded.read_bytes() == before and not Path(str(seeded) + ".lock").exists()


def test_a_read_only_file_is_not_replaced(seeded: Path, restore_modes: None) -> None:
    os.chmod(seeded, 0o400)
    before, inode = seeded.read_bytes(), seeded.stat().st_ino
    for change in (lambda: config.save_context(OURS), lambda: config.remove_context("s1"),
                   lambda: config.rename_context("s1", "one"), lambda: config.set_current_context("s2")):
        _one_line_refusal(change, "read-only", "chmod u+w", str(seeded))
    assert seeded.read_bytes() == before and seeded.stat().st_ino == inode
    assert stat.S_IMODE(seeded.stat().st_mode) == 0o400


def test_a_lock_the_os_refuses_is_one_line(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import filelock

    class DeniedLock:
        def __init__(self, path: str, **_: Any) -> None:
            self.path = path

        def acquire(self) -> None:
            raise PermissionError(13, "Permission denied", self.path)

    monkeypatch.setattr(filelock, "FileLock", DeniedLock)
    before = seeded.read_bytes()
    _one_line_refusal(lambda: config.save_context(OURS), "Permission denied", "writable", "BENTOML_HOME")
    assert seeded.read_bytes() == before


# ------------------------------------------------------------------ allow_insecure_http (finding 9b)
FALSE_VALUES: list[Any] = ["false", "no", "0", "off", "False", " NO ", "maybe", "", None, 0, 2, False, [], {}]
TRUE_VALUES: list[Any] = [True, "true", "yes", "1", "on", "TRUE", " Yes ", 1]


@pytest.mark.parametrize("value", FALSE_VALUES, ids=repr)
def test_insecure_flag_values_that_count_as_false(value: Any) -> None:
    ctx = Context("c", "http://cloud.example.com", Token("token-x"), extra={INSECURE_KEY: value})
    assert not flag_is_true(value) and not ctx.allows_insecure_http and ctx.extra[INSECURE_KEY] is False


@pytest.mark.parametrize("value", TRUE_VALUES, ids=repr)
def test_insecure_flag_values_that_count_as_true(value: Any) -> None:
    ctx = Context("c", "http://cloud.example.com", Token("token-x"), extra={INSECURE_KEY: value})
    assert flag_is_true(value) and ctx.allows_insecure_http and ctx.extra[INSECURE_KEY] is True


def _file_with_flag(flag: str) -> Path:
    path = config.credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("contexts:\n- api_token: token-x\n  email: null\n  endpoint: http://cloud.example.com\n"
                    f"  name: c\n  {INSECURE_KEY}: {flag}\n  custom: kept\ncurrent_context_name: c\n")
    return path


@pytest.mark.parametrize("flag", ['"false"', '"no"', "'0'", "off-ish", '"off"'])
def test_a_false_string_in_the_file_keeps_plain_http_refused(flag: str) -> None:
    _file_with_flag(flag)
    with pytest.raises(InsecureEndpointError):
        session.client_for("c")


@pytest.mark.parametrize("flag", ["true", '"yes"', "'1'", '"on"'])
def test_a_true_value_in_the_file_allows_plain_http(flag: str) -> None:
    _file_with_flag(flag)
    client, _ = session.client_for("c")
    assert client.endpoint.startswith("http://cloud.example.com")
    session.close_all()


def test_a_rewrite_stores_the_flag_as_a_real_bool_and_keeps_unknown_keys() -> None:
    path = _file_with_flag('"no"')
    config.save_context(OURS)
    text = path.read_text()
    assert f"{INSECURE_KEY}: false\n" in text and "custom: kept" in text


def test_login_insecure_flags_its_context_in_one_locked_write(live: Any) -> None:
    from bentocloud_jupyter.core.api import accounts

    config.save_context(OURS)
    accounts.login(live.url, live.token, context="lab", insecure=True)
    saved = config.load_config()
    assert saved.names == ["ours", "lab"]
    lab, ours = saved.find("lab"), saved.find("ours")
    assert lab is not None and lab.allows_insecure_http and ours is not None and not ours.allows_insecure_http
    assert f"{INSECURE_KEY}: true\n" in config.credentials_path().read_text()
