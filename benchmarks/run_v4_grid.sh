#!/usr/bin/env bash
# Start (or resume) benchmark v4's fine-tuning grid in the background, detached from the shell:
# passes of benchmarks/v4_grid.py (one torch thread per process, nice 10; 2 worker processes when
# the pretraining job is not running, else 1), each committing target by target. A pass picks up
# the models pretrained since the last one; it stops when every cell exists, or after
# POTRAN_V4_PASSES passes (default 8; 10 minutes' wait after a pass that left cells missing).
# Log: .cache/v4_grid.log; PID: .cache/v4_grid.pid.
#
#   setsid nohup bash benchmarks/run_v4_grid.sh >/dev/null 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
LOG=.cache/v4_grid.log
if [ -f .cache/v4_grid.pid ] && kill -0 "$(cat .cache/v4_grid.pid)" 2>/dev/null \
   && [ "$(cat .cache/v4_grid.pid)" != "$$" ]; then
  echo "v4 grid already runs as PID $(cat .cache/v4_grid.pid)" | tee -a "$LOG"; exit 0
fi
echo $$ > .cache/v4_grid.pid
echo "${POTRAN_GROUP_NICE:-5}" > /proc/self/autogroup 2>/dev/null || true
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PY="../.venv/bin/python"
cd benchmarks
for pass in $(seq "${POTRAN_V4_PASSES:-8}"); do
  workers=2
  if [ -f ../.cache/v4_pretrain.pid ] && kill -0 "$(cat ../.cache/v4_pretrain.pid)" 2>/dev/null; then workers=1; fi
  echo "$(date '+%F %T') pass $pass, $workers worker(s)" >> "../$LOG"
  nice -n "${POTRAN_NICE:-10}" $PY v4_grid.py --workers "$workers" >> "../$LOG" 2>&1 < /dev/null
  left=$($PY v4_grid.py --status 2>/dev/null | sed -n 's/.* \([0-9]*\) to do/\1/p')
  [ "$left" = "0" ] && { echo "$(date '+%F %T') grid complete" >> "../$LOG"; break; }
  sleep 600
done
rm -f ../.cache/v4_grid.pid
