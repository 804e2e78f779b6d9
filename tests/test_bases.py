"""Base models as an axis: verdicts pooled over bases by the hierarchical bootstrap, from synthetic
grids whose bases agree or spread apart; and the workflow's jobs per base, from dry runs."""
import json
import re

import numpy as np
import pytest
from conftest import TEST_CONFIG, scheduled, snakemake
from test_findings import metrics

from selfdistill.evaluation.uncertainty import bootstrap, hierarchical
from selfdistill.reporting.claims import all_claims, claims_by_base, claims_table
from selfdistill.reporting.findings import findings_markdown
from selfdistill.reporting.grid_summary import change_frame, grid_frame, problem_frame, with_bases

CLAIM = "at broad coverage (128) SDPO with c = s lowers OOD accuracy"
POOLED = {"grid_summary", "job_times", "bases_summary", "all"}


def base_grid(sdpo_shift: float, rng: np.random.Generator, sft_steps: int = 10):
    """One base model's grid: sdpo_s moves OOD accuracy by `sdpo_shift`, grpo by nothing; three
    seeds at 8x8 and 128, little noise per problem, so each base alone is sure of its change."""
    evals, manifests = {}, {}
    base = {(c, s): metrics({}, 0.0, rng) for c in ("8x8", "128") for s in ("seen", "in_domain", "ood")}
    for method, shift in (("sdpo_s", {"accuracy": sdpo_shift}), ("grpo", {}), ("sft_sg", {})):
        for coverage in ("8x8", "128"):
            for seed in (0, 1, 2):
                manifests[method, coverage, seed] = {"final_step": sft_steps if method == "sft_sg" else 10}
                for split in ("seen", "in_domain", "ood"):
                    evals[method, coverage, seed, "final", split] = metrics(shift, 0.01, rng)
    problems = problem_frame(evals, manifests, base)
    return grid_frame(evals, manifests, base, problems), problems


def pooled_grid(shifts: list[float]):
    rng = np.random.default_rng(0)
    # an SFT cell's one checkpoint comes after as many steps as its base's data set gives
    grids = {b: base_grid(shift, rng, sft_steps=14 + b) for b, shift in enumerate(shifts)}
    return with_bases({b: g[0] for b, g in grids.items()}), with_bases({b: g[1] for b, g in grids.items()})


def verdict(verdicts, claim=CLAIM) -> str:
    return next(v.verdict for v in verdicts if v.claim == claim)


@pytest.mark.parametrize("shifts, pooled", [
    # every base's sdpo_s loses OOD accuracy, but by 0.30 at one and 0.02 at the others: three
    # base models this far apart cannot say the next one would lose any
    ([-0.30, -0.02, -0.02], "inconclusive"),
    # three bases that agree: the claim survives their spread
    ([-0.15, -0.14, -0.16], "holds"),
])
def test_base_to_base_spread_decides_the_pooled_verdict(shifts, pooled):
    _, problems = pooled_grid(shifts)
    per_base = claims_by_base(problems)
    assert [verdict(v) for v in per_base.values()] == ["holds"] * 3
    assert verdict(all_claims(problems)) == pooled


def test_one_base_is_the_seeds_and_problems_bootstrap():
    diff = np.random.default_rng(3).normal(-0.1, 0.3, (3, 50))
    assert hierarchical([diff]) == bootstrap(diff)
    _, problems = pooled_grid([-0.15])
    assert [v.verdict for v in all_claims(problems)] == [v.verdict for v in claims_by_base(problems)[0]]


def test_pooled_interval_widens_with_spread_and_pairs_each_cell_with_its_own_base():
    df, problems = pooled_grid([-0.30, -0.02, -0.02])
    changes = change_frame(problems)
    row = changes[(changes["method"] == "sdpo_s") & (changes["coverage"] == "128") & (changes["split"] == "ood")
                  & (changes["metric"] == "accuracy")].iloc[0]
    # the mean of the three bases' changes, each against its own base model
    assert row["change"] == pytest.approx(np.mean([-0.30, -0.02, -0.02]), abs=0.005) and row["bases"] == 3
    assert row["low"] < -0.30 and row["high"] > 0
    # each base's one SFT checkpoint, at steps 14, 15 and 16, pooled as one row
    sft = changes[(changes["method"] == "sft_sg") & (changes["split"] == "ood") & (changes["metric"] == "accuracy")]
    assert list(sft["step"]) == [16, 16] and set(sft["bases"]) == {3}
    # grid.csv keeps each base's own rows
    assert sorted(df["base"].unique()) == [0, 1, 2]


def test_claims_table_and_findings_show_each_base_beside_the_pooled_verdict():
    df, problems = pooled_grid([-0.30, -0.02, -0.02])
    verdicts, per_base = all_claims(problems), claims_by_base(problems)
    table = claims_table(verdicts, per_base).set_index("claim")
    assert list(table.loc[CLAIM, ["verdict", "base 0", "base 1", "base 2"]]) == ["inconclusive"] + ["holds"] * 3
    text = findings_markdown(df, problems, change_frame(problems), verdicts, per_base=per_base)
    assert "| claim | pooled | base 0 | base 1 | base 2 |" in text
    assert next(line for line in text.splitlines() if line.startswith(f"| {CLAIM} |")).startswith(
        f"| {CLAIM} | **inconclusive** | holds | holds | holds |")
    assert "base models 0, 1, 2" in text and "Pooled: each interval resamples the base models" in text
    # one base: claims.csv and findings.md as they were
    _, single = pooled_grid([-0.15])
    one = claims_by_base(single)
    assert "base 0" not in claims_table(all_claims(single), one).columns


def dry_run(workdir, *configs):
    return snakemake(workdir, "-n", "-p", "--cores", "2", "--configfile", str(TEST_CONFIG), *map(str, configs))


@pytest.fixture
def two_bases(tmp_path):
    extra = tmp_path / "bases.yaml"
    extra.write_text("bases: [0, 1]\n")
    return extra


def test_each_base_gets_its_own_jobs_with_its_own_seeds(tmp_path, two_bases):
    one, two = scheduled(dry_run(tmp_path / "one")), dry_run(tmp_path / "two", two_bases)
    jobs = scheduled(two)
    assert jobs == {**{rule: 2 * n for rule, n in one.items() if rule not in POOLED}, **dict.fromkeys(POOLED, 1)}
    assert jobs["base_model"] == 2 and jobs["world"] == 6
    # each job is given its base's seeds: the world's, the pretraining's, the evaluations'
    seeds = {}
    for stage, params in re.findall(r"selfdistill\.stages\.(\w+) .*?--params '(\{.*?\})'", two.stdout):
        p = json.loads(params)
        seeds.setdefault(stage, set()).add(p.get("seed", p.get("sampling", p.get("train", {})).get("seed")))
    assert seeds["world"] == seeds["base_model"] == seeds["coverage"] == {0, 1}
    assert {0, 1} <= seeds["sample"] and {0, 1} <= seeds["select_problems"]


def test_adding_a_base_runs_only_that_base_and_the_summaries(test_run, tmp_path, two_bases):
    fresh = scheduled(dry_run(tmp_path))
    run = dry_run(test_run, two_bases)
    assert scheduled(run) == {**{rule: n for rule, n in fresh.items() if rule not in POOLED},
                              **dict.fromkeys(POOLED, 1)}
    bases = set(re.findall(r"^    wildcards: .*?\bbase=(\d+)", run.stdout, flags=re.M))
    assert bases == {"1"}
