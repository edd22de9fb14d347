"""Run the real ``ifkg`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_ifkg(root: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("IFKG_HOME", "IFKG_BASE")}
    full_env["IFKG_HOME"] = str(root)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "ifkg.cli", *args], cwd=root, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
