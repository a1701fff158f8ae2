from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))  # the dev-set builders live there


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "seed").is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (it sits beside the checkout in CI)")
    return SHARED_DATA
