"""``python -m bentocloud_jupyter.sandbox``: run the emulator until Ctrl-C or SIGTERM (exit 0)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from bentocloud_jupyter.sandbox.server import DEFAULT_HOST, DEFAULT_PORT, Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bentocloud_jupyter.sandbox",
                                     description="Local emulator of the BentoCloud REST API.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port, 0 for any (default %(default)s)")
    parser.add_argument("--token", default=None, help="API token to accept (default: random sbx_...)")
    parser.add_argument("--speed", type=float, default=1.0, help="lifecycle speed factor (default 1)")
    parser.add_argument("--transfer-mode", choices=["proxy", "presigned", "multipart"], default="proxy",
                        help="how bento/model uploads and downloads travel (default %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.speed <= 0:
        print("--speed must be > 0", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sandbox = Sandbox(host=args.host, port=args.port, token=args.token, speed=args.speed,
                          transfer_mode=args.transfer_mode).start()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Printing the token here is deliberate: it is the only place the sandbox ever shows it.
    print(f"BentoCloud sandbox listening on {sandbox.url}", flush=True)
    print(f"API token: {sandbox.token}", flush=True)
    print(f"  export BENTO_CLOUD_API_ENDPOINT={sandbox.url} BENTO_CLOUD_API_KEY={sandbox.token}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
