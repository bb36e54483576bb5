"""CHAT_REDIS_URL and CHAT_REDIS_PREFIX: read and checked in config.py, Sentinel URLs in the format python-socketio
reads, one prefix for every key and channel, and a node that refuses to start on SQLite (`python run.py` exits
non-zero naming CHAT_DATABASE_URL). None of these needs Redis itself."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chatserver.cluster.names import RedisNames
from chatserver.cluster.node import ClusterMisconfigured, join
from chatserver.cluster.redis_client import parse_sentinel_url
from chatserver.config import Config, load_config

from support.server import ROOT, free_port


def test_without_a_redis_url_the_server_is_one_process():
    config, _ = load_config([], environ={})
    assert config.redis_url is None and config.redis_prefix == "chat"
    assert join(config) is None


def test_the_redis_settings_are_read_from_the_environment():
    config, _ = load_config([], environ={"CHAT_REDIS_URL": " rediss://:secret@redis.internal:6380/2 ",
                                         "CHAT_REDIS_PREFIX": "shop-eu.1"})
    assert config.redis_url == "rediss://:secret@redis.internal:6380/2" and config.redis_prefix == "shop-eu.1"


@pytest.mark.parametrize("variable, value", [("CHAT_REDIS_URL", "http://127.0.0.1:6379"),
                                             ("CHAT_REDIS_URL", "127.0.0.1:6379"),
                                             ("CHAT_REDIS_PREFIX", "two words"),
                                             ("CHAT_REDIS_PREFIX", "a:b"),
                                             ("CHAT_REDIS_PREFIX", "x" * 65)])
def test_a_bad_redis_setting_is_refused_by_name(variable, value):
    with pytest.raises(ValueError, match=variable):
        load_config([], environ={variable: value})


def test_every_name_carries_the_prefix():
    names = RedisNames("shop-eu")
    assert names.key("live", "agent", 7) == "shop-eu:live:agent:7"
    assert names.socketio_channel == "shop-eu:socketio" and names.relay_channel == "shop-eu:relay"


def test_a_sentinel_url_names_its_sentinels_database_and_service():
    sentinels, service, options = parse_sentinel_url("redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380/2/chat")
    assert sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26380)] and service == "chat"
    assert options == {"password": "s@cret", "db": 2}
    with pytest.raises(ValueError, match="service"):
        parse_sentinel_url("redis+sentinel://10.0.0.1:26379/0")


def test_a_cluster_node_on_sqlite_is_refused(tmp_path):
    with pytest.raises(ClusterMisconfigured, match="CHAT_DATABASE_URL"):
        join(Config(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0"))


def test_python_run_py_with_a_redis_url_on_sqlite_exits_non_zero_naming_the_database_setting(tmp_path):
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("CHAT_")},
                   "CHAT_REDIS_URL": "redis://127.0.0.1:6379/0", "CHAT_KB_ENCODER": "false"}
    process = subprocess.Popen([sys.executable, "run.py", "--port", str(free_port()), "--data-dir",
                                str(tmp_path / "data")], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"the node started on SQLite instead of refusing: {stdout[-500:]} {stderr[-500:]}")
    assert process.returncode != 0
    assert "CHAT_DATABASE_URL" in stderr and "SQLite" in stderr
    assert "Traceback" not in stderr                                # a message, not a crash
    assert "Support server running" not in stdout
    assert not (tmp_path / "data").exists()                         # refused before anything was created
