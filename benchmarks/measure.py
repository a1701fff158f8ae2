"""Run a command and measure its wall time and the peak memory of its whole process tree
(the main process plus worker processes, sampled every 50 ms from /proc): the sum of
their RSS, and the sum of their PSS (proportional set size: a page that forked workers
share with their parent counts once in all, not once in each; the physical memory the
run takes)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: float  # the sum of the processes' RSS: counts shared pages once a process
    returncode: int
    stderr: str
    peak_pss_mb: float = 0.0  # the sum of their PSS: shared pages split among their users


def _tree_rss_kb(root: int, pss: bool = True) -> tuple[int, int]:
    """Sums of VmRSS and (with ``pss``) of PSS over ``root`` and its descendants."""
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
    total, pss_total, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        pss_total += _pss_kb(pid) if pss else 0
        stack.extend(children.get(pid, []))
    return total, pss_total


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


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
        peak = peak_pss = samples = 0
        while proc.poll() is None:
            # PSS once a second (reading it walks the page tables: it costs more)
            rss, pss = _tree_rss_kb(proc.pid, pss=samples % 20 == 0)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            samples += 1
            if timeout is not None and time.perf_counter() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()[-20000:]
    return Measurement(seconds, peak / 1024, proc.returncode, stderr, peak_pss / 1024)


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
