"""The math world's splits from configured sources: pool, held-out draw, coverage files, benchmarks."""
import hashlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_mathdata import write_dapo

from selfdistill.data import mathdata
from selfdistill.data.math_world import make_splits, sources


def problem(i, form="dapo"):
    return (f"id-{i:03d}", f"Problem {i}: what is {i}+0?", str(i), form)


@pytest.fixture
def files(tmp_path):
    """A DAPO-style pool of 30 problems (each row twice, as upstream), a 2x3 coverage file of two
    of them (one under another id with the same text, as DAPO has), and two benchmarks."""
    pool = write_dapo(tmp_path / "pool.parquet", [problem(i) for i in range(30)] * 2)
    twin = ("id-twin", *problem(5, "boxed")[1:])
    coverage = write_dapo(tmp_path / "cov.parquet", [problem(3, "boxed"), twin] * 3)
    # the study's files name each row by its DAPO id
    table = pq.read_table(coverage)
    pq.write_table(table.append_column("problem_id", pa.array([r["index"] for r in table["extra_info"].to_pylist()])),
                   coverage)
    bench_a = write_dapo(tmp_path / "a.parquet", [problem(100 + i, "boxed") for i in range(4)])
    bench_b = write_dapo(tmp_path / "b.parquet", [problem(200 + i, "boxed") for i in range(3)])
    return pool, coverage, bench_a, bench_b


def config(files, **overrides):
    pool, coverage, bench_a, bench_b = files
    return {"seed": 0, "pool": {"source": str(pool)}, "heldout_size": 5,
            "coverage_files": {"8x8": {"source": str(coverage)}}, "ood": ["bench_a", "bench_b"],
            "benchmarks": {"bench_a": {"source": str(bench_a), "limit": 2}, "bench_b": {"source": str(bench_b)}},
            **overrides}


def ids(rows):
    return [r["problem_id"] for r in rows]


def test_splits_partition_the_pool_and_keep_coverage_problems_out_of_the_heldout(files):
    splits = make_splits(config(files), {})
    assert set(splits) == {"train", "in_domain", "ood", "coverage_8x8"}
    train, held = ids(splits["train"]), ids(splits["in_domain"])
    assert len(held) == 5 and len(train) == 25 and set(train) | set(held) == {f"id-{i:03d}" for i in range(30)}
    # id-003 is in the coverage file, id-005 under another id with the same text
    assert {"id-003", "id-005"} <= set(train)
    # the coverage file passes through row for row, repeats and order included
    assert ids(splits["coverage_8x8"]) == ["id-003", "id-twin"] * 3
    for row in splits["train"]:
        assert row["reference"] == f"\\boxed{{{row['answer']}}}" and row["prompt"].endswith(mathdata.INSTRUCTION)


def test_ood_is_each_benchmark_in_turn_limited_and_named(files):
    ood = make_splits(config(files), {})["ood"]
    assert ids(ood) == ["bench_a/math_dapo:id-100", "bench_a/math_dapo:id-101",
                        "bench_b/math_dapo:id-200", "bench_b/math_dapo:id-201", "bench_b/math_dapo:id-202"]
    assert [r["answer"] for r in ood[:2]] == ["100", "101"]


def test_heldout_draw_follows_the_seed_not_the_file_order(files, tmp_path):
    held = ids(make_splits(config(files), {})["in_domain"])
    assert ids(make_splits(config(files, seed=1), {})["in_domain"]) != held
    reversed_pool = write_dapo(tmp_path / "reversed.parquet", [problem(i) for i in reversed(range(30))])
    assert sorted(ids(make_splits(config((reversed_pool, *files[1:])), {})["in_domain"])) == sorted(held)


def test_pool_limit_and_a_heldout_larger_than_the_pool(files):
    limited = config(files, pool={"source": str(files[0]), "limit": 10})
    assert len(make_splits(limited, {})["train"]) == 5
    with pytest.raises(ValueError, match="heldout_size=29.*only 28"):
        make_splits(config(files, heldout_size=29), {})


def test_local_inputs_replace_configured_paths_and_digests_are_checked(files, tmp_path):
    pool = files[0]
    cfg = config(("moved/pool.parquet", *files[1:]))
    cfg["pool"]["sha256"] = hashlib.sha256(pool.read_bytes()).hexdigest()
    assert len(make_splits(cfg, {"pool": str(pool)})["train"]) == 25
    cfg["pool"]["sha256"] = "0" * 64
    with pytest.raises(ValueError, match="sha256 of .*pool.parquet"):
        make_splits(cfg, {"pool": str(pool)})


def test_benchmarks_without_a_source_use_the_pinned_url_and_digest():
    cfg = {"pool": {"source": "hf://datasets/o/n/f.parquet"}, "coverage_files": {}, "ood": ["aime24", "mine"],
           "benchmarks": {"mine": {"source": "mine.parquet"}}}
    assert sources(cfg) == {
        "pool": {"source": "hf://datasets/o/n/f.parquet"},
        "ood_aime24": {"source": mathdata.BENCHMARKS["aime24"], "sha256": mathdata.BENCHMARK_SHA256["aime24"]},
        "ood_mine": {"source": "mine.parquet"}}
    assert [mathdata.is_remote(s["source"]) for s in sources(cfg).values()] == [True, True, False]
