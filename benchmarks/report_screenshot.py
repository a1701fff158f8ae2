"""The README's picture of the HTML report: `neardup run` on the BBC News set in
../shared/data, then headless Chromium (Debian's `chromium`) takes a screenshot of the
top of OUT/report.html (summary, histograms, what-if; the cluster sections with article
text stay folded, so the picture holds counts and file ids only).

    python benchmarks/report_screenshot.py [--out docs/report-bbc.png]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from articles import SHARED_DATA  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE.parent / "docs" / "report-bbc.png")
    args = ap.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bbcout"
        subprocess.run(
            [sys.executable, "-m", "neardup", "run", str(SHARED_DATA / "bbc-news" / "bbc"),
             "-o", str(out), "--rejects", str(Path(tmp) / "rejects.jsonl"), "-q"],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             f"--user-data-dir={Path(tmp) / 'profile'}", "--window-size=1200,1700",
             "--hide-scrollbars", f"--screenshot={args.out.resolve()}",
             (out / "report.html").as_uri()],
            check=True,
            capture_output=True,
        )  # fmt: skip
    print(args.out)


if __name__ == "__main__":
    main()
