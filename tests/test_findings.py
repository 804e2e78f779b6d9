"""findings.md: the study's claims are checked against the grid's numbers, both ways."""
import pandas as pd

from selfdistill.findings import change_table, claims, findings_markdown

BASE = {"accuracy": 0.5, "mean_length": 100.0, "mean_epistemic": 4.0}


def frame(final: dict[tuple[str, str], dict], first_seen: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A grid table: every (method, coverage) cell at step 0 (the base), 10 and 20 on three splits.
    `final`: per cell, the step-20 values on every split; `first_seen`: seen accuracy at step 10."""
    rows = []
    for (method, coverage), values in final.items():
        for split in ("seen", "in_domain", "ood"):
            step10 = {**BASE, "accuracy": first_seen[method, coverage]} if split == "seen" else BASE
            for step, v in ((0, BASE), (10, step10), (20, {**BASE, **values})):
                rows.append({"method": method, "coverage": coverage, "seed": 0, "step": step, "split": split, **v})
    return pd.DataFrame(rows)


def study_like():
    final = {("sdpo_s", c): {"accuracy": 0.4, "mean_length": 60.0, "mean_epistemic": 1.0} for c in ("8x8", "full")}
    final |= {("grpo", c): {"accuracy": 0.55, "mean_length": 95.0, "mean_epistemic": 3.8} for c in ("8x8", "full")}
    first = {("sdpo_s", "8x8"): 0.8, ("sdpo_s", "full"): 0.5, ("grpo", "8x8"): 0.6, ("grpo", "full"): 0.5}
    return frame(final, first)


def test_claims_hold_when_the_grid_behaves_like_the_study():
    df = study_like()
    verdicts = {claim: ok for claim, _, ok in claims(change_table(df), df)}
    assert len(verdicts) == 4 and all(verdicts.values()), verdicts


def test_claims_fail_when_grpo_cuts_more_and_sdpo_gains():
    df = study_like()
    sdpo_final = (df["method"] == "sdpo_s") & (df["step"] == 20)
    grpo_final = (df["method"] == "grpo") & (df["step"] == 20)
    df.loc[sdpo_final, ["accuracy", "mean_epistemic"]] = [0.7, 3.9]
    df.loc[grpo_final, ["accuracy", "mean_epistemic"]] = [0.3, 0.5]
    found = {claim.split(" (")[0]: (measured, ok) for claim, measured, ok in claims(change_table(df), df)}
    assert found["SDPO with c = s cuts the epistemic count most"][1] is False
    measured, ok = found["at broad coverage"]
    assert ok is False and "sdpo_s +0.200, grpo -0.200" in measured


def test_markdown_reports_the_changes_from_base():
    text = findings_markdown(study_like())
    assert "does not hold" not in text
    # sdpo_s at full: OOD accuracy 0.5 -> 0.4, length 100 -> 60
    row = next(line for line in text.splitlines() if line.startswith("| full ") and "sdpo_s" in line)
    assert "-0.100" in row and "-40.000" in row


def test_probe_section_quotes_the_teacher_probabilities():
    probe = pd.DataFrame({"richness": ["none", "s", "none", "s"], "word": ["all", "all", "wait", "wait"],
                          "positions": [12, 12, 12, 12], "mean_probability": [0.61, 0.07, 0.61, 0.07],
                          "median_probability": [0.6, 0.05, 0.6, 0.05]})
    text = findings_markdown(study_like(), probe)
    assert '"wait" none 0.610, s 0.070' in text


def test_the_teacher_score_decides_the_verdict():
    richness = pd.DataFrame({"richness": ["none", "s_nothink", "regen", "s"], "score": [0.4, 0.3, 0.17, 0.19]})
    assert "as a teacher it is no better than the student" in findings_markdown(study_like(), richness=richness)
    richness["score"] = [0.3, 0.78, 0.95, 0.98]
    assert "as a teacher it is better than the student" in findings_markdown(study_like(), richness=richness)
