"""Debian's Chromium for page tests: its flags, screenshots, and small page helpers."""
from __future__ import annotations

from .server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "screenshots"


def screenshot_path(name: str) -> str:
    """Where tests save screenshots of the main states (see README: screenshots/)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


def record_page_problems(page) -> list[str]:
    """Collect a page's script errors and console errors, so a test can assert the page had none."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def sign_in(page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Fill and send the login form the page is on."""
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
