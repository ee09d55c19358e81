#!/usr/bin/env bash
# Start (or resume) benchmark v4's pretraining in the background, detached from the shell: one
# process at a time, one torch thread, nice 10. It makes passes over the models still missing
# (benchmarks/v4_pretrain.py --missing: random, then potran.bench.v4.objectives.OBJECTIVES), each in
# a fresh python process (objectives landed meanwhile are picked up, a killed model resumes from
# its last epoch), and commits each finished model's files by path. It stops when nothing is
# missing, or after POTRAN_V4_PASSES passes (default 6; 10 minutes' wait after a pass that left
# models missing). Log: .cache/v4_pretrain.log; PID: .cache/v4_pretrain.pid.
#
#   setsid nohup bash benchmarks/run_v4_pretrain.sh >/dev/null 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
LOG=.cache/v4_pretrain.log
if [ -f .cache/v4_pretrain.pid ] && kill -0 "$(cat .cache/v4_pretrain.pid)" 2>/dev/null \
   && [ "$(cat .cache/v4_pretrain.pid)" != "$$" ]; then
  echo "v4 pretraining already runs as PID $(cat .cache/v4_pretrain.pid)" | tee -a "$LOG"; exit 0
fi
echo $$ > .cache/v4_pretrain.pid
# setsid gives the job its own autogroup, in which nice alone changes nothing against other
# sessions: lower the group's weight too where the kernel allows it, to POTRAN_GROUP_NICE (default
# 5: at 10, beside four busy sessions at 0, the job got 5 % of a core and a model took hours)
echo "${POTRAN_GROUP_NICE:-5}" > /proc/self/autogroup 2>/dev/null || true
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TQDM_MININTERVAL=30
PY=".venv/bin/python"
for pass in $(seq "${POTRAN_V4_PASSES:-6}"); do
  todo=$(nice -n "${POTRAN_NICE:-10}" $PY benchmarks/v4_pretrain.py --missing 2>>"$LOG") || todo=""
  if [ -z "$todo" ]; then echo "$(date '+%F %T') nothing missing: done" >> "$LOG"; break; fi
  echo "$(date '+%F %T') pass $pass: $(echo $todo | tr '\n' ' ')" >> "$LOG"
  for name in $todo; do
    echo "$(date '+%F %T') start $name" >> "$LOG"
    nice -n "${POTRAN_NICE:-10}" $PY benchmarks/v4_pretrain.py "$name" >> "$LOG" 2>&1 < /dev/null \
      && echo "$(date '+%F %T') done $name" >> "$LOG" \
      || echo "$(date '+%F %T') FAILED $name (exit $?)" >> "$LOG"
  done
  [ -z "$(nice $PY benchmarks/v4_pretrain.py --missing 2>/dev/null)" ] || sleep 600
done
rm -f .cache/v4_pretrain.pid
