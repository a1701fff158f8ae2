"""Inputs and outputs as URIs (``memory://``, ``file://``; ``s3://`` and ``gs://`` take the
same path through fsspec): read as the same file read locally, folder prefixes and
patterns, run folders uploaded with their marker last, nothing uploaded by a failed
run, and a one-line error for a missing package."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import zstandard

fsspec = pytest.importorskip("fsspec")

from neardup.cli import main  # noqa: E402
from neardup.dedup import run_dedup  # noqa: E402
from neardup.io import read_documents  # noqa: E402
from neardup.io.remote import expand_inputs  # noqa: E402
from test_dedup import _corpus  # noqa: E402

# what carries timings or the run's own paths differs from run to run
TIMED = ("stats.json", "report.html")


@pytest.fixture
def mem():
    """fsspec's in-process file system, under a root of this test's own (its store is
    shared by the process); ``url(name)`` is the URI of a name under the root."""
    fs = fsspec.filesystem("memory")
    root = f"/t{uuid.uuid4().hex[:10]}"

    class Mem:
        def url(self, name: str = "") -> str:
            return f"memory:/{root}/{name}"

        def put(self, name: str, data: bytes) -> str:
            fs.pipe(f"{root}/{name}", data)
            return self.url(name)

        def files(self, folder: str = "") -> dict[str, bytes]:
            base = f"{root}/{folder}".rstrip("/")
            return {p[len(base) + 1 :]: fs.cat(p) for p in fs.find(base)}

    yield Mem()
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture(autouse=True)
def staging(tmp_path, monkeypatch) -> Path:
    """The staging folder's parent (TMPDIR): every test checks nothing is left in it."""
    tmp = tmp_path / "staging"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    yield tmp
    assert not [p for p in tmp.iterdir() if p.name.startswith("neardup-")]


def _docs() -> list[dict]:
    texts = _corpus(5, 40, 3)
    docs = [{"id": f"d{i}", "text": t, "n": i} for i, t in enumerate(texts)]
    return docs + [{"id": "copy", "text": docs[0]["text"]}]


def _jsonl(docs: list[dict]) -> bytes:
    return "".join(json.dumps(d) + "\n" for d in docs).encode()


def _compress(data: bytes, suffix: str) -> bytes:
    if suffix.endswith(".zst"):
        return zstandard.ZstdCompressor().compress(data)
    if suffix.endswith(".gz"):
        return gzip.compress(data)
    return data


def _invoke(runner, args: list[str]):
    return runner.invoke(main, args, catch_exceptions=False)


def _dedup(inputs: list[str], out: Path) -> tuple[bytes, list[str]]:
    stats = run_dedup(inputs, kept=str(out / "kept.jsonl"), removed=str(out / "removed.jsonl"))
    assert stats.removed > 0 and stats.kept > 0
    removed = [json.loads(x) for x in (out / "removed.jsonl").read_text().splitlines()]
    return (out / "kept.jsonl").read_bytes(), [(r["id"], r["duplicate_of"]) for r in removed]


# ------------------------------------------------------------------------------ inputs


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst", ".jsonl.gz"])
def test_memory_input_reads_as_the_local_file(mem, tmp_path, suffix) -> None:
    data = _compress(_jsonl(_docs()), suffix)
    local = tmp_path / f"in{suffix}"
    local.write_bytes(data)
    uri = mem.put(f"crawl/in{suffix}", data)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert _dedup([str(local)], tmp_path / "a") == _dedup([uri], tmp_path / "b")


def test_file_uri_input_and_parquet_from_memory(mem, tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    docs = _docs()
    local = tmp_path / "in.jsonl.gz"
    local.write_bytes(gzip.compress(_jsonl(docs)))
    for d in ("a", "b", "c"):
        (tmp_path / d).mkdir()
    expected = _dedup([str(local)], tmp_path / "a")
    assert _dedup([local.as_uri()], tmp_path / "b") == expected  # file:///...
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist([{"id": d["id"], "text": d["text"]} for d in docs]), sink)
    uri = mem.put("in.parquet", sink.getvalue().to_pybytes())
    got = [(d.id, d.text, d.line) for d in read_documents(uri)]
    assert got == [(d["id"], d["text"], i) for i, d in enumerate(docs, start=1)]


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc", "in.csv.zst", "in.txt.gz"])
def test_other_formats_from_memory_read_as_local(mem, tmp_path, name) -> None:
    """WARC (warcio over the streamed bytes), CSV and text: the same records, skips and
    offsets as the local file, named by the URI."""
    if "warc" in name:
        pytest.importorskip("warcio")
        from test_web import _warc

        local, _ = _warc(tmp_path, name)
    else:
        local = tmp_path / name
        docs = _docs()[:5]
        body = "id,text\n" + "".join(f"{d['id']},{d['text']}\n" for d in docs)
        data = body.encode() if "csv" in name else docs[0]["text"].encode()
        local.write_bytes(_compress(data, name))
    uri = mem.put(name, local.read_bytes())

    def seen(path: str) -> list[tuple]:
        out = []
        for item in read_documents(path):
            record = {  # the file's name (and a text file's id, its name) aside
                k: v for k, v in getattr(item, "record", {}).items() if v != path
            }
            out.append((type(item).__name__, item.line, getattr(item, "reason", ""),
                        getattr(item, "text", ""), getattr(item, "raw", b""), record,
                        item.path == path))  # fmt: skip
        return out

    got = seen(uri)
    assert got == seen(str(local)) and len(got) >= 1
    if "warc" in name:
        assert len(got) == 9 and sum(1 for g in got if g[0] == "Document") == 4


def test_reject_names_the_uri_and_line(mem, runner, tmp_path) -> None:
    data = _jsonl(_docs()[:2]) + b'{"id": "bad", "text": \n' + _jsonl(_docs()[2:4])
    uri = mem.put("crawl/bad.jsonl.zst", zstandard.ZstdCompressor().compress(data))
    res = runner.invoke(main, ["dedup", uri, "-o", str(tmp_path / "kept.jsonl")])
    assert res.exit_code == 1
    assert f"{uri}:3: malformed JSON" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "kept.jsonl").exists()
    rejects = tmp_path / "rejects.jsonl"
    res = _invoke(runner, ["dedup", uri, "-o", str(tmp_path / "kept.jsonl"), "--rejects",
                           str(rejects), "-q"])  # fmt: skip
    assert res.exit_code == 0
    [reject] = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert (reject["file"], reject["line"]) == (uri, 3)
    assert len((tmp_path / "kept.jsonl").read_text().splitlines()) == 4


def test_folder_prefix_and_pattern(mem, tmp_path) -> None:
    docs = _docs()
    half = len(docs) // 2
    a = mem.put("crawl/2024/a.jsonl.zst", zstandard.ZstdCompressor().compress(_jsonl(docs[:half])))
    b = mem.put("crawl/b.jsonl.gz", gzip.compress(_jsonl(docs[half:])))
    mem.put("crawl/_SUCCESS", b"")  # not a name neardup reads
    mem.put("crawl/.b.jsonl.part-1", b"garbage")  # hidden: a writer's unfinished file
    assert list(expand_inputs([mem.url("crawl/")])) == [a, b]
    assert list(expand_inputs([mem.url("crawl")])) == [a, b]  # no slash: asked, a folder
    assert list(expand_inputs([mem.url("crawl/*.gz")])) == [b]
    assert list(expand_inputs([mem.url("crawl/**/*.zst")])) == [a]
    plain = ["x.jsonl", "-"]
    assert expand_inputs(plain) is plain  # no URI: untouched
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    assert _dedup([mem.url("crawl/")], tmp_path / "a") == _dedup([a, b], tmp_path / "b")
    with pytest.raises(Exception, match="no file matches this pattern"):
        expand_inputs([mem.url("crawl/*.csv")])
    mem.put("empty/notes.md", b"x")
    with pytest.raises(Exception, match="no file under this prefix has a name neardup reads"):
        expand_inputs([mem.url("empty/")])


def test_uri_input_is_streamed_in_blocks(mem, monkeypatch) -> None:
    """A 3 MiB file is read in reads of at most 1 MiB, never whole."""
    import neardup.io.remote as remote

    docs = [{"id": str(i), "text": f"document {i} " + "word " * 250} for i in range(3000)]
    data = _jsonl(docs)
    assert len(data) > 3 << 20
    uri = mem.put("big.jsonl", data)
    sizes: list[int] = []
    opened = remote.open_uri

    def spy(u: str):
        f = opened(u)
        read = f.read

        def counted(n=-1):
            sizes.append(n)
            return read(n)

        f.read = counted
        return f

    monkeypatch.setattr(remote, "open_uri", spy)
    assert sum(1 for _ in read_documents(uri)) == 3000
    assert len(sizes) > 3 and all(0 < n <= 1 << 20 for n in sizes)


def test_resume_from_workdir_sees_a_changed_uri(mem, tmp_path) -> None:
    uri = mem.put("in.jsonl", _jsonl(_docs()))
    work = tmp_path / "work"
    kept = str(tmp_path / "kept.jsonl")
    assert not run_dedup([uri], kept=kept, workdir=str(work)).resumed
    assert run_dedup([uri], kept=kept, workdir=str(work)).resumed
    mem.put("in.jsonl", _jsonl(_docs()[:-1]))
    stats = run_dedup([uri], kept=kept, workdir=str(work))
    assert not stats.resumed and stats.read == len(_docs()) - 1


def test_ray_engine_reads_uris_on_the_driver(mem, tmp_path) -> None:
    """Ray workers never open inputs (the driver reads the lines and ships them), so a
    URI only the driver can see (memory:// lives in this process) gives the local
    engine's output."""
    pytest.importorskip("ray")
    uri = mem.put("in.jsonl.zst", zstandard.ZstdCompressor().compress(_jsonl(_docs())))
    on_ray = run_dedup([uri], kept=str(tmp_path / "ray.jsonl"), engine="ray", workers=2)
    here = run_dedup([uri], kept=str(tmp_path / "local.jsonl"))
    assert on_ray.removed == here.removed > 0
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


# ----------------------------------------------------------------------------- outputs


def _local_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_run_folder_to_memory_is_the_local_run(mem, runner, tmp_path) -> None:
    mem.put("crawl/in.jsonl.zst", zstandard.ZstdCompressor().compress(_jsonl(_docs())))
    local_in = tmp_path / "in.jsonl.zst"
    local_in.write_bytes(mem.files("crawl")["in.jsonl.zst"])
    assert _invoke(runner, ["run", str(local_in), "-o", str(tmp_path / "out"), "-q"]).exit_code == 0
    res = _invoke(runner, ["run", mem.url("crawl/"), "-o", mem.url("out/")])
    assert res.exit_code == 0 and f"outputs in {mem.url('out')}/" in res.output
    local, remote = _local_files(tmp_path / "out"), mem.files("out")
    assert sorted(remote) == sorted(local) and "complete.json" in remote
    marker = json.loads(remote["complete.json"])
    assert sorted(marker["files"]) == sorted(n for n in remote if n != "complete.json")
    for name in local:
        if name not in TIMED:
            assert remote[name] == local[name], name


def test_run_folder_upload_order_and_leftovers(mem, runner, monkeypatch) -> None:
    """The old marker goes first, files an earlier run left and this one did not write
    go, foreign files stay, the new marker comes last."""
    import neardup.io.remote as remote

    uri = mem.put("crawl/in.jsonl", _jsonl(_docs()))
    out = mem.url("out/")
    assert _invoke(runner, ["run", uri, "-o", out, "-q"]).exit_code == 0
    mem.put("out/notes.txt", b"mine")
    events: list[str] = []
    put, rm = remote.put, remote.remove
    monkeypatch.setattr(remote, "put", lambda lo, u: (events.append("put " + u), put(lo, u)))
    monkeypatch.setattr(remote, "remove", lambda u: (events.append("rm " + u), rm(u)))
    assert _invoke(runner, ["run", uri, "-o", out, "-q", "--no-report"]).exit_code == 0
    assert events[0] == f"rm {out}complete.json" and events[-1] == f"put {out}complete.json"
    assert f"rm {out}report.html" in events
    files = mem.files("out")
    assert "report.html" not in files and files["notes.txt"] == b"mine"
    assert "report.html" not in json.loads(files["complete.json"])["files"]


def test_failed_run_uploads_nothing(mem, runner, tmp_path) -> None:
    good = mem.put("crawl/in.jsonl", _jsonl(_docs()))
    bad = mem.put("bad/in.jsonl", _jsonl(_docs()[:3]) + b"not json\n")
    res = runner.invoke(main, ["run", bad, "-o", mem.url("out/")])
    assert res.exit_code == 1 and f"{bad}:4:" in res.output
    assert mem.files("out") == {}
    res = runner.invoke(main, ["dedup", bad, "-o", mem.url("d/kept.jsonl"),
                               "--removed", mem.url("d/removed.jsonl")])  # fmt: skip
    assert res.exit_code == 1 and mem.files("d") == {}
    # a finished run at the destination stays as it was when the next one fails
    assert _invoke(runner, ["run", good, "-o", mem.url("out/"), "-q"]).exit_code == 0
    before = mem.files("out")
    assert runner.invoke(main, ["run", bad, "-o", mem.url("out/")]).exit_code == 1
    assert mem.files("out") == before


def test_dedup_and_clean_outputs_to_uris(mem, runner, tmp_path) -> None:
    uri = mem.put("in.jsonl", _jsonl(_docs()))
    local_in = tmp_path / "in.jsonl"
    local_in.write_bytes(_jsonl(_docs()))
    args = ["-q", "--removed"]
    assert _invoke(runner, ["dedup", uri, "-o", mem.url("d/kept.jsonl.gz"), *args,
                            mem.url("d/removed.jsonl")]).exit_code == 0  # fmt: skip
    assert _invoke(runner, ["dedup", str(local_in), "-o", str(tmp_path / "kept.jsonl.gz"), *args,
                            str(tmp_path / "removed.jsonl")]).exit_code == 0  # fmt: skip
    got = mem.files("d")
    assert gzip.decompress(got["kept.jsonl.gz"]) == gzip.decompress(
        (tmp_path / "kept.jsonl.gz").read_bytes()
    )
    assert got["removed.jsonl"] == (tmp_path / "removed.jsonl").read_bytes()
    out = tmp_path / "clean-out" / "c.jsonl"
    assert _invoke(runner, ["clean", uri, "-o", out.as_uri(), "-q"]).exit_code == 0  # file://
    assert len(out.read_text().splitlines()) == len(_docs())
    assert not list(out.parent.glob(".*part*"))
    # a folder of .txt files, one per document, uploaded file by file
    assert _invoke(runner, ["clean", uri, "-o", mem.url("texts/"), "-q"]).exit_code == 0
    texts = mem.files("texts")
    assert sorted(texts) == sorted(f"{d['id']}.txt" for d in _docs())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["memory://x/in.jsonl", "-o", "memory:///x/in.jsonl"], "is the input memory://x/in.jsonl"),
        (["memory://x/in.jsonl", "-o", "memory://x/k.jsonl", "--removed", "memory:///x/k.jsonl"],
         "are the same file"),
        (["memory://x/in.jsonl", "-o", "k.jsonl", "--workdir", "memory://w/"],
         "must be a local path"),
    ],
)  # fmt: skip
def test_output_that_is_an_input_by_uri(runner, args, message) -> None:
    fsspec.filesystem("memory").pipe("/x/in.jsonl", _jsonl(_docs()[:3]))
    res = runner.invoke(main, ["dedup", *args])
    assert res.exit_code == 2 and message in res.output
    assert fsspec.filesystem("memory").cat("/x/in.jsonl") == _jsonl(_docs()[:3])


def test_file_uri_output_that_is_a_local_input(runner, tmp_path) -> None:
    local = tmp_path / "in.jsonl"
    local.write_bytes(_jsonl(_docs()[:3]))
    res = runner.invoke(main, ["clean", str(local), "-o", local.as_uri()])
    assert res.exit_code == 2 and "writing it would destroy the input" in res.output
    # a run folder URI whose kept.jsonl would be the input
    kept = tmp_path / "out" / "kept.jsonl"
    kept.parent.mkdir()
    kept.write_bytes(local.read_bytes())
    res = runner.invoke(main, ["run", str(kept), "-o", kept.parent.as_uri() + "/"])
    assert res.exit_code == 2 and f"is the input {kept}" in res.output
    assert kept.read_bytes() == local.read_bytes()


# ---------------------------------------------------------------------- missing packages


def test_unknown_scheme_is_one_line(runner, tmp_path) -> None:
    res = runner.invoke(main, ["dedup", "nosuchfs://bucket/a.jsonl", "-o", str(tmp_path / "k")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "no file system is known for nosuchfs://" in res.output


def test_missing_backend_says_what_to_install(runner, tmp_path, monkeypatch) -> None:
    from fsspec.registry import known_implementations

    monkeypatch.setitem(
        known_implementations, "fakecloud", {"class": "fakecloudfs.FakeFS", "err": "Install it"}
    )
    res = runner.invoke(main, ["run", "fakecloud://bucket/crawl/", "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.strip().splitlines()[-1] == (
        "Error: fakecloud://bucket/crawl/: fakecloud:// URIs need the package fakecloudfs: "
        "pip install fakecloudfs"
    )
    # an output URI: said before the run, nothing written
    local = tmp_path / "in.jsonl"
    local.write_bytes(_jsonl(_docs()[:3]))
    res = runner.invoke(main, ["run", str(local), "-o", "fakecloud://bucket/out/"])
    assert res.exit_code == 1 and "pip install fakecloudfs" in res.output


def test_s3_without_s3fs(runner, tmp_path) -> None:
    try:
        import s3fs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("s3fs is installed here")
    res = runner.invoke(main, ["dedup", "s3://bucket/a.jsonl.zst", "-o", str(tmp_path / "k")])
    assert res.exit_code == 1 and "pip install s3fs" in res.output


def test_without_fsspec(runner, tmp_path, monkeypatch) -> None:
    for name in [m for m in sys.modules if m == "fsspec" or m.startswith("fsspec.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "fsspec", None)
    res = runner.invoke(main, ["dedup", "gs://bucket/a.jsonl", "-o", str(tmp_path / "k")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "pip install 'neardup[cloud]' gcsfs" in res.output


def test_plain_paths_never_import_fsspec(tmp_path) -> None:
    """In a fresh process where fsspec cannot be imported, neardup imports and a local
    run works (and nothing imported fsspec along the way)."""
    (tmp_path / "in.jsonl").write_bytes(_jsonl(_docs()))
    for block in (False, True):
        out = tmp_path / f"out-{block}"
        first = "sys.modules['fsspec'] = None" if block else "pass"
        code = (
            f"import sys; {first}\n"
            "from click.testing import CliRunner\n"
            "from neardup.cli import main\n"
            f"r = CliRunner().invoke(main, ['run', {str(tmp_path / 'in.jsonl')!r}, '-o', "
            f"{str(out)!r}, '-q'])\n"
            "assert r.exit_code == 0, r.output\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'fsspec'))\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == ("['fsspec']" if block else "[]")
        assert (out / "complete.json").is_file()
