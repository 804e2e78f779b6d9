"""A pooled OOD split is reported per benchmark too: in the metrics, grid.csv, the base model
summary, findings.md and the figures; the arithmetic world's single OOD split stays as it is."""
import pytest

from selfdistill.evaluation.per_benchmark import split_label, with_benchmarks
from selfdistill.reporting.analysis import base_summary, plot_base
from selfdistill.reporting.claims import all_claims
from selfdistill.reporting.findings import findings_markdown
from selfdistill.reporting.grid_figures import plot_coverage, plot_curves, plot_words
from selfdistill.reporting.grid_summary import change_frame, grid_frame, problem_frame


def samples(prefix: str, problems: int, correct: int, text: str = "Wait, so 3.") -> list[dict]:
    """Two samples per problem; the first `correct` problems are solved both times."""
    return [{"problem_id": f"{prefix}{i}", "correct": i < correct, "num_tokens": 10, "text": text}
            for i in range(problems) for _ in range(2)]


def ood(aime: int, math500: int) -> dict:
    """A pooled OOD evaluation: 4 AIME problems and 20 MATH500 ones (ids as the math world makes them)."""
    return with_benchmarks(samples("aime24/", 4, aime) + samples("math500/test/algebra/", 20, math500))


def test_a_pooled_split_is_summarized_per_benchmark():
    m = ood(aime=1, math500=18)
    assert m["num_problems"] == 24 and m["accuracy"] == pytest.approx(19 / 24)
    assert {name: b["accuracy"] for name, b in m["benchmarks"].items()} == {"aime24": 0.25, "math500": 0.9}
    assert m["benchmarks"]["math500"]["num_problems"] == 20
    # arithmetic ids name no benchmark, and one benchmark alone is not broken down
    assert "benchmarks" not in with_benchmarks(samples("7:add2,", 5, 2))
    assert "benchmarks" not in with_benchmarks(samples("aime24/", 5, 2))


@pytest.fixture
def grid():
    plain = with_benchmarks(samples("p", 10, 5))
    base = {("8x8", "seen"): plain, ("8x8", "in_domain"): plain, ("8x8", "ood"): ood(aime=2, math500=10)}
    evals = {("sdpo_s", "8x8", 0, "final", "seen"): plain, ("sdpo_s", "8x8", 0, "final", "in_domain"): plain,
             ("sdpo_s", "8x8", 0, "final", "ood"): ood(aime=0, math500=11)}
    manifests = {("sdpo_s", "8x8", 0): {"final_step": 10}}
    problems = problem_frame(evals, manifests, base)
    return grid_frame(evals, manifests, base, problems), problems, change_frame(problems)


def test_grid_table_has_a_row_per_benchmark_beside_the_pooled_one(grid):
    table, _, changes = grid
    final = table[table["checkpoint"] == "final"].set_index("split")["accuracy"]
    assert final.to_dict() == pytest.approx({"seen": 0.5, "in_domain": 0.5, "ood": 11 / 24, "ood/aime24": 0.0,
                                             "ood/math500": 0.55})
    acc = changes[changes["metric"] == "accuracy"].set_index("split")
    assert acc.loc["ood/aime24", "change"] == pytest.approx(-0.5)
    assert acc.loc["ood/math500", "change"] == pytest.approx(0.05)
    assert acc.loc["ood/aime24", "low"] <= -0.5 <= acc.loc["ood/aime24", "high"]


def test_findings_and_figures_report_each_benchmark(grid, tmp_path):
    table, problems, changes = grid
    text = findings_markdown(table, problems, changes, all_claims(problems))
    assert "## Accuracy per benchmark" in text
    section = text.split("## Accuracy per benchmark")[1]
    row = next(line for line in section.splitlines() if line.startswith("| 8x8 ") and "sdpo_s" in line)
    assert row.count("[") == 3 and "-0.042 [" in row and "-0.500 [" in row and "+0.050 [" in row
    assert "ood (pooled)" in text
    assert split_label("ood", table["split"].unique()) == "ood, pooled over 2 benchmarks"
    assert split_label("in_domain", table["split"].unique()) == "in_domain"
    for plot, data, name in ((plot_curves, changes, "curves.png"), (plot_coverage, changes, "coverage.png"),
                             (plot_words, table, "words.png")):
        plot(data, str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0


def test_base_summary_gives_each_benchmark(tmp_path):
    summary = base_summary({"ood": {"normal": ood(aime=3, math500=10), "banned": ood(aime=1, math500=10)},
                            "in_domain": {"normal": with_benchmarks(samples("p", 4, 2)),
                                          "banned": with_benchmarks(samples("p", 4, 1))}})
    assert set(summary) == {"ood", "ood/aime24", "ood/math500", "in_domain"}
    assert (summary["ood/aime24"]["accuracy"], summary["ood/aime24"]["accuracy_epistemic_banned"]) == (0.75, 0.25)
    plot_base(summary, str(tmp_path / "base.png"))
    assert (tmp_path / "base.png").stat().st_size > 0
