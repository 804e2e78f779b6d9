"""findings.md: what the grid shows, in plain words and numbers, next to what the study reports.

Every number comes from the tidy grid table (grid_summary.grid_frame); each of the study's claims
is checked by a stated rule, so a reader can see which hold here and which do not.
"""
from __future__ import annotations

import pandas as pd

from .coverage import LEVELS
from .grid_summary import final_change
from .per_benchmark import benchmark_markdown

COLUMNS = (("accuracy", "ood", "OOD acc"), ("accuracy", "in_domain", "in-domain acc"),
           ("accuracy", "seen", "seen acc"), ("mean_length", "ood", "OOD length"),
           ("mean_epistemic", "ood", "OOD epistemic"))
# the on-policy comparison the study draws (Sections 5-6)
CONTRAST = ("sdpo_s", "sdpo_s_nothink", "grpo")


def change_table(df: pd.DataFrame) -> pd.DataFrame:
    """Rows (coverage, method), one column per COLUMNS entry: final checkpoint minus base."""
    parts = []
    for metric, split, label in COLUMNS:
        c = final_change(df, metric)
        c = c[c["split"] == split].set_index(["coverage", "method"])[metric].rename(label)
        parts.append(c)
    table = pd.concat(parts, axis=1).reset_index()
    table["order"] = table["coverage"].map({c: i for i, c in enumerate(LEVELS)})
    return table.sort_values(["order", "method"]).drop(columns="order").set_index(["coverage", "method"])


def base_values(df: pd.DataFrame) -> pd.DataFrame:
    """The base model's values (step 0) per coverage, same columns as change_table."""
    base = df[df["step"] == 0].drop_duplicates(["coverage", "split"])
    out = {label: base[base["split"] == split].set_index("coverage")[metric] for metric, split, label in COLUMNS}
    return pd.DataFrame(out)


def first_gain(df: pd.DataFrame, method: str, coverage: str, split: str) -> float | None:
    """Accuracy change from the base to a cell's first evaluated checkpoint (mean over seeds)."""
    cell = df[(df["method"] == method) & (df["coverage"] == coverage) & (df["split"] == split)]
    if cell.empty or cell["step"].max() == 0:
        return None
    first = cell[cell["step"] > 0]["step"].min()
    return float(cell[cell["step"] == first]["accuracy"].mean() - cell[cell["step"] == 0]["accuracy"].mean())


def claims(change: pd.DataFrame, df: pd.DataFrame) -> list[tuple[str, str, bool | None]]:
    """(the study's claim, what the grid measured, whether it holds; None if the grid lacks the cells)."""
    out = []
    methods = set(change.index.get_level_values("method"))
    coverages = [c for c in LEVELS if c in set(change.index.get_level_values("coverage"))]
    contrast = [m for m in CONTRAST if m in methods]
    for label, what in (("OOD epistemic", "epistemic count"), ("OOD length", "length")):
        if len(contrast) < 2:
            break
        per = change[label].unstack("method")[contrast]
        most = per.idxmin(axis=1)
        n = int((most == "sdpo_s").sum())
        shown = "; ".join(f"{cov}: " + ", ".join(f"{m} {per.loc[cov, m]:+.2f}" for m in contrast) for cov in per.index)
        out.append((f"SDPO with c = s cuts the {what} most", f"lowest at {n} of {len(per)} coverage levels ({shown})",
                    n == len(per)))
    if {"sdpo_s", "grpo"} <= methods and coverages:
        broad = coverages[-1]
        sdpo, grpo = change.loc[(broad, "sdpo_s"), "OOD acc"], change.loc[(broad, "grpo"), "OOD acc"]
        out.append((f"at broad coverage ({broad}) SDPO with c = s lowers OOD accuracy and GRPO does not",
                    f"OOD accuracy change: sdpo_s {sdpo:+.3f}, grpo {grpo:+.3f}", bool(sdpo < 0 and grpo > sdpo)))
    if {"sdpo_s", "grpo"} <= methods and len(coverages) > 1:
        narrow = coverages[0]
        gains = {m: first_gain(df, m, narrow, "seen") for m in ("sdpo_s", "grpo")}
        if None not in gains.values():
            out.append((f"narrow coverage ({narrow}) lets SDPO gain on its training problems fastest",
                        f"seen accuracy change at the first checkpoint: sdpo_s {gains['sdpo_s']:+.3f}, "
                        f"grpo {gains['grpo']:+.3f}", gains["sdpo_s"] > gains["grpo"]))
    if {"sft_ug", "sft_sg"} <= methods:
        ug = change.xs("sft_ug", level="method")["OOD acc"].mean()
        sg = change.xs("sft_sg", level="method")["OOD acc"].mean()
        out.append(("SFT on D_sg lowers OOD accuracy more than SFT on D_ug (Table 2)",
                    f"OOD accuracy change, mean over coverage: sft_ug {ug:+.3f}, sft_sg {sg:+.3f}", bool(sg < ug)))
    return out


def probe_lines(probe: pd.DataFrame) -> list[str]:
    """The mechanism: the teacher's probability of the student's epistemic words by richness."""
    head = ["## Why: the teacher's view of the student's doubts", ""]
    if probe.empty:
        return head + ["The unguided student's Section 3 traces hold no epistemic word, so there is nothing to probe.", ""]
    by = probe.set_index(["word", "richness"])
    levels = list(dict.fromkeys(probe["richness"]))
    said = "; ".join(f'"{w}" ' + ", ".join(f"{lv} {by.loc[(w, lv), 'mean_probability']:.3f}" for lv in levels)
                     for w in ("wait", "hmm") if (w, levels[0]) in by.index)
    return head + [
        "Where the unguided student (Section 3, c = none) wrote an epistemic word, the mean probability",
        "the same model gives that word once its context holds each richness level. The words that open a",
        f"doubt: {said or 'none written'}. Self-distillation pulls the student toward these probabilities at",
        "exactly those tokens; words inside a doubt that is already under way keep their probability.", "",
        probe.to_markdown(index=False, floatfmt=".3f"), ""]


def teacher_score_lines(richness: pd.DataFrame) -> list[str]:
    """Whether the teacher solves better than the student: SDPO can only pull the student's answers
    up if it does (Section 3's score at c = s against c = none)."""
    score = richness.set_index("richness")["score"]
    verdict = "better" if score["s"] > score["none"] else "no better"
    return ["## Is the teacher a better solver?", "",
            f"In Section 3 the model solves {score['none']:.3f} of its training problems unguided and "
            f"{score['s']:.3f} when shown a correct solution (c = s): as a teacher it is {verdict} than the student.",
            "Where it is no better, self-distillation passes on the teacher's confident style but not better answers,",
            "so the student's scores on its own training problems need not rise at any coverage.", ""]


def findings_markdown(df: pd.DataFrame, probe: pd.DataFrame | None = None,
                      richness: pd.DataFrame | None = None) -> str:
    change, base = change_table(df), base_values(df)
    verdict = {True: "holds", False: "does not hold", None: "not measured"}
    lines = ["# Findings of the distillation grid", "",
             "Generated from `results/summary/grid.csv`: each cell's final checkpoint minus the base model",
             "(mean over seeds). Accuracy is avg@k; length in tokens; epistemic count per response by the",
             "study's substring rule.", "", "## The study's claims, checked", ""]
    lines += [f"- **{claim}**: {verdict[ok]}. Measured: {measured}." for claim, measured, ok in claims(change, df)]
    lines += ["", "## Base model", "", base.reset_index().to_markdown(index=False, floatfmt=".3f"), "",
              "## Change from the base, per coverage level and method", "", change.reset_index().to_markdown(index=False, floatfmt="+.3f"), ""]
    if probe is not None:
        lines += probe_lines(probe)
    if richness is not None:
        lines += teacher_score_lines(richness)
    return "\n".join(lines) + benchmark_markdown(df)
