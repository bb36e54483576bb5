"""`python run.py` as a user starts it: a subprocess on its own data dir."""
from __future__ import annotations

import os
import socket
import stat
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


def test_first_start_creates_the_admin_writes_its_password_to_a_private_file_and_prints_urls_once(tmp_path):
    port = free_port()
    server = start(tmp_path / "data", port)
    wait_until_up(port, server)
    out = stop(server)
    password_file = tmp_path / "data" / "admin-password.txt"
    # stdout (a service's log) names the file, never the password itself.
    assert f"Created admin account admin@localhost; its generated password is in {password_file}" in out
    email, password = password_file.read_text().split()
    assert email == "admin@localhost" and len(password) >= 12
    assert password not in out
    assert stat.S_IMODE(os.stat(password_file).st_mode) == 0o600
    assert f"http://127.0.0.1:{port}/console" in out and f"http://127.0.0.1:{port}/widget/demo" in out
    assert (tmp_path / "data" / "chat.db").exists() and (tmp_path / "data" / "secret.key").exists()

    # The password in the file works; a second start says nothing about passwords and leaves the file alone.
    server = start(tmp_path / "data", port)
    wait_until_up(port, server)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/login", method="POST",
                                     data=f'{{"email": "admin@localhost", "password": "{password}"}}'.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200 and b'"token"' in resp.read()
    out = stop(server)
    assert "password" not in out.lower()
    assert password_file.read_text() == f"admin@localhost\n{password}\n"


def test_no_answer_names_the_server_library_or_its_version(tmp_path):
    """Answers aiohttp gives on its own (to a request too malformed to reach the app) included."""
    port = free_port()
    server = start(tmp_path / "data", port, CHAT_ADMIN_PASSWORD="s3cret-enough")
    try:
        wait_until_up(port, server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert resp.headers["Server"] == "chatserver"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = raw.recv(4096).decode("latin-1")
        assert answer.startswith(("HTTP/1.0 400", "HTTP/1.1 400")), answer
        server_header = [line for line in answer.split("\r\n") if line.lower().startswith("server:")]
        assert server_header == ["Server: chatserver"], answer
        assert "aiohttp" not in answer.lower() and "python" not in answer.lower()
    finally:
        stop(server)


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
