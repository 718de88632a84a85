"""No log record of any logger, at any level, holds a token or a URL signature (issue 16, finding 7).

Every record of every logger is captured at DEBUG (a handler on the root logger, every known library logger
opened to DEBUG) during a login, websocket log reads (blocking and asyncio), pushes and pulls over presigned
and multipart URLs, and a call with access authorization; then the records are searched for the token and
for signature values. Units check the scrubbing itself: argument shapes kept, tracebacks, a replaced record
factory, header echoes of tokens we never saw.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import make_bento, make_model, ready, run_loop, until

from bentocloud_jupyter.core import api, logguard
from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.logs import follow as logfollow
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.sandbox import Sandbox

SIGNATURE_VALUE = re.compile(r"(?i)signature=[0-9a-f]{16,}")


class Everything(logging.Handler):
    """Keeps every record, formatted as a handler would (message, traceback, stack)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.texts.append(self.format(record))

    def names(self) -> set[str]:
        return {record.name for record in self.records}

    def text(self) -> str:
        return "\n".join(self.texts)


@pytest.fixture()
def captured() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in logguard.LIBRARY_LOGGERS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def assert_clean(handler: Everything, token: str) -> None:
    text = handler.text()
    assert handler.records, "nothing was logged: the test saw nothing"
    assert token not in text, "a token leaked into a log record"
    assert not SIGNATURE_VALUE.search(text), "a URL signature leaked into a log record"
    for record in handler.records:  # what a handler of its own would make of the raw record
        assert token not in repr(record.args) and token not in str(record.msg)


def test_login_logs_no_token(live: Sandbox, captured: Everything) -> None:
    api.login(live.url, live.token, "sbx")
    assert {"httpx", "httpcore.http11"} <= captured.names()
    assert_clean(captured, live.token)


def test_websocket_log_reads_log_no_token(sbx_context: Sandbox, captured: Everything) -> None:
    name = ready("nolog-ws")
    assert "Starting production HTTP BentoServer" in str(api.logs(name))  # blocking: websockets.sync

    async def follow() -> str:  # asyncio: websockets.asyncio, through the follower
        follower = api.logs(name, follow=True)
        assert isinstance(follower, logfollow.LogFollower)
        try:
            await until(lambda: "Starting production HTTP BentoServer" in follower.buffer.text())
            return follower.buffer.text()
        finally:
            follower.stop()

    assert run_loop(follow)
    echoes = [text for text in captured.texts if "X-YATAI-API-TOKEN" in text]
    assert echoes and all("****" in text for text in echoes)  # websockets logged the header: masked
    assert "websockets.client" in captured.names()
    assert_clean(captured, sbx_context.token)


@pytest.mark.parametrize("mode", ["presigned", "multipart"])
def test_presigned_transfers_log_no_signature(sbx_context: Sandbox, captured: Everything, isolated_home: Path,
                                              mode: str) -> None:
    sbx_context.transfer_mode = mode
    try:
        model = make_model(isolated_home, f"quiet_{mode}", "m1")
        bento = make_bento(isolated_home, f"quiet-{mode}", "b1", models=(model,))
        assert api.push(bento).mode == mode
        api.pull(bento, output=str(isolated_home / f"{mode}.bento"))
    finally:
        sbx_context.transfer_mode = "proxy"
    storage = [text for text in captured.texts if "/_storage/" in text]
    assert storage and all("signature=<redacted>" in text for text in storage if "signature=" in text)
    assert_clean(captured, sbx_context.token)


def test_a_call_with_access_authorization_logs_no_token(sbx_context: Sandbox, captured: Everything) -> None:
    name = ready("nolog-auth", access_authorization=True)
    invoke.call(name, "summarize", {"text": "Quiet logs. Really."})
    assert_clean(captured, sbx_context.token)


# ------------------------------------------------------------------------------------------------ units


SECRET = "unit-log-token-0123456789abcdef"


def _record(logger: str, msg: object, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.getLogger(logger).makeRecord(logger, logging.DEBUG, __file__, 1, msg, args, exc_info)


def test_arguments_keep_their_shape() -> None:
    Token(SECRET)  # known from now on, and the guard is on
    access = _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "PUT",
                     "/_storage/b/x/archive.tar?expires=9&signature=abcdef0123456789abcdef", "1.1", 200)
    assert isinstance(access.args, tuple) and len(access.args) == 5  # uvicorn's formatter unpacks five
    path, status = access.args[2], access.args[4]
    assert status == 200 and path == "/_storage/b/x/archive.tar?expires=9&signature=<redacted>"
    header = _record("websockets.client", "> %s: %s", "X-YATAI-API-TOKEN", SECRET)
    assert header.getMessage() == f"> X-YATAI-API-TOKEN: ****{SECRET[-4:]}"


@pytest.mark.parametrize("url", [
    "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeefcafe",
    "https://storage.googleapis.com/b/o?X-Goog-Signature=deadbeefcafe&X-Goog-Expires=3600",
    "https://acct.blob.core.windows.net/c/b?sv=2022&se=2030&sp=r&sig=deadbeefcafe%3D",
    "https://d1.cloudfront.net/x?Expires=1&Signature=deadbeefcafe~&Key-Pair-Id=K1",
])
def test_signed_urls_lose_their_signature(url: str) -> None:
    record = _record("httpx", 'HTTP Request: %s %s "%s"', "GET", url, "HTTP/1.1 200 OK")
    assert "deadbeefcafe" not in record.getMessage() and "<redacted>" in record.getMessage()


def test_tracebacks_and_stacks_are_scrubbed() -> None:
    Token(SECRET)
    try:
        raise RuntimeError(f"refused header X-YATAI-API-TOKEN: {SECRET}")
    except RuntimeError as exc:
        record = _record("asyncio", "Task exception was never retrieved", exc=exc)
    text = logging.Formatter().format(record)
    assert SECRET not in text and "RuntimeError" in text


def test_a_replaced_record_factory_still_leaves_the_library_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    Token(SECRET)
    monkeypatch.setattr(logging, "_logRecordFactory", logging.LogRecord)  # another library replaced it
    handler = Everything()
    logger = logging.getLogger("websockets.client")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("> %s: %s", "X-YATAI-API-TOKEN", SECRET)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    assert handler.texts and SECRET not in handler.text()


def test_header_echoes_of_unknown_tokens_and_scrubbing_twice() -> None:
    text = "> Authorization: Bearer never-seen-token-9876543210"
    once = logguard.scrub(text)
    assert "never-seen" not in once and logguard.scrub(once) == once
    assert logguard.installed()
    plain = _record("httpx", "nothing secret here: %s %d", "GET", 3)
    assert plain.args == ("GET", 3) and plain.msg == "nothing secret here: %s %d"
