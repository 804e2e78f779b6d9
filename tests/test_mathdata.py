"""Tests of selfdistill.data.mathdata on the shared parquet copies and on synthetic DAPO files."""

import hashlib
import http.server
import json
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selfdistill.data import mathdata
from selfdistill.data.templates import INSTRUCTION

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "math"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared math data not found at {DATA}")

DAPO_HEAD = ("Solve the following math problem step by step. The last line of your response should "
             "be of the form Answer: $Answer (without quotes) where $Answer is the answer to the "
             "problem.\n\n")
DAPO_TAIL = '\n\nRemember to put your answer on its own line after "Answer:".'


def load(name):
    return mathdata.load_rl_parquet(DATA / f"{name}.parquet")


def check_problems(problems):
    for p in problems:
        assert p["prompt"].endswith(INSTRUCTION) and p["prompt"] != INSTRUCTION
        assert p["answer"].strip() and p["problem_id"]


@needs_data
@pytest.mark.parametrize("name,rows", [("aime24", 30), ("aime25", 30), ("amc23", 40), ("math500", 500)])
def test_benchmarks_nested_and_json_columns(name, rows):
    problems = load(f"evaluation/{name}")
    assert len(problems) == rows == len({p["problem_id"] for p in problems})
    check_problems(problems)


@needs_data
def test_benchmark_values():
    first = load("evaluation/aime24")[0]
    assert first["problem_id"] == "math_dapo:2" and first["answer"] == "540"
    assert first["prompt"].startswith("Find the largest possible real part")
    assert load("evaluation/aime25")[0]["problem_id"] == "aime_2025:1"


@needs_data
def test_section_6_2_subsets_nest_by_id():
    ids = {name: [p["problem_id"] for p in load(f"section_6_2/seen_{name}")]
           for name in ("1x64", "8x8", "64", "128", "512")}
    assert len(ids["1x64"]) == 64 and set(ids["1x64"]) == {"9c195e65-a93e-4625-9587-d98630e5a4c3"}
    assert len(ids["8x8"]) == 64 and len(set(ids["8x8"])) == 8
    for name, unique in (("64", 64), ("128", 128), ("512", 512)):
        assert len(ids[name]) == len(set(ids[name])) == unique
    chain = ["1x64", "8x8", "64", "128", "512"]
    for small, big in zip(chain, chain[1:]):
        assert set(ids[small]) <= set(ids[big])
    for name in chain:
        check_problems(load(f"section_6_2/seen_{name}"))


def write_dapo(path, rows, as_json=False):
    """A parquet file in DAPO-Math-17k's upstream layout, from (uuid, problem, answer, form)."""
    records = []
    for uuid, problem, answer, form in rows:
        content = DAPO_HEAD + problem + DAPO_TAIL if form == "dapo" else problem + INSTRUCTION
        record = {"data_source": "math_dapo", "prompt": [{"content": content, "role": "user"}],
                  "ability": "MATH", "reward_model": {"ground_truth": answer, "style": "rule-lighteval/MATH_v2"},
                  "extra_info": {"index": uuid}}
        if as_json:
            record = {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in record.items()}
        records.append(record)
    pq.write_table(pa.Table.from_pylist(records), path)
    return path


@pytest.mark.parametrize("as_json", [False, True])
def test_load_dapo_dedupes_and_rewrites(tmp_path, as_json):
    a = ("id-a", "What is $1+1$?", "2", "dapo")
    b = ("id-b", "Compute $3\\cdot 4$.", "12", "dapo")
    c = ("id-c", "Already boxed: $2^5$?", "32", "boxed")
    a_again = ("id-a2", *a[1:])  # same text under another id, as DAPO has: the first id wins
    path = write_dapo(tmp_path / "dapo.parquet", [a, b, a, c, b, a_again, c, a] * 3, as_json)
    problems = mathdata.load_dapo(path)
    assert problems == [
        {"problem_id": "id-a", "prompt": "What is $1+1$?" + INSTRUCTION, "answer": "2"},
        {"problem_id": "id-b", "prompt": "Compute $3\\cdot 4$." + INSTRUCTION, "answer": "12"},
        {"problem_id": "id-c", "prompt": "Already boxed: $2^5$?" + INSTRUCTION, "answer": "32"},
    ]


def test_rl_parquet_appends_missing_instruction_and_rejects_bad_rows(tmp_path):
    path = write_dapo(tmp_path / "plain.parquet", [("u1", "Bare problem", "7", "boxed")])
    table = pq.read_table(path).to_pylist()
    table[0]["prompt"][0]["content"] = "Bare problem"
    pq.write_table(pa.Table.from_pylist(table), path)
    assert mathdata.load_rl_parquet(path)[0] == {
        "problem_id": "math_dapo:u1", "prompt": "Bare problem" + INSTRUCTION, "answer": "7"}

    table[0]["prompt"].insert(0, {"content": "be brief", "role": "system"})
    pq.write_table(pa.Table.from_pylist(table), path)
    with pytest.raises(ValueError, match=r"roles \['system', 'user'\]"):
        mathdata.load_rl_parquet(path)


def test_fetch_local_path_and_missing_path(tmp_path):
    f = tmp_path / "x.parquet"
    f.write_bytes(b"data")
    assert mathdata.fetch(str(f), str(tmp_path / "cache"), None) == str(f)
    assert mathdata.fetch(str(f), str(tmp_path / "cache"), hashlib.sha256(b"data").hexdigest()) == str(f)
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        mathdata.fetch(str(tmp_path / "nope.parquet"), str(tmp_path / "cache"), None)


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/www that counts its requests."""
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_port}", hits
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_once_and_checks_sha256(tmp_path, server):
    root, base, hits = server
    (root / "train.parquet").write_bytes(b"payload")
    good = hashlib.sha256(b"payload").hexdigest()
    cache = tmp_path / "cache"

    path = mathdata.fetch(f"{base}/train.parquet", str(cache), good)
    assert Path(path).read_bytes() == b"payload" and Path(path).parent == cache
    assert mathdata.fetch(f"{base}/train.parquet", str(cache), good) == path
    assert hits == ["/train.parquet"]  # the second call was served from the cache

    (root / "other.parquet").write_bytes(b"tampered")
    bad = "0" * 64
    with pytest.raises(ValueError, match=f"{hashlib.sha256(b'tampered').hexdigest()}.*expected {bad}"):
        mathdata.fetch(f"{base}/other.parquet", str(cache), bad)
    assert sorted(p.name for p in cache.iterdir()) == [Path(path).name]  # nothing bad was cached


def test_load_dapo_from_file_url(tmp_path):
    path = write_dapo(tmp_path / "dapo.parquet", [("id-a", "Find $x$.", "5", "dapo")] * 4)
    problems = mathdata.load_dapo(path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest(),
                                  cache_dir=tmp_path / "cache")
    assert [p["problem_id"] for p in problems] == ["id-a"]


def test_hf_source_must_name_a_dataset_file():
    with pytest.raises(ValueError, match="hf://datasets/<owner>/<name>"):
        mathdata.fetch("hf://models/foo/bar", "/tmp/unused", None)


def test_benchmark_defaults_are_pinned_urls():
    assert set(mathdata.BENCHMARKS) == set(mathdata.BENCHMARK_SHA256) == {"aime24", "aime25", "amc23", "math500"}
    for name, url in mathdata.BENCHMARKS.items():
        assert url.startswith("https://raw.githubusercontent.com/beanie00/self-distillation-analysis/"
                              "5c51051aaa07513764ab66c631277816bc6520e5/data/math/evaluation/")
        assert url.endswith(f"/{name}.parquet")


@needs_data
def test_benchmark_digests_match_the_shared_copies():
    for name, digest in mathdata.BENCHMARK_SHA256.items():
        assert hashlib.sha256((DATA / "evaluation" / f"{name}.parquet").read_bytes()).hexdigest() == digest
