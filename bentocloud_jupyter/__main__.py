"""``python -m bentocloud_jupyter demo``: the whole loop from a plain script, on a local sandbox.

Starts the sandbox, logs in (into a throw-away credentials folder unless ``--keep``), deploys a bento,
follows it live until it runs, lists, updates, terminates and deletes it: no account, no network.
``python -m bentocloud_jupyter contexts`` lists your saved contexts (tokens masked).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile

from bentocloud_jupyter.core.errors import BentoCloudError


def _demo(speed: float) -> None:
    from bentocloud_jupyter.core import api
    from bentocloud_jupyter.core.api import sandbox as local_sandbox
    from bentocloud_jupyter.core.deployments.watch import WatchState
    from bentocloud_jupyter.core.rest import session
    from bentocloud_jupyter.core.results import StatusView

    print(local_sandbox.start_sandbox(speed=speed).text, "\n")
    try:
        print(repr(api.whoami()), "\n")
        print(repr(api.deploy("summarizer:v3", name="summarizer", scaling_min=1, scaling_max=3,
                              envs=["LOG_LEVEL=debug"], dry_run=True)), "\n")
        api.deploy("summarizer:v3", name="summarizer", scaling_min=1, scaling_max=3, envs=["LOG_LEVEL=debug"])

        async def follow() -> WatchState:
            hub = session.hub_for(session.client_for(None)[1])
            last = [""]

            def show(state: WatchState) -> None:
                if state.status != last[0]:
                    last[0] = state.status
                    print(f"  {StatusView(state).headline}")
            state = await hub.watch(WatchState("summarizer", timeout=120), on_change=show)
            await hub.close()
            return state

        print("Watching (asyncio, nothing blocks):")
        print(repr(StatusView(asyncio.run(follow()))), "\n")
        print(repr(api.list_deployments()), "\n")
        print(repr(api.update("summarizer", scaling_max=5, wait=True, timeout=120)), "\n")
        print(repr(api.terminate("summarizer", wait=True, timeout=60)), "\n")
        print(api.delete("summarizer").text)
    finally:
        print(local_sandbox.stop_sandbox().text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bentocloud_jupyter")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="deploy and watch on a local sandbox (no account needed)")
    demo.add_argument("--speed", type=float, default=1.0, help="run the sandbox lifecycle X times faster")
    demo.add_argument("--keep", action="store_true", help="use your real BENTOML_HOME instead of a temp one")
    commands.add_parser("contexts", help="list saved contexts (tokens masked)")
    args = parser.parse_args(argv)
    try:
        if args.command == "contexts":
            from bentocloud_jupyter.core import api

            print(repr(api.contexts()))
        elif args.keep:
            _demo(args.speed)
        else:
            with tempfile.TemporaryDirectory(prefix="bentocloud-demo-") as home:
                os.environ["BENTOML_HOME"] = home
                _demo(args.speed)
    except BentoCloudError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
