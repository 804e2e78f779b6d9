# Self-distillation study pipeline: contexts -> teacher traces -> checkpoints -> evaluations -> figures.
# Rules live in workflow/rules/<stage>.smk; library code in workflow/selfdistill/.
from snakemake.utils import min_version

min_version("9.0")


configfile: f"{workflow.basedir}/config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/world.smk"
include: "workflow/rules/base_model.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/section3.smk"
include: "workflow/rules/grid.smk"


rule all:
    input:
        rules.base_summary.output,
        rules.richness_table.output,
        rules.grid_summary.output,
