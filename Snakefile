# Self-distillation study pipeline: contexts -> teacher traces -> checkpoints -> evaluations -> figures.
# Rules live in workflow/rules/<stage>.smk; library code in workflow/selfdistill/.
from snakemake.utils import min_version

from selfdistill.config import read_config_file

min_version("9.0")
DEFAULT_CONFIG = f"{workflow.basedir}/config/config.yaml"
read_config_file(DEFAULT_CONFIG)  # a broken file is named with its line; Snakemake's message names neither


configfile: DEFAULT_CONFIG


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
