"""The shared helpers: the correct Prometheus escaping, secrets, the delay formula, the client."""

from __future__ import annotations

import random
import ssl

import pytest

from common.backoff import doubling_delay, jittered_delay
from common.mqtt_client import make_client, parse_broker_url
from common.prometheus import format_value, label_key, render_family, render_text
from common.secrets import SecretError, resolve_secret


def test_label_values_are_escaped_as_the_format_requires():
    lines = render_family("x_total", "counter", "help", [(label_key({"a": 'q"\\\nz'}), 2.0)])
    assert lines == ["# HELP x_total help", "# TYPE x_total counter", 'x_total{a="q\\"\\\\\\nz"} 2']


def test_values_and_empty_exposition():
    assert [format_value(v) for v in (3.0, 0.25, float("inf"), float("nan"))] == ["3", "0.25", "+Inf", "NaN"]
    assert render_text([]) == ""


def test_secret_from_env_then_file(tmp_path):
    (tmp_path / "pw").write_text("s3cret\n", encoding="utf-8")
    assert resolve_secret("PW", None, environ={"PW": "e"}) == "e"
    assert resolve_secret(None, "pw", base_dir=tmp_path) == "s3cret"
    assert resolve_secret(None, None) is None
    with pytest.raises(SecretError) as err:
        resolve_secret("PW", None, environ={}, what="broker.password")
    assert err.value.source == "env" and str(err.value).startswith("broker.password_env: ")
    with pytest.raises(SecretError) as err:
        resolve_secret(None, "missing", base_dir=tmp_path)
    assert err.value.source == "file"


def test_delays_double_up_to_the_cap():
    assert [doubling_delay(n, 1.0, 10.0) for n in (1, 2, 3, 4, 5, 100)] == [1, 2, 4, 8, 10, 10]
    rng = random.Random(3)
    assert all(1.0 <= jittered_delay(4, 1.0, 60.0, rng) <= 8.0 for _ in range(100))


def test_broker_url_and_client():
    u = parse_broker_url("mqtts://us%40r:p@h", schemes=("mqtt", "mqtts", "ssl"))
    assert (u.host, u.port, u.tls, u.username, u.password) == ("h", 8883, True, "us@r", "p")
    with pytest.raises(ValueError):
        parse_broker_url("http://h")
    client = make_client("c1", tls=True, username="u", password="p", reconnect_delay=(1, 30))
    assert client._client_id == b"c1" and client._ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_stop_process_kills_a_child_that_ignores_sigterm():
    import subprocess
    import sys
    import time

    from common.processes import stop_process

    stubborn = subprocess.Popen([sys.executable, "-c",
                                 "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
                                 "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE)
    assert stubborn.stdout.readline().strip() == b"ready"
    started = time.monotonic()
    stop_process(stubborn, grace_s=0.3)
    assert stubborn.returncode is not None and stubborn.returncode < 0
    assert time.monotonic() - started < 5
    stubborn.stdout.close()
    stop_process(stubborn)            # a process already reaped is left alone
