"""The docs are part of the feature: docs/protocol.md and README.md must agree with the code."""
from __future__ import annotations

import inspect
import re

from chatserver.config import ENV_SETTINGS
from chatserver.namespaces.agent import AgentNamespace
from chatserver.namespaces.visitor import VisitorNamespace

from support.protocol import CONNECT_CODES, ERROR_CODES, PROTOCOL, section
from support.server import ROOT

README = (ROOT / "README.md").read_text()
SOURCES = {p: p.read_text() for p in (ROOT / "chatserver").rglob("*.py")}


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


def codes_in_the_code() -> tuple[set[str], set[str]]:
    """(every error code the server can answer, the codes connects are refused with), from the source: the `code`
    attributes of the error classes, code="..." arguments, "error": "..." literals and refusal("...") calls."""
    codes, refusals = set(), set()
    for source in SOURCES.values():
        codes |= set(re.findall(r"code=\"([a-z_]+)\"", source))
        codes |= set(re.findall(r"^\s+code = \"([a-z_]+)\"", source, re.MULTILINE))
        codes |= set(re.findall(r"\"error\": \"([a-z_]+)\"", source))
        refusals |= set(re.findall(r"refusal\(\"([a-z_]+)\"", source))
    return codes | refusals, refusals


def test_every_error_code_is_in_the_error_table():
    codes, _ = codes_in_the_code()
    assert {"invalid_payload", "rate_limited", "not_found", "unauthorized", "server_error"} <= codes
    table = section("## Error codes")
    missing = [c for c in sorted(codes) if f"| `{c}` |" not in table]
    assert not missing, f"error codes missing from the table in docs/protocol.md: {missing}"


def test_every_code_in_the_error_table_is_one_the_server_answers():
    codes, _ = codes_in_the_code()
    unused = sorted(set(ERROR_CODES) - codes)
    assert not unused, f"docs/protocol.md documents error codes the server never answers: {unused}"


def test_the_error_table_names_exactly_the_codes_connects_are_refused_with():
    _, refusals = codes_in_the_code()
    assert refusals, "found no refusals: the pattern is out of date"
    assert CONNECT_CODES == refusals, (f"marked 'connect' in docs/protocol.md: {sorted(CONNECT_CODES)}; "
                                       f"refused in the code: {sorted(refusals)}")


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
