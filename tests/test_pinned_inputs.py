"""Every input fetched from outside is recorded with the commit it resolved to and the digest of
what arrived, and the audit warns about those the config does not pin."""
import hashlib

import pytest

from selfdistill.data import mathdata
from selfdistill.lineage import downloads
from selfdistill.lineage.audit import main
from selfdistill.lineage.provenance import read_record, write_records

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(downloads, "_NOTED", [])


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """A Hugging Face cache holding one dataset file at COMMIT, read offline."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    repo = tmp_path / "cache" / "datasets--owner--pool"
    (repo / "snapshots" / COMMIT / "data").mkdir(parents=True)
    (repo / "snapshots" / COMMIT / "data" / "pool.parquet").write_bytes(b"rows")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    return tmp_path / "cache"


def test_a_hub_file_records_its_commit_and_digest(fresh, hub_cache):
    mathdata.fetch("hf://datasets/owner/pool/data/pool.parquet", hub_cache, None)
    mathdata.fetch(f"hf://datasets/owner/pool@{COMMIT}/data/pool.parquet", hub_cache, None)
    [unpinned, pinned] = downloads.noted()
    assert (unpinned["commit"], unpinned["pinned"]) == (COMMIT, False)
    assert (pinned["commit"], pinned["pinned"]) == (COMMIT, True)


def test_unpinned_inputs_are_recorded_and_audited_as_warnings(fresh, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "remote.parquet").write_bytes(b"pool rows")
    url = (tmp_path / "remote.parquet").as_uri()
    digest = hashlib.sha256(b"pool rows").hexdigest()
    mathdata.fetch(url, tmp_path / "cache", None)
    (tmp_path / "results").mkdir()
    (tmp_path / "results/train.jsonl").write_text("{}\n")
    write_records("world", {}, {}, {"train": "results/train.jsonl"}, 0.0)
    [fetched] = read_record("results/train.jsonl")["fetched"]
    assert fetched == {"source": url, "pinned": False, "commit": None, "sha256": digest}
    assert main(["results/train.jsonl"]) == 0  # a warning, not a problem
    out = capsys.readouterr().out
    assert "1 unpinned input(s)" in out and f"warning: {url}: not pinned (sha256 {digest[:12]}" in out

    downloads._NOTED.clear()
    mathdata.fetch(url, tmp_path / "cache", digest)  # pinned by its digest
    write_records("world", {}, {}, {"train": "results/train.jsonl"}, 0.0)
    assert main(["results/train.jsonl"]) == 0
    assert "0 unpinned input(s)" in capsys.readouterr().out


def test_hub_commit_is_read_from_the_cache_path():
    assert downloads.hub_commit(f"/c/models--a--b/snapshots/{COMMIT}/config.json") == COMMIT
    assert downloads.hub_commit(f"/c/models--a--b/snapshots/{COMMIT}") == COMMIT
    assert downloads.hub_commit("/data/pool.parquet") is None
    assert downloads.is_commit(COMMIT) and not downloads.is_commit("main") and not downloads.is_commit(None)
