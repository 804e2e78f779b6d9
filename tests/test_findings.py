"""findings.md: each of the study's claims comes out holds, contradicted or inconclusive, by its
stated rule on paired intervals, from synthetic grids built to make it come out each way."""
import functools

import numpy as np
import pandas as pd
import pytest

from selfdistill.evaluation.metrics import EPISTEMIC_WORDS
from selfdistill.reporting.analysis import richness_problems
from selfdistill.reporting.claims import all_claims
from selfdistill.reporting.findings import findings_markdown
from selfdistill.reporting.grid_summary import change_frame, grid_frame, problem_frame

PROBLEMS = [f"p{i}" for i in range(60)]
BASE = {"accuracy": 0.5, "mean_length": 100.0, "mean_epistemic": 4.0}


def metrics(shift: dict, noise: float, rng: np.random.Generator) -> dict:
    """An evaluation's metrics with per-problem values: the base plus `shift`, plus noise per problem."""
    per = {"problem_id": PROBLEMS}
    for key, base in BASE.items():
        scale = noise * (1 if key == "accuracy" else 20 if key == "mean_length" else 2)
        per[key] = list(base + shift.get(key, 0.0) + rng.normal(0, scale, len(PROBLEMS)))
    out = {key: float(np.mean(v)) for key, v in per.items() if key != "problem_id"}
    return {**out, **{f"{k}_se": 0.01 for k in BASE}, "pass_at_k": out["accuracy"],
            "mean_epistemic_word_boundary": out["mean_epistemic"],
            "epistemic_per_word": dict.fromkeys(EPISTEMIC_WORDS, 0.1), "per_problem": per}


def grid(shifts: dict[str, dict], noise: float = 0.02, seeds=(0, 1, 2), seen_first: dict | None = None):
    """Every method of `shifts` at coverage 8x8 and 128, checkpoints step5 and final (step 10); the
    final checkpoint moves by the method's shift on every split, step 5 by `seen_first` on seen."""
    rng = np.random.default_rng(0)
    evals, manifests = {}, {}
    base = {(c, s): metrics({}, 0.0, rng) for c in ("8x8", "128") for s in ("seen", "in_domain", "ood")}
    for method, shift in shifts.items():
        for coverage in ("8x8", "128"):
            for seed in seeds:
                manifests[method, coverage, seed] = {"final_step": 10}
                for split in ("seen", "in_domain", "ood"):
                    first = (seen_first or {}).get(method, 0.0) if split == "seen" else 0.0
                    evals[method, coverage, seed, "step5", split] = metrics({"accuracy": first}, noise, rng)
                    evals[method, coverage, seed, "final", split] = metrics(shift, noise, rng)
    problems = problem_frame(evals, manifests, base)
    return grid_frame(evals, manifests, base, problems), problems, change_frame(problems)


STUDY_LIKE = {"sdpo_s": {"accuracy": -0.15, "mean_length": -40, "mean_epistemic": -3.0},
              "sdpo_s_nothink": {"accuracy": -0.05, "mean_length": -20, "mean_epistemic": -1.5},
              "grpo": {"accuracy": 0.01, "mean_length": -1, "mean_epistemic": -0.1},
              "sft_ug": {"accuracy": 0.0}, "sft_sg": {"accuracy": -0.2}}


@functools.cache
def study_like():
    return grid(STUDY_LIKE)


def verdicts(problems, richness=None) -> dict[str, str]:
    return {v.claim.split(" (")[0]: v.verdict for v in all_claims(problems, richness)}


def test_claims_hold_when_the_grid_behaves_like_the_study():
    _, problems, _ = grid(STUDY_LIKE, seen_first={"sdpo_s": 0.3, "grpo": 0.0})
    found = verdicts(problems)
    tested = {c: v for c, v in found.items() if v != "not tested"}
    assert len(tested) == 10, found
    assert set(tested.values()) == {"holds"}, found
    assert found["a moving teacher"] == "not tested"


def test_claims_are_contradicted_when_the_grid_does_the_opposite():
    opposite = {"sdpo_s": {"accuracy": 0.15, "mean_length": 10, "mean_epistemic": 1.0},
                "sdpo_s_nothink": {"mean_epistemic": -1.0},
                "grpo": {"accuracy": -0.2, "mean_length": -40, "mean_epistemic": -3.0},
                "sft_ug": {"accuracy": -0.2}, "sft_sg": {"accuracy": 0.1}}
    _, problems, _ = grid(opposite, seen_first={"sdpo_s": -0.3, "grpo": 0.0})
    found = verdicts(problems)
    assert found["SDPO with c = s cuts the OOD epistemic count most"] == "contradicted"
    assert found["at broad coverage"] == "contradicted"  # sdpo_s raised OOD accuracy
    assert found["narrow coverage lets SDPO with c = s gain on its training problems faster than GRPO"] == \
        "contradicted"
    assert found["Table 2: SFT on D_sg lowers OOD accuracy"] == "contradicted"
    assert found["Table 2: SFT on D_ug does not lower OOD accuracy"] == "contradicted"
    assert found["GRPO leaves the OOD epistemic count near the base model's"] == "contradicted"


def test_claims_are_inconclusive_when_the_noise_swamps_the_change():
    small = {"sdpo_s": {"accuracy": -0.04, "mean_epistemic": -0.2}, "grpo": {"accuracy": -0.04},
             "sdpo_s_nothink": {"mean_epistemic": -0.1}, "sft_ug": {"accuracy": -0.04}, "sft_sg": {"accuracy": -0.04}}
    _, problems, _ = grid(small, noise=0.4, seeds=(0,))
    found = verdicts(problems)
    for claim in ("SDPO with c = s cuts the OOD epistemic count most", "Table 2: SFT on D_sg lowers OOD accuracy",
                  "Table 2: SFT on D_ug does not lower OOD accuracy", "SDPO with c = s ends below the base on OOD"
                  " accuracy at every coverage"):
        assert found[claim] == "inconclusive", (claim, found)


def test_table1_orderings_come_out_each_way():
    rng = np.random.default_rng(1)

    def level(score, length, epistemic, noise=0.02):
        per = {"problem_id": PROBLEMS, "accuracy": list(score + rng.normal(0, noise, 60)),
               "mean_length": list(length + rng.normal(0, 1, 60)),
               "mean_epistemic": list(epistemic + rng.normal(0, 0.1, 60))}
        return {"per_problem": per}

    study = {"none": level(0.3, 100, 4), "s_nothink": level(0.75, 90, 3), "regen": level(0.95, 60, 1),
             "s": level(0.97, 50, 0.2)}
    found = verdicts(study_like()[1], richness_problems(study))
    assert [found[f"Table 1: {w}"] for w in ("score rises with richness: none < s_nothink < regen <= s",
                                              "length falls with richness: none > s_nothink > regen > s",
                                              "epistemic count falls with richness: none > s_nothink > regen > s")] \
        == ["holds"] * 3
    worse = {**study, "s": level(0.2, 50, 0.2)}  # the teacher shown s solves less than unguided
    assert verdicts(study_like()[1], richness_problems(worse))[
        "Table 1: score rises with richness: none < s_nothink < regen <= s"] == "contradicted"
    noisy = {k: level(0.5, 100 - i, 4 - i * 0.01, noise=0.4) for i, k in enumerate(study)}
    assert verdicts(study_like()[1], richness_problems(noisy))[
        "Table 1: score rises with richness: none < s_nothink < regen <= s"] == "inconclusive"


def test_intervals_in_the_tables_cover_the_planted_change():
    df, _, changes = study_like()
    final = changes[(changes["step"] == 10) & (changes["metric"] == "accuracy") & (changes["split"] == "ood")]
    sdpo = final[(final["method"] == "sdpo_s") & (final["coverage"] == "128")].iloc[0]
    assert sdpo["low"] < -0.15 < sdpo["high"] and sdpo["high"] - sdpo["low"] < 0.05 and sdpo["seeds"] == 3
    # grid.csv: one row per seed, each with its own change and interval over problems
    rows = df[(df["method"] == "sdpo_s") & (df["coverage"] == "128") & (df["split"] == "ood") & (df["step"] == 10)]
    assert sorted(rows["seed"]) == [0, 1, 2]
    assert ((rows["accuracy_change_low"] < rows["accuracy_change"])
            & (rows["accuracy_change"] < rows["accuracy_change_high"])).all()
    base_rows = df[df["step"] == 0]
    assert (base_rows["accuracy_change"] == 0).all()


def test_markdown_shows_every_claim_with_verdict_interval_and_rule():
    df, problems, changes = grid(STUDY_LIKE, seen_first={"sdpo_s": 0.3})
    verdicts = all_claims(problems)
    text = findings_markdown(df, problems, changes, verdicts, world="arith")
    claims_rows = [line for line in text.splitlines() if line.startswith("| ") and "**" in line]
    assert len(claims_rows) == len(verdicts)
    assert all(v in text for v in ("**holds**", "**not tested**"))
    assert "upper bound is below 0" in text and "premises" in text
    row = next(line for line in text.splitlines() if line.startswith("| 128 ") and "sdpo_s " in line)
    assert row.count("[") == 5  # every change column carries its interval


@pytest.mark.parametrize("n_seeds", [1, 3])
def test_bootstrap_interval_is_reproducible_and_covers_the_mean(n_seeds):
    from selfdistill.evaluation.uncertainty import bootstrap
    diff = np.random.default_rng(0).normal(0.1, 0.3, (n_seeds, 80))
    first, again = bootstrap(diff), bootstrap(diff)
    assert first == again
    assert first.low < diff.mean() < first.high


def test_probe_section_quotes_the_teacher_probabilities():
    probe = pd.DataFrame({"richness": ["none", "s", "none", "s"], "word": ["all", "all", "wait", "wait"],
                          "positions": [12, 12, 12, 12], "mean_probability": [0.61, 0.07, 0.61, 0.07],
                          "median_probability": [0.6, 0.05, 0.6, 0.05]})
    df, problems, changes = study_like()
    assert '"wait" none 0.610, s 0.070' in findings_markdown(df, problems, changes, all_claims(problems), probe)


def test_a_cell_that_trained_no_step_still_gets_its_change():
    """An SFT set can be empty (the test config allows it): the final model is then step 0, beside
    the base, and the tables still tell the two apart."""
    rng = np.random.default_rng(2)
    base = {("8x8", s): metrics({}, 0.0, rng) for s in ("seen", "in_domain", "ood")}
    evals = {("sft_sg", "8x8", 0, "final", s): metrics({"accuracy": -0.1}, 0.0, rng) for s in ("seen", "in_domain", "ood")}
    manifests = {("sft_sg", "8x8", 0): {"final_step": 0}}
    problems = problem_frame(evals, manifests, base)
    df = grid_frame(evals, manifests, base, problems)
    final = df[df["checkpoint"] == "final"]
    assert len(final) == 3 and final["accuracy_change"].to_numpy() == pytest.approx([-0.1] * 3)
