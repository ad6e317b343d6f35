#!/bin/bash
# Run benchmarks on an earlier commit and on this working tree in one go, on the same machine, and keep
# each one's JSON: the way the closing notes compare a change with its baseline.
#   benchmarks/side_by_side.sh REV OUT_DIR 'ingest --events 50000' 'transform --events 1000000' ...
# The earlier commit is checked out in a throwaway git worktree and run with this tree's virtual
# environment (PYTHONPATH puts its packages first).
set -euo pipefail
rev=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
python=$here/.venv/bin/python
base=$(mktemp -d)
git -C "$here" worktree add --quiet --detach "$base" "$rev"
trap 'git -C "$here" worktree remove --force "$base"' EXIT
mkdir -p "$out"
for command in "$@"; do
  name=$(echo "$command" | tr -cs 'a-z0-9' '_' | sed 's/_$//')
  for side in base new; do
    tree=$([ $side = base ] && echo "$base" || echo "$here")
    # shellcheck disable=SC2086 - the command's words are the CLI's arguments
    (cd "$tree" && PYTHONPATH=$tree HF_HUB_OFFLINE=1 "$python" -c "from learnlake.cli import main; main()" \
      bench $command --json > "$out/${name}_$side.json" 2> "$out/${name}_$side.log")
    echo "$side: $command -> $out/${name}_$side.json"
  done
done
