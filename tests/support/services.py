"""What a test does when a service or tool it needs is missing: skip, saying how to get it, on a developer's
machine; fail under CI=true, where every service runs and a skip would hide a failure."""
from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run this test, but " + reason)
    pytest.skip(reason)
