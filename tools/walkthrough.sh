#!/usr/bin/env bash
# The README's "try it" path, timed as a newcomer would walk it: a fresh clone of this
# repository, `make try` (which installs .venv and starts a local STS), the printed export
# lines, then `awsrun -v prodaccess -- true` twice (through STS, then from the cache).
# Nothing reaches AWS. Usage: tools/walkthrough.sh
set -euo pipefail
source_repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
# make try, its Python and moto's server in one process group of their own, ended together.
set -m
trap 'kill -- "-${try_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
started=$(date +%s.%N)
git clone -q "$source_repo" "$work/awsrun"
cd "$work/awsrun"
make try > "$work/try.out" 2>&1 &
try_pid=$!
for _ in $(seq 1 1200); do  # at most 10 minutes
    grep -q "# then:" "$work/try.out" 2>/dev/null && break
    sleep 0.5
done
ready=$(date +%s.%N)
eval "$(grep '^export ' "$work/try.out")"
awsrun -v prodaccess -- true
awsrun -v prodaccess -- true
finished=$(date +%s.%N)
python3 -c "import sys; s, r, f = map(float, sys.argv[1:]); print(f'walkthrough: local STS ready after {r - s:.0f} s (clone and install), a cached role run after {f - s:.0f} s')" "$started" "$ready" "$finished"
