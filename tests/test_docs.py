"""The docs are part of the feature: docs/protocol.md and README.md must agree with the code."""
from __future__ import annotations

import inspect
import re

from chatserver.config import ENV_SETTINGS
from chatserver.namespaces.agent import AgentNamespace
from chatserver.namespaces.visitor import VisitorNamespace

from conftest import ROOT

PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
README = (ROOT / "README.md").read_text()
SOURCES = {p: p.read_text() for p in (ROOT / "chatserver").rglob("*.py")}


def section(title: str) -> str:
    start = PROTOCOL.index(title)
    following = PROTOCOL.find("\n## ", start + len(title))
    return PROTOCOL[start: following if following != -1 else None]


def handled_events(namespace_class) -> set[str]:
    return {name[3:] for name, _ in inspect.getmembers(namespace_class, inspect.isfunction)
            if name.startswith("on_") and name not in ("on_connect", "on_disconnect")}


def test_every_visitor_event_is_documented_in_its_namespace_section():
    doc = section("## Namespace `/visitor`")
    missing = [e for e in sorted(handled_events(VisitorNamespace)) if f"| `{e}` |" not in doc]
    assert not missing, f"visitor events missing from docs/protocol.md: {missing}"


def test_every_agent_event_is_documented_in_its_namespace_section():
    doc = section("## Namespace `/agent`")
    missing = [e for e in sorted(handled_events(AgentNamespace)) if f"| `{e}` |" not in doc]
    assert not missing, f"agent events missing from docs/protocol.md: {missing}"


def test_every_event_the_server_emits_is_documented():
    emitted = set()
    for source in SOURCES.values():
        emitted |= set(re.findall(r"\.emit\(\s*\"([a-z_]+)\"", source))
    assert emitted, "found no emits: the pattern is out of date"
    missing = [e for e in sorted(emitted) if f"| `{e}` |" not in PROTOCOL]
    assert not missing, f"server events missing from docs/protocol.md: {missing}"


def test_every_error_code_is_in_the_error_table():
    codes = set()
    for source in SOURCES.values():
        codes |= set(re.findall(r"code=\"([a-z_]+)\"", source))
        codes |= set(re.findall(r"^\s+code = \"([a-z_]+)\"", source, re.MULTILINE))
        codes |= set(re.findall(r"\"error\": \"([a-z_]+)\"", source))
        codes |= set(re.findall(r"refusal\(\"([a-z_]+)\"", source))
    assert {"invalid_payload", "rate_limited", "not_found", "unauthorized", "server_error"} <= codes
    table = section("## Error codes")
    missing = [c for c in sorted(codes) if f"| `{c}` |" not in table]
    assert not missing, f"error codes missing from the table in docs/protocol.md: {missing}"


def test_every_setting_is_in_the_readme_and_every_readme_setting_exists():
    documented = set(re.findall(r"\| `(CHAT_[A-Z_]+)` \|", README))
    in_code = {env for env, _ in ENV_SETTINGS.values()}
    for source in SOURCES.values():
        in_code |= set(re.findall(r"\"(CHAT_[A-Z_]+)\"", source))
    assert in_code - documented == set(), f"settings missing from README: {sorted(in_code - documented)}"
    assert documented - in_code == set(), f"README documents unknown settings: {sorted(documented - in_code)}"


def test_readme_opens_with_the_two_commands():
    blocks = re.findall(r"```sh\n(.+?)\n```", README, re.DOTALL)
    assert blocks[:2] == ["pip install -e . && python run.py", "pip install -e '.[test]' && python -m pytest"]
    assert "pip install -e '.[test]' && python -m pytest" in (ROOT / ".ci" / "run").read_text()
