"""Loading and unloading the IPython extension: idempotent registration, clean shutdown.

Loading stays light: only the magics class and the completion hooks are imported here; the HTTP
client, YAML, asyncio machinery and the core API load with the first magic that needs them.
"""

from __future__ import annotations

import atexit
import sys
from typing import Any

__all__ = ["load", "unload"]

_loaded: dict[int, Any] = {}


def load(ipython: Any) -> None:
    """Register ``%bentocloud``/``%deploy`` and their completers; a second load changes nothing."""
    if id(ipython) in _loaded:
        return
    from bentocloud_jupyter.ipython.completion import complete_bentocloud, complete_deploy
    from bentocloud_jupyter.ipython.magics import BentoCloudMagics

    magics = BentoCloudMagics(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    ipython.set_hook("complete_command", complete_bentocloud, str_key="%bentocloud")
    ipython.set_hook("complete_command", complete_deploy, str_key="%deploy")
    _loaded[id(ipython)] = magics
    if len(_loaded) == 1:
        atexit.register(_shutdown)


def unload(ipython: Any) -> None:
    """Stop all background work and remove the magics."""
    magics = _loaded.pop(id(ipython), None)
    _shutdown()
    if magics is None:
        return
    for kind in ("line", "cell"):
        table = ipython.magics_manager.magics.get(kind, {})
        for name in ("bentocloud", "deploy"):
            table.pop(name, None)
    ipython.magics_manager.registry.pop(type(magics).__name__, None)


def _shutdown() -> None:
    """Stop followers, watchers and connections, touching only modules already imported.

    A module that was never imported has nothing running, so shutting down (at exit, or on unload)
    never pays for importing the client just to find there is nothing to close.
    """
    follow = sys.modules.get("bentocloud_jupyter.core.logs.follow")
    if follow is not None:
        follow.stop_following(all=True)
    present = sys.modules.get("bentocloud_jupyter.ipython.present")
    session = sys.modules.get("bentocloud_jupyter.core.rest.session")
    if present is not None:
        present.stop_all()
    elif session is not None:
        session.close_all()
