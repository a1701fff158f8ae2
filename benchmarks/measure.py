"""Run a command and measure its wall time and the peak RSS of its whole process tree
(the main process plus worker processes, sampled every 50 ms from /proc)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stderr: str


def _tree_rss_kb(root: int) -> int:
    """Sum of VmRSS over ``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                ppid = kb = 0
                for line in f:
                    if line.startswith("PPid:"):
                        ppid = int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        kb = int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        pid = int(entry)
        rss[pid] = kb
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(
    cmd: list[str],
    env: dict | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
) -> Measurement:
    """Run ``cmd`` (stdout discarded, stderr kept in a temporary file, so a chatty tool
    cannot block on a full pipe); past ``timeout`` seconds its whole process group is
    killed and the returncode is -9."""
    import signal
    import tempfile

    start = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=cwd,
            text=True,
            start_new_session=True,
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            if timeout is not None and time.perf_counter() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()[-20000:]
    return Measurement(seconds, peak / 1024, proc.returncode, stderr)


def run_neardup(*args: str) -> Measurement:
    """``python -m neardup ARGS...`` measured; stops the benchmark if it fails."""
    import sys

    cmd = [sys.executable, "-m", "neardup", *args]
    m = run(cmd)
    if m.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{m.stderr}")
    return m


def write_results(path, rows: list[dict]) -> None:
    """Raw numbers as JSON with the date and the machine."""
    import json
    import platform
    from datetime import date
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
