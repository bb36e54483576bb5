"""A login flood from its own process (so its client work does not share the server's event loop):
`python tests/login_flood.py URL WORKERS` keeps WORKERS parallel `POST /login` with unknown emails going until its
stdin is closed (or a minute has passed), each from another client address (X-Forwarded-For, for a server that trusts 127.0.0.1 as its proxy, so
the per-address limits never cut the flood short), and prints how many answers of each status it got, as JSON."""
from __future__ import annotations

import asyncio
import collections
import json
import sys
import time

import aiohttp


async def flood(url: str, workers: int, seconds: float = 60.0) -> dict:
    statuses: collections.Counter = collections.Counter()
    deadline = time.monotonic() + seconds
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    stdin_closed.add_done_callback(lambda _: stop.set())
    stop = asyncio.Event()
    print("started", flush=True)

    async def worker(n: int) -> None:
        attempt = 0
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline and not stop.is_set():
                attempt += 1
                body = {"email": f"nobody-{n}-{attempt}@flood.example", "password": "guess-123456"}
                address = f"10.{n}.{attempt // 250 % 250}.{attempt % 250 + 1}"
                async with http.post(url + "/login", json=body, headers={"X-Forwarded-For": address}) as resp:
                    await resp.read()
                    statuses[resp.status] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(workers)))
    return {"statuses": dict(statuses), "seconds": round(time.monotonic() - started, 2)}


if __name__ == "__main__":
    result = asyncio.run(flood(sys.argv[1], int(sys.argv[2])))
    print(json.dumps(result), flush=True)
