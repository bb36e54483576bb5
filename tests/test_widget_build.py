"""The widget's build: the committed chatserver/widget/dist/ is what its sources build to (npm ci + esbuild), and the
Python package ships it, so a non-editable install serves /widget.js without Node."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path


from support.server import ROOT, free_port
from support.services import unavailable

WIDGET_DIR = ROOT / "chatserver" / "widget"
DIST = WIDGET_DIR / "dist"
# What building the widget reads: its npm project, its sources and the helpers it shares with the console.
BUILD_INPUTS = ["widget/package.json", "widget/package-lock.json", "widget/.npmrc", "widget/build.mjs", "widget/src",
                "static/shared.js"]


def copy_build_inputs(to: Path) -> Path:
    """The widget's build inputs in a fresh tree of the same shape; returns its widget folder."""
    for relative in BUILD_INPUTS:
        source, target = ROOT / "chatserver" / relative, to / "chatserver" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return to / "chatserver" / "widget"


def run(command: list[str], cwd: Path, timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_committed_build_is_what_the_sources_build_to(tmp_path):
    if not (shutil.which("node") and shutil.which("npm")):
        unavailable("node and npm are not installed (.ci/run installs them), so chatserver/widget/dist cannot be "
                    "rebuilt to compare it")
    widget = copy_build_inputs(tmp_path / "tree")
    run(["npm", "ci"], widget, timeout=300)   # exactly the versions in package-lock.json
    out = tmp_path / "out"
    print("\n" + run(["node", "build.mjs", str(out)], widget, timeout=120).stdout.strip())

    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in DIST.iterdir())
    stale = [p.name for p in out.iterdir() if p.read_bytes() != (DIST / p.name).read_bytes()]
    assert not stale, (f"chatserver/widget/dist/{', '.join(stale)} differ from a fresh build of the sources: "
                       "run `npm ci && npm run build` in chatserver/widget and commit dist/")
    # The console's client is the npm package's own build, the version the widget bundles.
    client = json.loads((widget / "node_modules" / "socket.io-client" / "package.json").read_text())
    assert f"Socket.IO v{client['version']}" in (DIST / "socket.io.min.js").read_text()
    assert f"Socket.IO v{client['version']}" in (DIST / "widget.js").read_text()


SERVE_FROM_INSTALL = textwrap.dedent("""
    import asyncio, json, sys
    from pathlib import Path
    import aiohttp
    from aiohttp import web
    import chatserver
    from chatserver import Config, create_app

    async def main(site_dir, data_dir, kb_dir, port):
        assert Path(chatserver.__file__).is_relative_to(site_dir), chatserver.__file__
        config = Config(host="127.0.0.1", port=port, data_dir=Path(data_dir), kb_dir=Path(kb_dir),
                        admin_password="admin-password-1", kb_encoder=False)
        runner = web.AppRunner(create_app(config), handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        served = {}
        try:
            async with aiohttp.ClientSession() as http:
                for path in ("/widget.js", "/vendor/socket.io.min.js", "/widget/demo"):
                    async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
                        served[path] = [resp.status, (await resp.read()).decode()]
        finally:
            await runner.cleanup()
        elsewhere = [m.__file__ for name, m in sys.modules.items()
                     if name.split(".")[0] == "chatserver" and not Path(m.__file__).is_relative_to(site_dir)]
        assert not elsewhere, elsewhere
        print(json.dumps({"package": chatserver.__file__, "served": served}))

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
""")


def test_a_non_editable_install_ships_and_serves_the_built_widget(tmp_path):
    # Build the wheel from a clean copy of the project (a stale build/ folder could hide a missing file).
    project = tmp_path / "project"
    shutil.copytree(ROOT / "chatserver", project / "chatserver",
                    ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    shutil.copytree(ROOT / "triage", project / "triage", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(project)], tmp_path,
        timeout=300)
    [wheel] = wheels.glob("chatserver-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert archive.read("chatserver/widget/dist/widget.js") == (DIST / "widget.js").read_bytes()
    for shipped in ("chatserver/widget/dist/socket.io.min.js", "chatserver/widget/dist/THIRD-PARTY-LICENSES.txt",
                    "chatserver/widget/demo.html", "chatserver/static/shared.js", "chatserver/widget/src/main.js",
                    "chatserver/widget/src/widget.css", "chatserver/widget/src/views/messages.js",
                    "chatserver/widget/src/strings/de.json", "chatserver/widget/package-lock.json"):
        assert shipped in names, f"{shipped} is not in the wheel"
    assert not [n for n in names if "node_modules" in n]

    # Install it (not editable) into its own folder and serve from there, away from the source tree.
    site = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target", str(site),
         str(wheel)], tmp_path, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = run([sys.executable, "-c", SERVE_FROM_INSTALL, str(site), str(tmp_path / "data"), str(ROOT / "kb_articles"),
                str(free_port())], tmp_path, timeout=120, env=env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nserved from {result['package']}")
    served = result["served"]
    assert served["/widget.js"][0] == 200 and "window.ChatWidget" in served["/widget.js"][1]
    assert served["/vendor/socket.io.min.js"][0] == 200 and "Socket.IO v" in served["/vendor/socket.io.min.js"][1]
    assert served["/widget/demo"][0] == 200 and '<script src="/widget.js" async></script>' in served["/widget/demo"][1]


SHARED_HELPERS = ("h", "newClientId", "clockTime", "calendarDay", "dateTime")


def test_the_widget_and_the_console_share_one_copy_of_their_helpers():
    """h(), client ids and date formatting are defined once, in chatserver/static/shared.js, and both sides use it:
    the console's modules natively (through console-dom.js), the widget's sources through the bundle."""
    sources = sorted((ROOT / "chatserver" / "static").glob("*.js")) + sorted((WIDGET_DIR / "src").rglob("*.js"))
    defined = {name: [] for name in SHARED_HELPERS}
    for path in sources:
        for name in SHARED_HELPERS:
            if re.search(rf"\bfunction {name}\s*\(|\b(?:const|let|var) {name}\s*=", path.read_text()):
                defined[name].append(path.relative_to(ROOT).as_posix())
    assert defined == {name: ["chatserver/static/shared.js"] for name in SHARED_HELPERS}
    imports_shared = re.compile(r'from "(?:\./|(?:\.\./)+static/)shared\.js"')
    assert imports_shared.search((ROOT / "chatserver" / "static" / "console-dom.js").read_text())
    widget_importers = [p.name for p in (WIDGET_DIR / "src").rglob("*.js") if imports_shared.search(p.read_text())]
    assert {"ui.js", "outbox.js", "messages.js", "history.js"} <= set(widget_importers)
