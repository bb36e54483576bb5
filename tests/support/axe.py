"""axe-core (the npm package pinned in tests/a11y/package.json) injected by Playwright into a page: the serious and
critical accessibility violations it finds there, shadow roots (the widget) included."""
from __future__ import annotations

import shutil
import subprocess

from .server import ROOT
from .services import unavailable

A11Y = ROOT / "tests" / "a11y"
AXE = A11Y / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")


def axe_source() -> str:
    """axe-core's browser build, installed with `npm ci` in tests/a11y on first use (exactly the locked version)."""
    if not AXE.is_file() and shutil.which("npm"):
        subprocess.run(["npm", "ci"], cwd=A11Y, timeout=300, capture_output=True)
    if not AXE.is_file():
        unavailable("axe-core is not installed: run `npm ci` in tests/a11y (needs node and npm; .ci/run installs them)")
    return AXE.read_text()


async def violations(page, name: str) -> list[str]:
    """Every violation of impact serious or critical on the page as it is now, one line each, named `name`."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    found = await page.evaluate("""async () => {
        const result = await axe.run(document, { resultTypes: ["violations"] });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => [n.target.join(" >>> "), n.failureSummary.split("\\n").slice(1).join(" ")]) }));
    }""")
    return [f"{name}: {v['impact']} {v['id']} ({v['help']}): {target}: {summary}"
            for v in found if v["impact"] in FAILING_IMPACTS for target, summary in v["nodes"]]
