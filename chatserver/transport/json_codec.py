"""orjson behind the `json` module interface python-socketio and python-engineio expect (dumps returns str)."""
from __future__ import annotations

import orjson


def dumps(obj, **kwargs) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def loads(text, **kwargs):
    return orjson.loads(text)


JSONDecodeError = orjson.JSONDecodeError
