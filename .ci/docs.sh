#!/usr/bin/env bash
# Build the documentation site with warnings as errors; the notebooks are executed during the build
# (docs/conf.py: myst-nb, a failing cell fails the build). Needs the docs extra:
#   pip install -e ".[docs]"
# Usage: bash .ci/docs.sh   (output in docs/_build/html)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# progress bars off: their output would end up in the rendered notebooks
CLVMODELS_PROGRESS=0 python -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs built in $(( $(date +%s) - started )) s: docs/_build/html/index.html"
