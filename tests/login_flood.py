"""A login flood from its own process (so its client work does not share the server's event loop):
`python tests/login_flood.py URL WORKERS SECONDS` keeps WORKERS parallel `POST /login` with unknown emails going for
SECONDS, each from another client address (X-Forwarded-For, for a server that trusts 127.0.0.1 as its proxy, so
the per-address limits never cut the flood short), and prints how many answers of each status it got, as JSON."""
from __future__ import annotations

import asyncio
import collections
import json
import sys
import time

import aiohttp


async def flood(url: str, workers: int, seconds: float) -> dict:
    statuses: collections.Counter = collections.Counter()
    deadline = time.monotonic() + seconds
    print("started", flush=True)

    async def worker(n: int) -> None:
        attempt = 0
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                attempt += 1
                body = {"email": f"nobody-{n}-{attempt}@flood.example", "password": "guess-123456"}
                address = f"10.{n}.{attempt // 250 % 250}.{attempt % 250 + 1}"
                async with http.post(url + "/login", json=body, headers={"X-Forwarded-For": address}) as resp:
                    await resp.read()
                    statuses[resp.status] += 1

    await asyncio.gather(*(worker(n) for n in range(workers)))
    return dict(statuses)


if __name__ == "__main__":
    result = asyncio.run(flood(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
    print(json.dumps(result), flush=True)
