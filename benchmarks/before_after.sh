#!/usr/bin/env bash
# Training time of a zoo entry with an earlier version of this repository ("before") and with this checkout ("after"),
# seed by seed, alternating, on the same machine: the absolute speed-up, learning results included.
#
#   bash benchmarks/before_after.sh <commit> <env id> <eval freq> <seed>...
#   bash benchmarks/before_after.sh e9bc296 CartPole-v1 10000 0 1 2 3 4
#
# "before" runs its own code and its own hyperparams/reinforce.yml from a temporary git worktree of <commit>; both run
# benchmarks/zoo_results.py (the README's command: one process, one torch thread, periodic evaluations included) and
# print its table. Results go to a temporary folder, removed at the end (the worktree too).
set -euo pipefail
# Python's default: modules compiled once, then read from __pycache__. Without it (PYTHONDONTWRITEBYTECODE=1, set on some
# CI machines) every start compiles torch and the zoo from source, seconds that would hide the difference.
unset PYTHONDONTWRITEBYTECODE
commit=$1 env_id=$2 eval_freq=$3
shift 3
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/before" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add --detach "$work/before" "$commit" >/dev/null

for seed in "$@"; do
    (cd "$work/before" && PYTHONPATH="$work/before" python benchmarks/zoo_results.py --env "$env_id" --seeds "$seed" \
        --eval-freq "$eval_freq" --logs "$work/logs_before" --out "$work/out_before" | tail -1)
    (cd "$repo" && python benchmarks/zoo_results.py --env "$env_id" --seeds "$seed" \
        --eval-freq "$eval_freq" --logs "$work/logs_after" --out "$work/out_after" | tail -1)
done

python - "$work" "$env_id" <<'EOF'
import json, statistics, sys
work, env_id = sys.argv[1], sys.argv[2]
runs = {side: json.load(open(f"{work}/out_{side}/{env_id}.json")) for side in ("before", "after")}
print(f"\n{env_id}: training time per seed (s), periodic evaluations included")
print("| seed | before (s) | after (s) | speed-up | before: course score / SB3 mean | after: course score / SB3 mean |")
print("|---:|---:|---:|---:|---|---|")
def by_seed(side):
    return {run["seed"]: run for run in runs[side]}
before, after = by_seed("before"), by_seed("after")
for seed in sorted(after):
    b, a = before[seed], after[seed]
    print(f"| {seed} | {b['train_seconds']:.1f} | {a['train_seconds']:.1f} | {b['train_seconds'] / a['train_seconds']:.2f}x "
          f"| {b['course_score']:.1f} / {b['sb3_mean']:.1f} | {a['course_score']:.1f} / {a['sb3_mean']:.1f} |")
median_b = statistics.median(run["train_seconds"] for run in before.values())
median_a = statistics.median(run["train_seconds"] for run in after.values())
print(f"| median | {median_b:.1f} | {median_a:.1f} | {median_b / median_a:.2f}x | | |")
EOF
