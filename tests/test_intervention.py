"""Is suppressed doubt the cause? The intervention arms' verdict comes out supported, contradicted
or inconclusive by its stated rule, on synthetic grids built to make it come out each way."""
import pytest
from test_findings import STUDY_LIKE, grid

from selfdistill.reporting.claims import all_claims
from selfdistill.reporting.findings import findings_markdown
from selfdistill.reporting.grid_figures import plot_intervention

MECHANISM = "suppressed doubt is the cause: {} keeps OOD epistemic count and OOD accuracy above sdpo_s"
KEEPS_ALL = {"accuracy": 0.0, "mean_length": -40, "mean_epistemic": -0.2}  # doubt and OOD accuracy kept
KEEPS_DOUBT_ONLY = {"accuracy": -0.15, "mean_length": -40, "mean_epistemic": -0.2}  # doubt kept, accuracy lost
LOSES_DOUBT = {"accuracy": -0.05, "mean_length": -40, "mean_epistemic": -3.0}  # the arm failed its purpose


def found(shifts, noise=0.02, seeds=(0, 1, 2)):
    df, problems, changes = grid(shifts, noise=noise, seeds=seeds)
    return {v.claim: v for v in all_claims(problems)}, findings_markdown(df, problems, changes, all_claims(problems))


@pytest.mark.parametrize(("keepdoubt", "doubtful", "expected"), [
    (KEEPS_ALL, KEEPS_ALL, ("holds", "holds")),
    (KEEPS_DOUBT_ONLY, KEEPS_ALL, ("contradicted", "holds")),
    (LOSES_DOUBT, KEEPS_DOUBT_ONLY, ("inconclusive", "contradicted")),
])
def test_mechanism_verdict_comes_out_each_way(keepdoubt, doubtful, expected):
    verdicts, markdown = found({**STUDY_LIKE, "sdpo_s_keepdoubt": keepdoubt, "sdpo_s_doubtful": doubtful})
    assert (verdicts[MECHANISM.format("sdpo_s_keepdoubt")].verdict,
            verdicts[MECHANISM.format("sdpo_s_doubtful")].verdict) == expected
    section = markdown.split("## Is suppressed doubt the cause?")[1]
    assert f"**{expected[0]}**: {MECHANISM.format('sdpo_s_keepdoubt')}" in section
    assert "Rule: supported (holds) if" in section
    # the arms' changes beside sdpo_s's and grpo's, each with its interval, at both coverages
    rows = [line for line in section.splitlines() if line.startswith("| 8x8") or line.startswith("| 128")]
    assert sorted({line.split("|")[2].strip() for line in rows}) == \
        ["grpo", "sdpo_s", "sdpo_s_doubtful", "sdpo_s_keepdoubt"]
    keep = next(line for line in rows if "sdpo_s_keepdoubt" in line and line.startswith("| 128"))
    low, high = (float(x) for x in keep.split("|")[3].split("[")[1].rstrip("] ").split(","))
    assert low < keepdoubt["accuracy"] < high
    assert "sdpo_s_keepdoubt - grpo" in verdicts[MECHANISM.format("sdpo_s_keepdoubt")].measured


def test_mechanism_is_inconclusive_when_noise_swamps_the_arms():
    verdicts, _ = found({**STUDY_LIKE, "sdpo_s": {"accuracy": -0.02, "mean_epistemic": -0.3},
                         "sdpo_s_keepdoubt": {"accuracy": 0.0, "mean_epistemic": 0.0}}, noise=0.4, seeds=(0,))
    assert verdicts[MECHANISM.format("sdpo_s_keepdoubt")].verdict == "inconclusive"


def test_grid_without_arms_says_not_tested():
    verdicts, markdown = found(STUDY_LIKE)
    assert {verdicts[MECHANISM.format(arm)].verdict for arm in ("sdpo_s_keepdoubt", "sdpo_s_doubtful")} == \
        {"not tested"}
    assert "Not tested: the grid has no intervention arm" in markdown


@pytest.mark.parametrize("shifts", [{**STUDY_LIKE, "sdpo_s_keepdoubt": KEEPS_ALL}, {"sft_ug": {"accuracy": 0.0}}])
def test_intervention_figure_is_drawn_with_or_without_the_arms(tmp_path, shifts):
    _, _, changes = grid(shifts, seeds=(0,))
    plot_intervention(changes, str(tmp_path / "fig.png"))
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"
