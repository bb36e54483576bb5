"""deploy/nginx.conf run by a private nginx (the tests' and the benchmarks', never Debian's service).

The site is the deployed file itself: only the upstream's `server` lines, the `listen` line and the log paths are
replaced (`render_site`), and it is wrapped in the few main-context lines a private nginx needs (its own pid file and
temp dirs under `prefix`), exactly as Debian's nginx.conf wraps conf.d/*.conf (`write_config`). Standard library
only, so tests/support/nginx_nodes.py and benchmarks/cluster.py both load it by path."""
from __future__ import annotations

import re
from pathlib import Path

NGINX_CONF = Path(__file__).resolve().parent / "nginx.conf"


def render_site(node_ports: list[int], listen_port: int, log_dir: Path) -> str:
    """deploy/nginx.conf with these nodes, this port and these log files; everything else as deployed."""
    conf = NGINX_CONF.read_text()
    upstream = re.search(r"upstream chat_nodes \{.*?\n\}", conf, re.DOTALL)
    assert upstream, "deploy/nginx.conf has no `upstream chat_nodes { ... }` block"
    template = re.search(r"^(\s*)server 127\.0\.0\.1:\d+( .*);$", upstream.group(0), re.MULTILINE)
    assert template, "the upstream's server lines are not `server 127.0.0.1:PORT options;`"
    block = re.sub(r"^\s*server 127\.0\.0\.1:\d+ .*;\n", "", upstream.group(0), flags=re.MULTILINE)
    servers = "".join(f"{template.group(1)}server 127.0.0.1:{port}{template.group(2)};\n" for port in node_ports)
    block = block.replace("\n}", "\n" + servers + "}") if servers else block
    conf = conf.replace(upstream.group(0), block)
    conf, listens = re.subn(r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{listen_port};", conf, flags=re.MULTILINE)
    assert listens == 1, "deploy/nginx.conf must have one `listen 80;` line"
    return conf.replace("/var/log/nginx/", f"{log_dir}/")


def write_config(prefix: Path, node_ports: list[int], listen_port: int, worker_connections: int = 1024) -> Path:
    """prefix/nginx.conf (main context) including prefix/chat.conf (the rendered site); logs in prefix/logs.
    Returns the path to pass to `nginx -p prefix -c`."""
    logs, temp = prefix / "logs", prefix / "temp"
    logs.mkdir(parents=True, exist_ok=True)
    temp.mkdir(exist_ok=True)
    (prefix / "chat.conf").write_text(render_site(node_ports, listen_port, logs))
    main = prefix / "nginx.conf"
    main.write_text(
        f"daemon off;\nmaster_process on;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {logs}/error.log warn;\nevents {{ worker_connections {worker_connections}; }}\n"
        f"http {{\n  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n"
        f"  access_log off;\n  include {prefix}/chat.conf;\n}}\n")
    return main


def upstream_of(access_log: Path, source: str) -> str | None:
    """The node (127.0.0.1:port) that served the last logged request from this client address."""
    lines = access_log.read_text().splitlines() if access_log.exists() else []
    for line in reversed(lines):
        if line.startswith(source + " "):
            found = re.search(r"upstream=(\S+)", line)
            return found.group(1).split(",")[-1].strip() if found else None
    return None
