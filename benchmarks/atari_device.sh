#!/usr/bin/env bash
# Atari Pong on a GPU machine, in one go: training throughput of REINFORCE against SB3 A2C (benchmarks/atari_throughput.py),
# then a REINFORCE learning run with the packaged `atari` entry for the time left, stopped with SIGINT (the zoo then
# saves the model). Everything worth keeping lands flat in $OUT (the device tool returns only a few files, 2 folders deep):
#   throughput.txt, train.log, monitor.csv.gz (every training episode), evaluations.npz, learning_curve.png
#
# On the lent machine (Python 3.12 and torch, no gymnasium/SB3): first, here, `bash ../shared/device/fetch-wheels.sh`,
# then run with carry [".whl"]:
#   bash benchmarks/atari_device.sh
# Settings (environment variables): DEVICE (cuda), STEPS (throughput steps per run, 100000), REPEATS (2),
# LEARN_SECONDS (wall-clock for the learning run, 360), EVAL_FREQ (evaluation every N steps, 100000).
# Test it on a CPU first: DEVICE=cpu STEPS=2000 REPEATS=1 LEARN_SECONDS=60 OUT=/tmp/atari_out bash benchmarks/atari_device.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-100000}
REPEATS=${REPEATS:-2}
LEARN_SECONDS=${LEARN_SECONDS:-360}
EVAL_FREQ=${EVAL_FREQ:-100000}
OUT=${OUT:?set OUT to the folder that receives the results}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD
fi
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee "$OUT/train.log"

python3 benchmarks/atari_throughput.py --steps "$STEPS" --repeats "$REPEATS" --device "$DEVICE" | tee "$OUT/throughput.txt"

logs=$(mktemp -d)
start=$(date +%s)
# timeout sends SIGINT: the zoo catches the KeyboardInterrupt and saves the model, as after Ctrl-C.
timeout -s INT -k 60 "$LEARN_SECONDS" python3 -m sb3_reinforce.train --algo reinforce --env PongNoFrameskip-v4 \
    --device "$DEVICE" --vec-env subproc -f "$logs" --eval-freq "$EVAL_FREQ" --eval-episodes 5 --n-eval-envs 1 \
    --seed 0 >>"$OUT/train.log" 2>&1 || true
echo "learning run: $(( $(date +%s) - start )) s of wall-clock" | tee -a "$OUT/train.log"

run=$(ls -d "$logs"/reinforce/PongNoFrameskip-v4_* | head -n 1)
cp "$run"/evaluations.npz "$OUT"/ 2>/dev/null || echo "no evaluation finished in the time given" | tee -a "$OUT/train.log"
python3 - "$run" "$OUT" <<'EOF'
import gzip, sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from stable_baselines3.common.monitor import load_results
from stable_baselines3.common.results_plotter import X_TIMESTEPS, ts2xy

run, out = Path(sys.argv[1]), Path(sys.argv[2])
episodes = load_results(str(run))
with gzip.open(out / "monitor.csv.gz", "wt") as file:
    episodes.to_csv(file, index=False)
steps, returns = ts2xy(episodes, X_TIMESTEPS)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(steps, returns, ".", alpha=0.4, label="training episodes")
# Monitor sits under the AtariWrapper: its lengths count emulator frames, 4 per agent step (the zoo's timesteps)
ax.set_xlabel("emulator frames (4 per agent step)")
ax.set_ylabel("episode return")
ax.set_title("REINFORCE on PongNoFrameskip-v4 (zoo's atari entry)")
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(out / "learning_curve.png", dpi=100)
print(f"{len(episodes)} training episodes, {int(steps[-1]) if len(steps) else 0} emulator frames", flush=True)
EOF
ls -la "$OUT"
