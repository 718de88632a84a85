"""Evaluating a deployment from the notebook: ``map`` (every input through one API) and ``bench`` (a load test).

Both run the same engine (:mod:`~bentocloud_jupyter.core.calls.batch`): checked up front (one line, nothing
sent), concurrent on one pool, failures recorded per item, 429/503 retried as advised, a scaled-to-zero
deployment woken first. On the kernel's loop they return a running handle at once; elsewhere they block.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bentocloud_jupyter.core.calls.batch import Batch
from bentocloud_jupyter.core.calls.handle import BatchHandle, start
from bentocloud_jupyter.core.calls.outcomes import MapResult
from bentocloud_jupyter.core.calls.planning import plan

__all__ = ["map"]


def _same(result: MapResult) -> MapResult:
    return result


def map(name: str, api: str, inputs: Iterable[Any], concurrency: int = 8, timeout: float | None = None,
        retries: int = 2, context: str | None = None, *, cluster: str | None = None) -> BatchHandle[MapResult]:
    """Call ``api`` of deployment ``name`` once per input (a JSON body, or a ``pathlib.Path`` to send as a file).

    ``concurrency`` calls at a time; ``timeout`` seconds per request (the session's by default); each call is
    retried up to ``retries`` times on 429/503 (honouring ``Retry-After``). Results come back in input order; a
    failed item carries its one-line error. On a running loop (the kernel's) the handle returns at once: ``await
    handle`` or ``handle.result()`` when done; ``handle.stop()`` cancels the rest.

    Raises:
        InvalidInputError: a bad knob or input, or one the API's schema refuses. NotFoundError: no such
        deployment or API. NotReadyError: the deployment is neither running nor scaled to zero.
    """
    checked = plan(name, api, inputs, concurrency=concurrency, retries=retries, timeout=timeout, context=context,
                   cluster=cluster)
    return start(Batch(checked), _same)
