"""`python run.py` as a user starts it: a subprocess on its own data dir."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from support.server import ROOT, free_port


def start(data_dir, port, **env):
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    environment = {**inherited, "CHAT_LOG_LEVEL": "WARNING", **env}
    return subprocess.Popen([sys.executable, "run.py", "--port", str(port), "--data-dir", str(data_dir)],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until_up(port, process, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def stop(process) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


def test_first_start_creates_the_admin_prints_password_and_urls_once(tmp_path):
    port = free_port()
    server = start(tmp_path / "data", port)
    wait_until_up(port, server)
    out = stop(server)
    assert "Created admin account admin@localhost with password: " in out
    password = out.split("with password: ")[1].split()[0]
    assert len(password) >= 12
    assert f"http://127.0.0.1:{port}/console" in out and f"http://127.0.0.1:{port}/widget/demo" in out
    assert (tmp_path / "data" / "chat.db").exists() and (tmp_path / "data" / "secret.key").exists()

    # The printed password works; a second start prints no password.
    server = start(tmp_path / "data", port)
    wait_until_up(port, server)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/login", method="POST",
                                     data=f'{{"email": "admin@localhost", "password": "{password}"}}'.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200 and b'"token"' in resp.read()
    out = stop(server)
    assert "password" not in out.lower()


def test_environment_variables_choose_the_admin(tmp_path):
    port = free_port()
    server = start(tmp_path / "d", port, CHAT_ADMIN_EMAIL="boss@shop.example", CHAT_ADMIN_PASSWORD="s3cret-enough")
    wait_until_up(port, server)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/login", method="POST",
                                     data=b'{"email": "boss@shop.example", "password": "s3cret-enough"}',
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200
    out = stop(server)
    assert "Created admin account boss@shop.example (password from CHAT_ADMIN_PASSWORD)" in out
