"""What every benchmark script shares: start the product or the bare baseline as a pinned subprocess on a free
loopback port, create and log in agents, run the Node load generator, and stop exactly what was started.

Nothing here talks to anything but 127.0.0.1, and every wait is bounded.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

ADMIN_PASSWORD = "bench-admin-password"
AGENT_PASSWORD = "bench-agent-password"
SERVER_CORE = "0"
LOADGEN_CORE = "1"
# Benchmark visitors send far faster than the human rate limits allow (10 messages per 10 s, 30 new visitors
# per address per minute), and all of them come from 127.0.0.1: both limits are lifted for load runs.
LOAD_ENV = {
    "CHAT_RATE_LIMIT_MESSAGES": "1000000",
    "CHAT_NEW_VISITORS_PER_MINUTE_PER_IP": "1000000",
    # Every simulated visitor connects from 127.0.0.1: the per-address cap would refuse all but the first 100.
    "CHAT_MAX_SOCKETS_PER_ADDRESS": "1000000",
    "CHAT_LOG_LEVEL": "WARNING",
    "CHAT_KB_POLL_SECONDS": "3600",
}


# The bot's model and KB vectors, kept between benchmark runs (a restarted server keeps its own the same way).
SENTENCE_CACHE = Path(tempfile.gettempdir()) / "chat-bench-vector-cache"

# Server kinds that run the product; the value is BENCH_TUNING for benchmarks/variant_server.py.
PRODUCT_KINDS = {"product": None, "untuned": "", "deflate-only": "deflate", "gc-only": "gc",
                 "stock-loops": "deflate,gc"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit(wanted: int = 65536) -> None:
    """10,000 sockets need more than the usual 1,024 descriptors; children inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def pinned(cmd: list[str], core: str | None) -> list[str]:
    if core is None or not _has_taskset() or os.cpu_count() < 2:
        return cmd
    return ["taskset", "-c", core, *cmd]


def _has_taskset() -> bool:
    return subprocess.run(["sh", "-c", "command -v taskset"], capture_output=True).returncode == 0


def ensure_node_modules() -> None:
    if not (BENCH / "node_modules" / "socket.io-client").is_dir():
        print("installing the load generator's packages (npm ci) ...", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def http_json(url: str, body: dict | None = None, timeout: float = 10.0) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@dataclass
class ServerProcess:
    """One server subprocess started by us; `stop()` ends it (and only it)."""

    kind: str  # "product" | "untuned" | "deflate-only" | "gc-only" | "baseline" | "baseline-uvloop"
    port: int
    data_dir: Path | None
    proc: subprocess.Popen | None = None
    started_in: float = 0.0
    log_path: Path | None = None
    env: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def command(self) -> list[str]:
        if self.kind in PRODUCT_KINDS:
            script = ROOT / "run.py" if self.kind == "product" else BENCH / "variant_server.py"
            return [sys.executable, str(script), "--port", str(self.port), "--data-dir", str(self.data_dir)]
        extra = ["--uvloop"] if self.kind == "baseline-uvloop" else []
        return [sys.executable, str(BENCH / "baseline_server.py"), "--port", str(self.port), *extra]

    def start(self, core: str | None = SERVER_CORE, timeout: float = 90.0) -> "ServerProcess":
        env = {**os.environ, "CHAT_ADMIN_PASSWORD": ADMIN_PASSWORD, **LOAD_ENV,
               "CHAT_KB_VECTOR_CACHE_DIR": str(SENTENCE_CACHE),
               "BENCH_TUNING": PRODUCT_KINDS.get(self.kind) or "", **self.env}
        env.pop("PYTHONPATH", None) if (ROOT / "triage" / "__init__.py").exists() else None
        self.log_path = Path(tempfile.mkstemp(prefix=f"bench-{self.kind}-", suffix=".log")[1])
        log = open(self.log_path, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(pinned(self.command(), core), cwd=ROOT, env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: {self.log_path.read_text()[-2000:]}")
            try:
                status, health = http_json(self.url + "/healthz", timeout=1.0)
                if status == 200:
                    self.started_in = time.monotonic() - t0
                    self._wait_for_meaning(health, t0 + timeout)
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.kind} server did not answer /healthz within {timeout} s")

    def _wait_for_meaning(self, health: dict, deadline: float) -> None:
        """Measure the server in its steady state: the bot's sentence encoder prepares the model and embeds the KB
        in a background thread after start (seconds of CPU on the server's one core), so wait until it is done.
        The vector cache is shared between runs (SENTENCE_CACHE), as a restarted server's is."""
        while isinstance(health, dict) and (health.get("kb") or {}).get("meaning") == "pending":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind}: the KB's sentence vectors were not ready in time")
            time.sleep(0.1)
            _, health = http_json(self.url + "/healthz", timeout=1.0)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def remove_files(self) -> None:
        """The temp data dir and log this run made (call after stop)."""
        if self.data_dir is not None and Path(self.data_dir).name.startswith("bench-data-"):
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def create_agents(data_dir: Path, count: int, max_chats: int, database_url: str = "") -> list[str]:
    """Agents straight into the data dir (or the PostgreSQL database) before the server starts (there is no
    agent-creation API to rely on)."""
    from chatserver.auth import hash_password
    from chatserver.store import Store
    from chatserver.store.agents import create_agent

    emails = [f"agent{i}@bench.local" for i in range(count)]
    password_hash = hash_password(AGENT_PASSWORD)

    async def fill():
        if database_url:
            from chatserver.store.postgres import PostgresStore
            store = PostgresStore(database_url, pool_size=1)
        else:
            store = Store(data_dir / "chat.db")
        await store.start()
        try:
            await asyncio.gather(*(store.write(create_agent, email, f"Agent {i}", password_hash, "agent",
                                               max_chats, [], time.time()) for i, email in enumerate(emails)))
        finally:
            await store.close()

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(fill())
    return emails


def login_agents(url: str, emails: list[str]) -> list[str]:
    tokens = []
    for email in emails:
        status, body = http_json(url + "/login", {"email": email, "password": AGENT_PASSWORD})
        if status != 200:
            raise RuntimeError(f"login {email}: {status} {body}")
        tokens.append(body["token"])
    return tokens


def start_server(kind: str, agents: int = 0, max_chats: int = 3, env: dict | None = None,
                 workdir: Path | None = None) -> tuple[ServerProcess, list[str]]:
    """Start `kind` on a free port with `agents` agents; returns the server and the agents' auth tokens."""
    data_dir = None
    emails: list[str] = []
    if kind in PRODUCT_KINDS:
        data_dir = Path(tempfile.mkdtemp(prefix="bench-data-", dir=workdir))
        emails = create_agents(data_dir, agents, max_chats) if agents else []
    server = ServerProcess(kind, free_port(), data_dir, env=env or {}).start()
    if kind in PRODUCT_KINDS:
        return server, login_agents(server.url, emails)
    return server, [f"agent-{i}" for i in range(agents)]


def run_loadgen(options: dict, timeout: float = 300.0, core: str | None = LOADGEN_CORE) -> list[dict]:
    """Run loadgen.js with these options; returns its JSON lines. Raises if it fails."""
    ensure_node_modules()
    options = {"clkTck": os.sysconf("SC_CLK_TCK"), "deadlineSeconds": timeout - 5, **options}
    proc = subprocess.run(pinned(["node", str(BENCH / "loadgen.js"), json.dumps(options)], core), cwd=BENCH,
                          capture_output=True, text=True, timeout=timeout)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    failures = [line for line in lines if line.get("type") == "error"]
    if proc.returncode != 0 or failures:
        raise RuntimeError(f"loadgen failed ({proc.returncode}): {failures or proc.stderr[-2000:]}")
    return lines


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def shutil_rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
