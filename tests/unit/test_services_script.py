"""`scripts/services.sh` on a machine without PostgreSQL and Redis: it says exactly what
to install (or installs them as root with apt-get) and never fails the test command
(issue 15 item 13)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASICS = ("bash", "dirname", "id", "ls", "head", "seq", "sleep", "printf", "grep", "mkdir")


def test_without_the_servers_or_apt_it_names_what_to_install(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASICS:
        found = shutil.which(tool)
        if found:
            os.symlink(found, bin_dir / tool)
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "services.sh")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    assert "postgresql redis-server missing" in out.stderr
    assert "apt-get install postgresql redis-server" in out.stderr
