import hashlib
import json
import sys
import time
from datetime import datetime

import pytest

from selfdistill.lineage import provenance
from selfdistill.lineage.audit import main
from selfdistill.lineage.provenance import audit, hash_path, lineage, read_record, sidecar, write_records

PARAMS = {"a": {"seed": 3, "n": 10}, "b": {"train": {"seed": 7, "lr": 0.1}}, "c": {"splits": ["x"]}}


@pytest.fixture
def chain(tmp_path, monkeypatch):
    """raw file -> results/a.json -> results/b/ (a directory) -> results/c.json, made from tmp_path
    with relative paths, as the pipeline does from the workflow root."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data/raw.txt").write_text("raw data\n")
    (tmp_path / "results/b/sub").mkdir(parents=True)

    (tmp_path / "results/a.json").write_text('{"a": 1}\n')
    write_records("a", PARAMS["a"], {"raw": "data/raw.txt"}, {"out": "results/a.json"}, time.time())
    (tmp_path / "results/b/inner.txt").write_text("weights\n")
    (tmp_path / "results/b/sub/config.json").write_text("{}\n")
    write_records("b", PARAMS["b"], {"a": "results/a.json"}, {"model": "results/b"}, time.time(),
                  cell={"size": "small"})
    (tmp_path / "results/c.json").write_text('{"c": 3}\n')
    write_records("c", PARAMS["c"], {"model": "results/b", "raw": "data/raw.txt"},
                  {"summary": "results/c.json"}, time.time(), seed=11)
    return tmp_path


def test_sidecar_sits_beside_files_and_directories():
    assert str(sidecar("results/base_model")) == "results/base_model.prov.json"
    assert str(sidecar("results/base_model/")) == "results/base_model.prov.json"
    assert str(sidecar("results/summary/x.json")) == "results/summary/x.json.prov.json"


def test_records_contain_every_field(chain):
    record = read_record("results/c.json")
    assert set(record) == {"artifact", "sha256", "stage", "rule", "cell", "params", "params_sha256", "seed", "inputs",
                           "code", "versions", "device", "host", "started", "ended", "command", "fetched"}
    assert record["artifact"] == "results/c.json" and record["stage"] == "c" and record["cell"] == {}
    assert record["sha256"] == hashlib.sha256(b'{"c": 3}\n').hexdigest()
    assert record["params"] == PARAMS["c"]
    assert record["params_sha256"] == hashlib.sha256(json.dumps(PARAMS["c"], sort_keys=True).encode()).hexdigest()
    assert record["seed"] == 11  # given explicitly
    assert record["inputs"] == {"model": {"path": "results/b", "sha256": hash_path("results/b")},
                                "raw": {"path": "data/raw.txt", "sha256": hash_path("data/raw.txt")}}
    assert set(record["code"]) == {"git_commit", "git_dirty", "package_sha256", "stage_sha256"}
    assert record["code"]["stage_sha256"] is None  # given only by a stage run as a module
    assert len(record["code"]["package_sha256"]) == 64
    assert set(record["versions"]) == {"python", *provenance.PACKAGES}
    assert record["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["versions"]["numpy"] is not None
    assert {"platform", "gpus"} <= set(record["device"])
    assert record["host"] and record["command"] == sys.argv
    started, ended = (datetime.fromisoformat(record[k]) for k in ("started", "ended"))
    assert started.utcoffset().total_seconds() == 0 and started <= ended

    assert read_record("results/a.json")["seed"] == 3  # top-level key
    b = read_record("results/b")
    assert b["seed"] == 7 and b["cell"] == {"size": "small"}  # nested key
    assert set(b["files"]) == {"inner.txt", "sub/config.json"}


def test_records_name_a_missing_output(chain):
    with pytest.raises(FileNotFoundError, match="results/nope.json"):
        write_records("x", {}, {}, {"out": "results/nope.json"}, time.time())


def test_directory_hash_is_stable_and_sees_every_file(tmp_path):
    for name, order in (("one", ["x.txt", "d/y.txt"]), ("two", ["d/y.txt", "x.txt"])):
        for rel in order:  # creation order must not matter
            (tmp_path / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / rel).write_text(rel)
    assert hash_path(tmp_path / "one") == hash_path(tmp_path / "one") == hash_path(tmp_path / "two")
    (tmp_path / "two/d/y.txt").write_text("changed")
    assert hash_path(tmp_path / "one") != hash_path(tmp_path / "two")
    before = hash_path(tmp_path / "one")
    (tmp_path / "one/d/y.txt").rename(tmp_path / "one/d/z.txt")  # same bytes, another name
    assert hash_path(tmp_path / "one") != before
    assert hash_path(tmp_path / "one/x.txt") == hashlib.sha256(b"x.txt").hexdigest()
    with pytest.raises(FileNotFoundError, match="absent"):
        hash_path(tmp_path / "absent")


def test_untouched_chain_audits_clean(chain):
    assert audit("results/c.json") == []
    assert [r["stage"] for r in lineage("results/c.json")] == ["c", "b", "a"]


def test_tampered_inner_file_is_named(chain):
    (chain / "results/b/inner.txt").write_text("poisoned\n")
    problems = audit("results/c.json")
    assert "results/b/inner.txt: changed after it was made" in problems
    assert any(p.startswith("results/b: input changed since it was consumed by results/c.json") for p in problems)
    assert len(problems) == 2


def test_changed_raw_input_is_named(chain):
    (chain / "data/raw.txt").write_text("other data\n")
    problems = audit("results/c.json")
    assert any(p.startswith("data/raw.txt: input changed since it was consumed by results/a.json") for p in problems)
    assert any(p.startswith("data/raw.txt: input changed since it was consumed by results/c.json") for p in problems)


def test_deleted_intermediate_is_missing(chain):
    (chain / "results/a.json").unlink()
    assert audit("results/c.json") == ["results/a.json: missing (input of results/b)"]


def test_intermediate_without_record_is_reported(chain):
    sidecar("results/a.json").unlink()
    assert audit("results/c.json") == ["results/a.json: no provenance record (expected results/a.json.prov.json)"]


def test_config_mismatch_is_reported(chain):
    def expected(record):  # as if the config now trained stage b with another learning rate
        return {"train": {"seed": 7, "lr": 0.2}} if record["stage"] == "b" else None

    assert audit("results/c.json", expected) == [
        "results/b: config no longer matches the params it was made with (differs in: train)"]
    assert audit("results/c.json", lambda record: record["params"]) == []


def test_code_state_outside_git_hashes_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "_PACKAGE_DIR", tmp_path)
    (tmp_path / "mod.py").write_text("x = 1\n")
    first = provenance.code_state()
    assert first["git_commit"] is None and first["git_dirty"] is None
    (tmp_path / "notes.txt").write_text("not code")
    assert provenance.code_state()["package_sha256"] == first["package_sha256"]
    (tmp_path / "mod.py").write_text("x = 2\n")
    assert provenance.code_state()["package_sha256"] != first["package_sha256"]


def test_snakemakes_date_marker_in_a_directory_output_is_not_content(chain):
    # Snakemake creates it inside results/b after the stage has recorded results/b
    (chain / "results/b/.snakemake_timestamp").touch()
    assert audit("results/c.json") == []


def test_cli_passes_a_clean_chain_and_fails_a_tampered_one(chain, capsys):
    assert main(["results/c.json"]) == 0
    out = capsys.readouterr().out
    assert "results/c.json  [c]" in out and "    results/a.json  [a]" in out and "cell=size=small" in out
    assert "data/raw.txt  [raw input]  OK" in out and "0 problem(s)" in out

    (chain / "results/b/sub/config.json").write_text('{"evil": true}\n')
    assert main(["results/c.json"]) == 1
    assert "results/b/sub/config.json: changed after it was made" in capsys.readouterr().out


def test_cli_all_audits_every_record_under_a_folder(chain, capsys):
    (chain / "results/d.json").write_text("{}\n")  # a second, unrelated product
    write_records("d", {}, {}, {"out": "results/d.json"}, time.time())
    assert main(["--all", "results"]) == 0
    out = capsys.readouterr().out
    for path in ("results/a.json", "results/b", "results/c.json", "results/d.json", "data/raw.txt"):
        assert sum(line.split()[0] == path for line in out.splitlines() if line.strip()) == 1, path
    assert out.index("results/c.json") < out.index("results/a.json")  # final product first, full tree

    (chain / "results/d.json").write_text('{"d": 0}\n')  # outside c's lineage: only --all sees it
    assert main(["results/c.json"]) == 0
    assert main(["--all", "results"]) == 1
    assert "results/d.json: changed after it was made" in capsys.readouterr().out


def test_cli_all_rejects_an_empty_or_absent_folder(tmp_path, capsys):
    assert main(["--all", str(tmp_path)]) == 1
    assert "no *.prov.json records" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="got '.*absent'"):
        main(["--all", str(tmp_path / "absent")])
