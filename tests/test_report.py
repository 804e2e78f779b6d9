"""The HTML report a finished run makes: its front page states the study's question and shows
every claim with its verdict, premises first."""
import html
import json
import re

import pandas as pd
from conftest import TEST_CONFIG, snakemake


def front_page_text(report: str) -> str:
    """The report's front page as plain text (the page embeds it as a JSON string of HTML)."""
    page = json.loads(re.search(r"var workflow_desc = (\".*?\");\n", report).group(1))
    assert "<table" in page
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_front_page_shows_every_claim_with_its_verdict_premises_first(test_run, tmp_path):
    out = tmp_path / "report.html"
    run = snakemake(test_run, "--configfile", str(TEST_CONFIG), "--report", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    text = front_page_text(out.read_text())
    assert "Self-Distillation (Sometimes) Degrade" in text
    assert "in the arith world" in text
    assert "System Message" not in text  # docutils' marker of a directive it could not read

    claims = pd.read_csv(test_run / "results/summary/claims.csv")
    front = pd.read_csv(test_run / "results/summary/verdicts.csv")
    assert sorted(front["claim"]) == sorted(claims["claim"])
    assert "rule" not in front.columns
    kinds = list(front["kind"])
    assert kinds == sorted(kinds, key=lambda k: k != "premise") and "premise" in kinds and "outcome" in kinds
    positions = []
    for row in front.itertuples():
        row_text = " ".join([row.kind, " ".join(row.claim.split()), row.verdict])
        assert row_text in text, row_text
        positions.append(text.index(row_text))
    assert positions == sorted(positions)
