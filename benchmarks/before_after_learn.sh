#!/usr/bin/env bash
# Training speed alone (learn() on the zoo's VecEnv stack, one torch thread: benchmarks/throughput.py) with an earlier
# version of this repository ("before") and with this checkout ("after"), alternating run by run on the same machine.
#
#   bash benchmarks/before_after_learn.sh <commit> <env id> <steps> <repeats>
#   bash benchmarks/before_after_learn.sh e9bc296 Pixelcopter-PLE-v0 200000 3
#
# Each side uses its own code and its own hyperparams/reinforce.yml (its zoo entry: n_envs, network, ...).
set -euo pipefail
commit=$1 env_id=$2 steps=$3 repeats=$4
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/before" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add --detach "$work/before" "$commit" >/dev/null

for repeat in $(seq "$repeats"); do
    for side in before after; do
        code=$repo
        [ "$side" = before ] && code=$work/before
        PYTHONPATH="$code" python "$repo/benchmarks/throughput.py" --env "$env_id" --steps "$steps" --repeats 1 \
            --seed "$repeat" --no-raw --out "$work/$side-$repeat.json" >/dev/null
    done
done

python - "$work" "$env_id" "$repeats" <<'EOF'
import json, statistics, sys
work, env_id, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
rates = {side: [json.load(open(f"{work}/{side}-{r}.json"))["results"][env_id]["train_1_wall"][0] for r in range(1, repeats + 1)]
         for side in ("before", "after")}
print(f"{env_id}, learn() on the zoo entry, env steps/s (one torch thread), runs: {rates}")
before, after = statistics.median(rates["before"]), statistics.median(rates["after"])
print(f"| {env_id} | {before:,.0f} | {after:,.0f} | {after / before:.2f}x |")
EOF
