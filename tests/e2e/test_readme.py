"""The README's commands run as written: its shell block on the real services, line by line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def real_services_block() -> str:
    """The ```sh block of the README's "Running it on real services" section."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running it on real services", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_real_services_block_runs_as_written(service_env, tmp_path: Path):
    block = real_services_block()
    # The block's own two exports point at the shared vhost and database; this test has its own.
    lines = [line for line in block.splitlines() if not line.startswith("export ")]
    assert len(lines) < len(block.splitlines()), "the block no longer names its services"
    script = "\n".join(
        [
            "set -euo pipefail",
            "trap 'kill -TERM $(jobs -p) 2>/dev/null; wait' EXIT",
            *lines,
        ]
    )
    env = {
        **service_env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{service_env.get('PATH', os.environ['PATH'])}",
    }

    ran = subprocess.run(
        ["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )

    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert '"status": "healthy"' in ran.stdout
    assert "3 messages confirmed" in ran.stdout
    assert "healthy" in ran.stdout.splitlines()[-1]  # the last line: bookjobs health --worker
    assert "Traceback" not in ran.stderr
