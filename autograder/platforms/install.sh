#!/usr/bin/env bash
# The grading image's one install path: Gradescope's setup.sh, the PrairieLearn
# image and the repository's Dockerfile all run this script.
#
#   install.sh DIR     DIR holds requirements.txt and constraints.txt
#
# It installs Python (with apt, only when there is no python3 with pip), the
# CPU build of torch, then the other runtime dependencies as the ranges
# pyproject.toml declares; never the kit itself, so the reference, the rubric
# and the hidden seed are in no site-packages that every user can read.
#   AUTOGRADER_PYTHON  the interpreter to install into (default python3)
#   TORCH_INDEX_URL    where the CPU build of torch comes from; empty: pip's own
#                      configuration (a local wheel folder, a mirror)
set -euo pipefail
DIR="${1:?usage: install.sh DIR (a folder holding requirements.txt and constraints.txt)}"
PYTHON="${AUTOGRADER_PYTHON:-python3}"
for needed in requirements.txt constraints.txt; do
  [ -f "$DIR/$needed" ] || { echo "install.sh: $DIR/$needed is missing" >&2; exit 2; }
done

if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-pip >/dev/null
  else
    echo "install.sh: $PYTHON has no pip, and apt-get cannot install it here" >&2
    exit 2
  fi
fi

export PIP_BREAK_SYSTEM_PACKAGES=1     # newer Debian and Ubuntu images mark the system Python as externally managed
TORCH_PIN="$(grep -E '^torch==' "$DIR/constraints.txt" | head -n 1)"
[ -n "$TORCH_PIN" ] || { echo "install.sh: $DIR/constraints.txt pins no torch==VERSION" >&2; exit 2; }
# The CPU build of torch first (a plain install pulls CUDA, several GB), then the rest.
TORCH_INDEX_URL="${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}"
if [ -n "$TORCH_INDEX_URL" ]; then
  "$PYTHON" -m pip install --no-cache-dir "$TORCH_PIN" --index-url "$TORCH_INDEX_URL"
else
  "$PYTHON" -m pip install --no-cache-dir "$TORCH_PIN"
fi
"$PYTHON" -m pip install --no-cache-dir -c "$DIR/constraints.txt" -r "$DIR/requirements.txt"
