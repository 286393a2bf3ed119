# Sourced by scripts/run and scripts/test: makes .venv with Python >= 3.11 and installs the project.
# Usage: . scripts/_venv.sh [dev]
set -euo pipefail
extras="${1:-}"
PY=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PY="$candidate"; break
  fi
done
if [ -z "$PY" ]; then echo "需要 Python 3.11 或更新版本 (Python >= 3.11 is required)" >&2; exit 1; fi
if [ ! -x .venv/bin/python ]; then
  echo ">> creating .venv with $PY"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
spec="."
[ "$extras" = "dev" ] && spec=".[dev]"
stamp=".venv/.wuye-installed${extras:+-$extras}"
# Reinstall only when the dependency list changed, so a second run starts in seconds.
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo ">> installing wuye $spec"
  .venv/bin/python -m pip install -q -e "$spec"
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
