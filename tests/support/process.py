"""The server as a real process: `python run.py` on its own port and data dir, for crash and restart tests."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from .postgres import database_for, on_postgres
from .server import ADMIN_PASSWORD, FIXTURE_KB, ROOT


class ServerProcess:
    """`python run.py` as a subprocess on its own port and data dir."""

    def __init__(self, data_dir, port: int, env: dict | None = None, vector_cache=None):
        self.data_dir = data_dir
        # The test run's shared sentence-vector cache: the model is prepared once, not once per process.
        self.env = {**({"CHAT_KB_VECTOR_CACHE_DIR": str(vector_cache)} if vector_cache else {}), **(env or {})}
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"
        # A file, not a pipe: a pipe nobody reads fills up once the server logs enough (a handler failing on every
        # event logs a traceback each time), and then the server blocks on its next log line.
        self.log_path = Path(data_dir).parent / f"server-{port}.log"

    async def start(self) -> "ServerProcess":
        env = {**os.environ, "CHAT_ADMIN_PASSWORD": ADMIN_PASSWORD, "CHAT_RATE_LIMIT_MESSAGES": "100000",
               "CHAT_KB_DIR": str(FIXTURE_KB), "CHAT_LOG_LEVEL": "WARNING",
               **self.env}
        if on_postgres() and "CHAT_DATABASE_URL" not in self.env:   # the data dir's own database
            env["CHAT_DATABASE_URL"] = database_for(self.data_dir)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--port", str(self.port),
                                          "--data-dir", str(self.data_dir)], cwd=ROOT, env=env,
                                         stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, self.log_tail()
                try:
                    async with http.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("server did not start")

    async def wait_for_meaning(self, timeout: float = 60) -> dict:
        """Until /healthz says the bot's sentence meaning is no longer loading (its model is in memory)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(self.url + "/healthz") as resp:
                    kb = (await resp.json())["kb"]
                if kb["meaning"] != "pending":
                    return kb
                assert time.monotonic() < deadline, kb
                await asyncio.sleep(0.1)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of what the server wrote to stderr (all its runs on this port)."""
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def rss_kb(self) -> int:
        """The process's resident memory (VmRSS)."""
        return rss_kb(self.proc.pid)

    def stop(self, timeout: float = 10) -> float:
        """SIGINT (as Ctrl-C); the seconds until the process exited."""
        started = time.monotonic()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return time.monotonic() - started


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])
