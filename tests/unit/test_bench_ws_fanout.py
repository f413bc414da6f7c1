"""`benchmarks/ws_fanout.py` measures its own server only (issue 15 item 12: it once
printed the bind error and went on registering users on whatever listened there)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from benchmarks.ws_fanout import free_port, port_is_free

ROOT = Path(__file__).resolve().parents[2]


def test_a_port_in_use_stops_the_benchmark_before_anything_runs() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_is_free(port)
        out = subprocess.run(
            [sys.executable, "benchmarks/ws_fanout.py", "--port", str(port), "--seconds", "1"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 1 and f"port {port} is in use" in out.stderr


def test_the_default_is_a_free_port() -> None:
    port = free_port()
    assert port > 0 and port_is_free(port)
