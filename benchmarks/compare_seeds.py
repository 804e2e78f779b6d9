"""The default study's runs at world/base seeds 0, 1 and 2 side by side: Section 3 (Table 1), the
base model's testbed properties, every claim's verdict, and the wall time of each run.
Usage: python benchmarks/compare_seeds.py benchmarks/seeds   (folders seed0, seed1, ... inside)."""
import json
import sys
from pathlib import Path

import pandas as pd


def section3(runs: dict[str, Path]) -> str:
    rows = []
    for name, d in runs.items():
        t = pd.read_csv(d / "richness.csv").set_index("richness")
        for level in t.index:
            r = t.loc[level]
            rows.append({"run": name, "c": level, "score": f"{r['score']:.3f} +- {r['score_se']:.3f}",
                         "length": f"{r['mean_length']:.1f}", "epistemic": f"{r['mean_epistemic']:.2f}"})
    return pd.DataFrame(rows).to_markdown(index=False)


def base(runs: dict[str, Path]) -> str:
    rows = []
    for name, d in runs.items():
        b = json.loads((d / "base_model.json").read_text())
        rows.append({"run": name, **{f"{split} acc": f"{b[split]['accuracy']:.3f} +- {b[split]['accuracy_se']:.3f}"
                                     for split in ("in_domain", "ood")},
                     "OOD epistemic": f"{b['ood']['mean_epistemic']:.2f}",
                     **{f"{split} ban effect": "{estimate:+.3f} [{low:+.3f}, {high:+.3f}]".format(**b[split]["ban_effect"])
                        for split in ("in_domain", "ood")}})
    return pd.DataFrame(rows).to_markdown(index=False)


def verdicts(runs: dict[str, Path]) -> str:
    runs = {name: d for name, d in runs.items() if (d / "claims.csv").exists()}
    if not runs:
        return "No run has reached the grid's summary."
    table = pd.concat({name: pd.read_csv(d / "claims.csv").set_index("claim")["verdict"] for name, d in runs.items()},
                      axis=1)
    flips = [claim for claim, row in table.iterrows() if {"holds", "contradicted"} <= set(row)]
    return table.reset_index().to_markdown(index=False) + "\n\nClaims that flip between holds and contradicted: " \
        + (", ".join(flips) if flips else "none") + "."


def times(runs: dict[str, Path]) -> str:
    return "\n".join(f"- {line}" for d in runs.values() if (d / "time.txt").exists()
                     for line in (d / "time.txt").read_text().splitlines() if not line.startswith("#"))


def main(folder: str) -> None:
    runs = {d.name: d for d in sorted(Path(folder).iterdir()) if (d / "richness.csv").exists()}
    print("# The default study at three world/base seeds\n\nProduced by `bash benchmarks/seed_runs.sh`.\n")
    print("## Wall time\n\n" + times(runs) + "\n")
    print("## Base model (mean +- standard error; ban effect: banned minus normal accuracy, 95% interval)\n")
    print(base(runs) + "\n\n## Section 3 (Table 1 analog)\n\n" + section3(runs) + "\n")
    print("## Verdicts (runs that reached the grid's summary)\n\n" + verdicts(runs))


if __name__ == "__main__":
    main(sys.argv[1])
