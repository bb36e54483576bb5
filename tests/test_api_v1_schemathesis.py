"""schemathesis against the live server (a real `python run.py` process) with an admin-scoped API token: a bounded
number of generated requests per operation of /api/v1/openapi.json; no answer may be a 5xx, and every answer must
match the document (status code, content type, headers, body schema)."""
from __future__ import annotations

import asyncio
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)

from support.admin_client import AdminClient
from support.api_tokens import make_token
from support.process import ServerProcess
from support.server import FIXTURE_KB, Recorder, free_port

EXAMPLES = 12       # per operation: 16 operations, about 200 requests
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


class Seeded:
    url = ""
    token = ""
    process: ServerProcess | None = None


async def _seed(process: ServerProcess) -> str:
    """Some data to read (a conversation with messages, a closed one) and the admin token, made on the page."""
    for n in range(2):
        visitor = Recorder("/visitor")
        await visitor.connect(process.url, auth={})
        await visitor.wait_for("session")
        assert (await visitor.call("message", {"client_id": f"m{n}", "text": "where is my order?"}))["ok"]
        if n == 0:
            assert (await visitor.call("close", {}))["ok"]
        await visitor.disconnect()
    admin = await AdminClient.login(process)
    try:
        return await make_token(admin, "schemathesis", "admin")
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    root = tmp_path_factory.mktemp("schemathesis")
    kb = root / "kb"
    shutil.copytree(FIXTURE_KB, kb)        # the API edits articles: never the repository's fixtures
    process = ServerProcess(root / "data", free_port(), env={"CHAT_KB_DIR": str(kb), "CHAT_KB_ENCODER": "false",
                                                            "CHAT_API_RATE_LIMIT_PER_MINUTE": "100000"})
    asyncio.run(process.start())
    Seeded.process, Seeded.url = process, process.url
    Seeded.token = asyncio.run(_seed(process))
    yield Seeded
    process.stop()


@pytest.fixture(scope="module")
def api_schema(live_api):
    return schemathesis.openapi.from_url(live_api.url + "/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_answer_matches_the_document(case, live_api):
    case.call_and_validate(base_url=live_api.url + "/api/v1", headers={"Authorization": f"Bearer {live_api.token}"},
                           checks=CHECKS, timeout=30)

