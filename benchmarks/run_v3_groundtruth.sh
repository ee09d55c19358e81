#!/usr/bin/env bash
# Start (or resume) benchmark v3's fine-tuning ground truth in the background, detached from the
# shell: one process, one torch thread; each finished cell is committed (path-limited commit).
# Log: .cache/v3_groundtruth.log; PID: .cache/v3_groundtruth.pid. Arguments go to
# benchmarks/v3_groundtruth.py (e.g. --targets mnist5k,fashion).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup setsid nice -n "${POTRAN_NICE:-10}" .venv/bin/python benchmarks/v3_groundtruth.py "$@" \
  >> .cache/v3_groundtruth.log 2>&1 < /dev/null &
echo $! > .cache/v3_groundtruth.pid
# setsid gives the job its own autogroup, in which nice alone changes nothing against other
# sessions: lower the group's weight too where the kernel allows it -- once the job leads its
# own session (before that, the write would lower this shell's group instead)
pid=$!
for _ in $(seq 50); do
  [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] && { echo "${POTRAN_NICE:-10}" > "/proc/$pid/autogroup" 2>/dev/null || true; break; }
  sleep 0.1
done
echo "v3 ground truth running as PID $(cat .cache/v3_groundtruth.pid); log in .cache/v3_groundtruth.log"
