"""The machinery of ``benchmarks/adversarial.py``: how a case is set up, run and checked
(see that file's docstring for the checks)."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "benchmarks" / "results" / "adversarial.md"
TIMEOUT = 60
CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")
OWN_LINES = ("neardup", "Error:", "Usage:", "Try '", "at threshold", "ADV:")
ESC = "\x1b"
csv.field_size_limit(sys.maxsize)


@dataclasses.dataclass
class Result:
    code: int | str
    out: str
    err: str
    seconds: float


@dataclasses.dataclass
class Case:
    name: str
    desc: str
    setup: Callable[[Path], None]
    args: list[str]
    records: int | None = None  # records the case wrote (None: not checked)
    stdin: bytes | None = None
    expect: str | None = None  # "ok": must exit 0; "error": must not
    names: tuple[str, ...] = ()  # an error line must contain these
    check: Callable[[Path, Result], str | None] | None = None
    codes: tuple = (0, 1, 2)
    mutable: tuple[str, ...] = ()  # globs of files the command may change
    stdout_data: bool = False  # stdout carries records: control characters are data
    runner: Callable[[Path, Case], Result] | None = None


CASES: list[Case] = []


def case(name: str, desc: str, setup, args: list[str], **kw) -> None:
    CASES.append(Case(name, desc, setup, args, **kw))


# ------------------------------------------------------------------------ inputs

_VOCAB = (
    "market city council river harbour station school budget storm police museum garden "
    "railway festival hospital bridge election court farmer teacher fishing village winter "
    "summer minister report island theatre library factory airport mayor company workers "
    "union price energy water forest museum coast tourism football match season record"
)
WORDS = _VOCAB.split()


def text(i: int, n: int = 80) -> str:
    rnd = random.Random(i)
    return " ".join(rnd.choice(WORDS) for _ in range(n)) + "."


def docs(n: int, start: int = 0) -> list[dict]:
    return [{"id": f"d{i}", "text": text(i)} for i in range(start, start + n)]


def jl(*recs) -> bytes:
    enc = [r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode() for r in recs]
    return b"".join(line + b"\n" for line in enc)


def csv_bytes(rows: list[list[str]], newline: str = "\n") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode()


def parquet_bytes(columns: dict, schema=None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns, schema=schema), buf)
    return buf.getvalue()


def zst(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


def files(spec: dict) -> Callable[[Path], None]:
    """A setup writing ``{name: bytes | str | callable(path)}``, then running the
    steps listed under the key ``"!"``: ``neardup`` arguments, (arguments, stdin), or a
    function of the folder (a change made after the runs before it)."""

    def setup(tmp: Path) -> None:
        for name, data in spec.items():
            p = tmp / name
            if name == "!":
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            if callable(data):
                data(p)
            else:
                p.write_bytes(data.encode() if isinstance(data, str) else data)
        for step in spec.get("!", []):
            if callable(step):  # a later change to the files
                step(tmp)
                continue
            args, stdin = step if isinstance(step, tuple) else (step, None)
            if (res := neardup(tmp, args, stdin)).code != 0:
                raise RuntimeError(f"setup `neardup {' '.join(args)}` failed: {res.err[-300:]}")

    return setup


def mkdir(p: Path) -> None:
    p.mkdir(parents=True, exist_ok=True)


def link(target: str) -> Callable[[Path], None]:
    return lambda p: p.symlink_to(target)


# ---------------------------------------------------------------------- running


def start(tmp: Path, args: list[str], **kw) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmp.parent / "systmp"), PYTHONWARNINGS="ignore")
    env.pop("NEARDUP_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "neardup", *args], cwd=tmp, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # fmt: skip


def finish(p: subprocess.Popen, t0: float, stdin: bytes | None = None, note: str = "") -> Result:
    try:
        out, err = p.communicate(stdin, timeout=TIMEOUT)
        code: int | str = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        (out, err), code = p.communicate(), "timeout"
    dec = lambda b: b.decode("utf-8", "backslashreplace")  # noqa: E731
    return Result(code, dec(out), dec(err) + note, time.perf_counter() - t0)


def neardup(tmp: Path, args: list[str], stdin: bytes | None = None) -> Result:
    t0 = time.perf_counter()
    p = start(tmp, args, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE)
    return finish(p, t0, stdin)


def snapshot(tmp: Path) -> dict[str, str]:
    return {
        p.relative_to(tmp).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(tmp.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# ------------------------------------------------------------------------ checks


def count_records(path: Path, fmt: str | None = None) -> int | str | None:
    """Records in an output (jsonl / csv / parquet, compressed or not; a folder: its
    .txt files); a string says what is wrong with it; None: a format not counted."""
    if path.is_dir():
        return sum(1 for p in path.rglob("*.txt") if p.is_file())
    name = path.name.lower()
    for suffix, unpack in ((".gz", gzip.decompress), (".zst", unzstd)):
        if name.endswith(suffix):
            return count_bytes(unpack(path.read_bytes()), fmt or name[: -len(suffix)], path.name)
    return count_bytes(path, fmt or name, path.name)


def unzstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def count_bytes(data: bytes | Path, fmt: str, name: str) -> int | str | None:
    try:
        if fmt.endswith("parquet"):
            import pyarrow.parquet as pq

            src = data if isinstance(data, Path) else io.BytesIO(data)
            return pq.ParquetFile(src).metadata.num_rows
        data = data.read_bytes() if isinstance(data, Path) else data
        if fmt.endswith("csv"):
            return sum(1 for _ in csv.DictReader(io.StringIO(data.decode(), newline="")))
        if not fmt.endswith(("jsonl", "json")):
            return None
        lines = [x for x in data.splitlines() if x.strip()]
        bad = next((i for i, x in enumerate(lines, 1) if not isinstance(json.loads(x), dict)), 0)
        return f"{name}: record {bad} is no JSON object" if bad else len(lines)
    except Exception as exc:  # the output cannot be read back: a finding, not a crash
        return f"{name} unreadable as {fmt.rsplit('.', 1)[-1]} ({type(exc).__name__}: {exc})"[:160]


def opt(args: list[str], *names: str) -> str | None:
    return next((args[i + 1] for i, a in enumerate(args[:-1]) if a in names), None)


def summary_counts(err: str) -> dict | None:
    for keys in (("written", "rejected"), ("kept", "removed", "rejected")):
        pattern = r"read ([\d,]+) = " + r" \+ ".join(f"{k} ([\\d,]+)" for k in keys)
        if m := re.search(pattern, err):
            return dict(
                zip(("read", *keys), (int(g.replace(",", "")) for g in m.groups()), strict=True)
            )
    return None


def output_files(tmp: Path, c: Case) -> dict[str, tuple[str, str | None]]:
    """{counter: (output path, format)} for the outputs this command line names."""
    args, out, fmt = c.args, opt(c.args, "-o", "--output"), opt(c.args, "--output-format")
    found: dict = {"rejected": (opt(args, "--rejects"), "jsonl")}
    if args[0] == "clean":
        found["written"] = (out, fmt)
    elif args[0] == "dedup":
        found.update(kept=(out, fmt), removed=(opt(args, "--removed"), "jsonl"))
    elif args[0] == "run" and out:
        kept = [f"{out}/kept.{s}" for s in ("jsonl", "csv", "parquet")]
        found["kept"] = (next((k for k in kept if (tmp / k).exists()), kept[0]), None)
        found["removed"] = (f"{out}/removed.jsonl", None)
    return {k: v for k, v in found.items() if v[0]}


def check_counts(tmp: Path, c: Case, r: Result, before: dict) -> list[str]:
    fails, after, counts = [], snapshot(tmp), summary_counts(r.err)
    for rel in (x for x in after if x.endswith("stats.json") and after[x] != before.get(x)):
        try:
            s = json.loads((tmp / rel).read_text())["stats"]
        except (ValueError, KeyError, TypeError):
            fails.append(f"{rel} holds no stats")
            continue
        if "kept" in s and s["read"] != s["kept"] + s["removed"] + s["rejected"]:
            fails.append(f"{rel}: read {s['read']} != kept+removed+rejected")
        if counts and "kept" in counts and {k: s.get(k) for k in counts} != counts:
            fails.append(f"{rel} {[s.get(k) for k in counts]} != summary {list(counts.values())}")
        counts = counts or {k: s[k] for k in ("read", "kept", "removed", "rejected") if k in s}
    if not counts:
        return fails
    if counts["read"] != sum(v for k, v in counts.items() if k != "read"):
        fails.append(f"read {counts['read']} is not the sum of {counts}")
    if c.records is not None and counts["read"] != c.records:
        fails.append(f"input holds {c.records} records, read {counts['read']}")
    for key, (path, fmt) in output_files(tmp, c).items():
        if key not in counts or (path == "-" and not (c.stdout_data and key != "rejected")):
            continue
        if path == "-":
            csvish = "csv" in (opt(c.args, "--format") or "") or ".csv" in " ".join(c.args)
            n = count_bytes(r.out.encode(), "csv" if csvish else "jsonl", "stdout")
        elif not (tmp / path).exists():
            n = 0 if not counts[key] else f"{path} missing, {key} {counts[key]}"
        else:
            n = count_records(tmp / path, fmt)
        if isinstance(n, str) or (n is not None and n != counts[key]):
            fails.append(
                n if isinstance(n, str) else f"{path} holds {n} records, {key} {counts[key]}"
            )
    return fails


def error_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    return next((x for x in lines if x.startswith("Error:")), lines[-1] if lines else "")


def check_error(c: Case, r: Result) -> list[str]:
    lines = [x for x in r.err.splitlines() if x.strip() and not x.startswith("ADV:")]
    at = [i for i, x in enumerate(lines) if x.startswith("Error:")]
    if not at:
        return ["no error message" if not lines else "no 'Error:' line"]
    fails = [f"error message spans {len(lines) - at[0]} lines"] if at[0] != len(lines) - 1 else []
    fails += [f"error does not name {n!r}" for n in c.names if n not in lines[at[0]]]
    if re.search(r"\.part-\d+|\.tmp\b|/tmp/", lines[at[0]]):
        fails.append("error names a temporary file, not the user's path")
    return fails


def evaluate(tmp: Path, c: Case, r: Result, before: dict) -> list[str]:
    fails = ["traceback"] if "Traceback (most recent call last)" in r.out + r.err else []
    fails += ["internal error"] if "internal error" in r.err else []
    fails += [f"exit code {r.code}"] if r.code not in c.codes else []
    after = snapshot(tmp)
    for rel, digest in before.items():
        if not any(Path(rel).match(g) for g in c.mutable) and after.get(rel) != digest:
            fails.append(f"input {rel!r} {'changed' if rel in after else 'deleted'}")
    left = [p.name for p in (tmp.parent / "systmp").iterdir()]
    left += [p.relative_to(tmp).as_posix() for p in tmp.rglob(".*.part*")]
    fails += [f"temporary files left: {left[:3]}"] if left else []
    outside = [p.name for p in tmp.parent.iterdir() if p.name not in ("work", "systmp")]
    fails += [f"wrote outside its folder: {outside[:3]}"] if outside else []
    if r.code == 0:
        fails += check_counts(tmp, c, r, before)
        fails += ["accepted (exit 0), should be an error"] if c.expect == "error" else []
    elif r.code in (1, 2):
        fails += check_error(c, r)
        fails += ["refused, should succeed"] if c.expect == "ok" else []
    stray = [x for x in r.err.splitlines() if x.strip() and not x.startswith(OWN_LINES)]
    if stray and r.code in (0, 1, 2) and "Traceback" not in r.err:
        fails.append(f"stray stderr lines ({len(stray)}): {stray[0].strip()[:60]!r}")
    shown = r.err + ("" if c.stdout_data else r.out.replace("\r\n", "\n"))
    if bad := sorted({f"\\x{ord(ch):02x}" for ch in CONTROL.findall(shown)}):
        fails.append(f"raw control characters on the terminal: {' '.join(bad)}")
    if c.check is not None and (extra := c.check(tmp, r)):
        fails.append(extra)
    return fails


def run_case(c: Case) -> tuple[Result, list[str]]:
    with tempfile.TemporaryDirectory(prefix="adv-") as name:
        tmp = Path(name) / "work"
        tmp.mkdir()
        (tmp.parent / "systmp").mkdir()
        c.setup(tmp)
        for left in (tmp.parent / "systmp").iterdir():  # of setup runs, not of this case
            left.unlink() if left.is_file() else None
        before = snapshot(tmp)
        r = (c.runner or (lambda t, cc: neardup(t, cc.args, cc.stdin)))(tmp, c)
        return r, evaluate(tmp, c, r, before)


# ----------------------------------------------------------------- case checks


def left(path: str) -> Callable:
    """A failed run leaves no ``path``."""
    return lambda t, r: f"{path} left by a failed run" if r.code and (t / path).exists() else None


def made(path: str) -> Callable:
    return lambda t, r: f"{path} not written" if r.code == 0 and not (t / path).exists() else None


def absent(path: str) -> Callable:
    return lambda t, r: f"{path} written" if (t / path).exists() else None


def holds(path: str, n: int) -> Callable:
    """With exit 0, ``path`` holds ``n`` records."""

    def check(t: Path, r: Result) -> str | None:
        got = count_records(t / path) if (t / path).exists() else "missing"
        return None if r.code or got == n else f"{path} holds {got} records, expected {n}"

    return check


def within(seconds: float) -> Callable:
    return lambda t, r: None if r.seconds < seconds else f"took {r.seconds:.1f} s (> {seconds:g} s)"


def says(pattern: str, what: str) -> Callable:
    """On exit 0, stderr + stdout match ``pattern`` (else: ``what``)."""
    return lambda t, r: what if r.code == 0 and not re.search(pattern, r.err + r.out) else None


def parquet_has(path: str, column: str, row: int) -> Callable:
    def check(t: Path, r: Result) -> str | None:
        import pyarrow.parquet as pq

        rows = pq.read_table(t / path).to_pylist() if r.code == 0 else []
        lost = r.code == 0 and (len(rows) <= row or rows[row].get(column) is None)
        return f"field {column!r} of record {row + 1} lost in {path}" if lost else None

    return check


def index_unchanged(t: Path, r: Result) -> str | None:
    """The index a signal interrupted still opens, without the interrupted batch."""
    info = neardup(t, ["index", "info", "seen.ndx", "--json"])
    if info.code != 0:
        return f"index unreadable after the signal: {error_line(info.err)[:80]}"
    got = json.loads(info.out)
    return None if got.get("documents") == 0 else f"index holds {got.get('documents')} documents"


def same_as_j1(t: Path, r: Result) -> str | None:
    """The -j 2 run's outputs equal those of the same run with -j 1, byte for byte."""
    args = ["run", "mix.jsonl", "-o", "out1/", "-j", "1", "--rejects", "rej1.jsonl", "-q"]
    if r.code or neardup(t, args).code:
        return None
    names = ("kept.jsonl", "removed.jsonl", "clusters.jsonl", "repairs.jsonl")
    diff = [n for n in names if (t / "out" / n).read_bytes() != (t / "out1" / n).read_bytes()]
    return f"-j 2 and -j 1 differ in {diff}" if diff else None


# ---------------------------------------------------------------- custom runners


def sigint_runner(tmp: Path, c: Case) -> Result:
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group, 1.0-1.6 s in (up
    to four tries, until one goes wrong); a process left in the group is an orphan."""
    for delay in (1.0, 1.2, 1.4, 1.6):
        shutil.rmtree(tmp / "out", ignore_errors=True)
        t0 = time.perf_counter()
        p = start(tmp, c.args, stdin=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        os.killpg(p.pid, signal.SIGINT)
        r = finish(p, t0)
        time.sleep(0.5)
        try:
            os.killpg(p.pid, 0)
            os.killpg(p.pid, signal.SIGKILL)  # the group of the process this harness started
            r.err += "\nADV: worker processes still alive after the main process exited"
        except ProcessLookupError:
            pass
        r.err += f"\nADV: SIGINT after {delay} s"
        if r.code != 130 or "ADV: worker" in r.err:
            break
    return r


def concurrent_runner(tmp: Path, c: Case) -> Result:
    """Two runs into one folder at once: this case's and one over b.jsonl."""
    t0 = time.perf_counter()
    procs = [
        start(tmp, a, stdin=subprocess.DEVNULL)
        for a in (c.args, ["run", "b.jsonl", "-o", "out/", "-q"])
    ]
    rs = [finish(p, t0) for p in procs]
    code = next((r.code for r in rs if r.code != 0), 0)
    return Result(code, "", "".join(r.err for r in rs), time.perf_counter() - t0)


def consistent_run_folder(t: Path, r: Result) -> str | None:
    """The folder's files come from one run: stats.json's kept = kept.jsonl's records,
    all from the input whose size stats.json's read gives."""
    stats = json.loads((t / "out/stats.json").read_text())["stats"]
    kept = [json.loads(x) for x in (t / "out/kept.jsonl").read_text().splitlines() if x]
    prefixes = {k["id"][0] for k in kept}
    if stats["kept"] != len(kept) or prefixes != {"a" if stats["read"] == 3000 else "b"}:
        return f"stats.json kept {stats['kept']}, kept.jsonl {len(kept)} records from {prefixes}"
    return None
