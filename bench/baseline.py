"""The bare baseline: an ASGI app that only returns the pixel's GIF.

Served by the same uvicorn, with the same options, as `consentpixel serve`, so that the
difference between the two is the cost of counting a hit.

    python -m bench.baseline --port 0 [--workers N]
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.types import Receive, Scope, Send

from consentpixel.serving import listen
from consentpixel.pixel import BODY, START

# What `consentpixel serve` passes to uvicorn (server/cli.py).
OPTIONS = dict(log_level="warning", access_log=False, server_header=False,
               timeout_graceful_shutdown=10, lifespan="on")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send(START)
    await send(BODY)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    sock = listen("127.0.0.1", args.port)
    port = sock.getsockname()[1]
    print(f"baseline collecting on http://127.0.0.1:{port}", flush=True)
    if args.workers == 1:
        uvicorn.Server(uvicorn.Config(app, **OPTIONS)).run(sockets=[sock])  # type: ignore[arg-type]
        return
    sock.close()  # as `serve` does: uvicorn's supervisor binds and shares the port
    uvicorn.run("bench.baseline:app", host="127.0.0.1", port=port, workers=args.workers,
                **OPTIONS)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
