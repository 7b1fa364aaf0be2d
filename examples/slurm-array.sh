#!/bin/bash
# examples/slurm-array.sh - a dronex run spread over a Slurm job array:
# each array task runs one shard of the fleet, then one merge joins them.
#
#   sbatch --wait --array=0-3 examples/slurm-array.sh
#   dronex merge results/shard-*.json > results.json
#
# "dronex exec --shard auto" takes its shard from SLURM_ARRAY_TASK_ID
# (offset from SLURM_ARRAY_TASK_MIN) and SLURM_ARRAY_TASK_COUNT, so the
# tasks cover the fleet once, each drone in exactly one task, whatever
# size the array is given.  sbatch passes the submitting shell's
# environment on, so these settings come from there:
#   DRONEX            the dronex binary (default: dronex on PATH)
#   DRONEX_INVENTORY  the inventory (default: ./drones.json)
#   DRONEX_RESULTS    a directory every node can write (default: ./results)
#   DRONEX_COMMAND    what to run on each drone (default: uptime)
#SBATCH --job-name=dronex
#SBATCH --array=0-3
#SBATCH --output=dronex-%A_%a.log
set -euo pipefail

dronex="${DRONEX:-dronex}"
results="${DRONEX_RESULTS:-results}"
out="$results/shard-$SLURM_ARRAY_TASK_ID.json"
mkdir -p "$results"

# Exit status 1 means a drone failed or was skipped: the shard's results
# are complete and the merge reports them, so the task has done its job.
# 2, 3 or 130 mean there are no complete results; the task fails.  Do not
# let Slurm requeue a task: a second run would run the commands again.
rc=0
"$dronex" exec --shard auto -i "${DRONEX_INVENTORY:-drones.json}" \
	-- "${DRONEX_COMMAND:-uptime}" >"$out.part" || rc=$?
if (( rc > 1 )); then
	echo "dronex exited $rc: no results for shard $SLURM_ARRAY_TASK_ID" >&2
	exit "$rc"
fi
mv "$out.part" "$out"
