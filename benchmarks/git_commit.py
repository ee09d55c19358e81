"""The path-limited commit of the background benchmark scripts (shared by ``v3_*.py``).

Several scripts commit into the checkout others work in, so each commits only its own paths
and waits while another git process holds the index.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commit(message: str, paths, tries: int = 60) -> None:
    """``git add`` and commit only ``paths``; retry while ``.git/index.lock`` exists."""
    paths = [str(p) for p in paths]
    for _ in range(tries):
        add = subprocess.run(["git", "add", *paths], cwd=ROOT, capture_output=True, text=True)
        if add.returncode == 0:
            done = subprocess.run(["git", "commit", "-q", "-m", message, "--", *paths], cwd=ROOT,
                                  capture_output=True, text=True)
            if done.returncode == 0 or "nothing" in done.stdout + done.stderr:
                return
        if not (ROOT / ".git" / "index.lock").exists():
            print(f"commit failed: {add.stderr}", file=sys.stderr, flush=True)
            return
        time.sleep(2)
    print("commit gave up: .git/index.lock stayed", file=sys.stderr, flush=True)
