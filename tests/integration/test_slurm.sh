#!/usr/bin/env bash
# test_slurm.sh - the README's Slurm recipe on a real one-node Slurm.
#
# Starts munged, slurmctld and slurmd as root in a temp dir, with their own
# socket, ports, state and spool (nothing system-wide is touched or
# talked to), submits examples/slurm-array.sh itself with
# "sbatch --wait --array=0-3", each task running "dronex exec --shard
# auto" against the suite's sshd (tests/run-test exports DX_TEST_*), then:
#  0. the README shows that script as the file holds it;
#  1. every task wrote its shard, K/4 from the task's array id, all with
#     the same "run" digest, and no drone is in two shards;
#  2. "dronex merge" of the four exits as a single unsharded run of the
#     same inventory and command does (1: one drone is refused), with the
#     same summary and error, and the same drones: names, status, kind,
#     exit status and stdout of each call.
# Skipped (77) only when the Slurm or munge binaries are missing; .ci/run
# installs them (scripts/deps test).  The daemons are stopped by pid.
set -uo pipefail

fails=0 passes=0
ok() { passes=$(( passes + 1 )); echo "ok: $*"; }
bad() { fails=$(( fails + 1 )); echo "FAIL: $*"; }
die() { echo "test_slurm: $*" >&2; exit 99; }

for b in munged slurmctld slurmd sbatch sinfo; do
	command -v "$b" >/dev/null || { echo "test_slurm: $b missing (apt-get install slurm-wlm munge): skipped"; exit 77; }
done
for v in DRONEX_BIN DRONEX_SRCDIR DX_TEST_PORT DX_TEST_USER DX_TEST_KEY DX_TEST_KNOWN_HOSTS; do
	[[ -n "${!v:-}" ]] || die "$v is not set (run me through make check)"
done
(( EUID == 0 )) || die "Slurm's daemons run as root here: run the suite as root"
py=/usr/bin/python3
[[ -x "$py" ]] || py="$(command -v python3)" || die "python3 missing"
script="$DRONEX_SRCDIR/examples/slurm-array.sh"
[[ -r "$script" ]] || die "$script missing"

work="$(mktemp -d "${TMPDIR:-/tmp}/dronex-slurm.XXXXXX")" || die "mktemp failed"
chmod 0700 "$work"
stop_daemons() {
	local f pid
	for f in slurmd slurmctld munged; do
		[[ -s "$work/$f.pid" ]] || continue
		pid="$(cat "$work/$f.pid")"
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
}
show_logs() {
	local f
	for f in "$work"/*.log "$work"/out-*.txt; do
		[[ -s "$f" ]] || continue
		echo "---- $f"; tail -n 20 "$f"
	done
}
trap 'stop_daemons; [[ -n "${DRONEX_KEEP:-}" ]] || rm -rf "$work"' EXIT

# Two free TCP ports for the daemons and one closed port for a drone.
read -r ctld_port slurmd_port closed_port < <("$py" - <<'PY'
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
PY
)
[[ -n "$closed_port" ]] || die "no free ports"

# munge: a private key, socket and pid file.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 0600 "$work/munge.key"
munged --key-file="$work/munge.key" --socket="$work/munge.socket" \
	--pid-file="$work/munged.pid" --log-file="$work/munged.log" \
	--seed-file="$work/munge.seed" -f || { show_logs; die "munged did not start"; }

host="$(hostname)"
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
ClusterName=dronextest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$work/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmUser=root
SlurmdUser=root
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
NodeName=$host CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
# Nothing of an enclosing job may leak into ours.
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN \
	SLURM_JOB_ID JOB_COMPLETION_INDEX DRONEX_SHARDS DRONEX_INVENTORY
slurmctld -f "$SLURM_CONF" || { show_logs; die "slurmctld did not start"; }
slurmd -f "$SLURM_CONF" || { show_logs; die "slurmd did not start"; }
state=""
for _ in $(seq 150); do
	state="$(sinfo -h -n "$host" -o %t 2>/dev/null)"
	[[ "$state" == idle ]] && break
	sleep 0.2
done
[[ "$state" == idle ]] || { show_logs; die "the node is '$state', not idle, after 30 s"; }
ok "one-node Slurm up (ports $ctld_port, $slurmd_port)"

# The fleet: six drones at the suite's sshd and one refused.
inv="$work/drones.json"
"$py" - "$inv" <<PY
import json, sys
d = {"defaults": {"port": $DX_TEST_PORT, "user": "$DX_TEST_USER",
                  "identity": "$DX_TEST_KEY", "known_hosts": "$DX_TEST_KNOWN_HOSTS"},
     "drones": [{"name": "node-%02d" % i, "host": "127.0.0.1"} for i in range(1, 7)]
               + [{"name": "node-07", "host": "127.0.0.1", "port": $closed_port}]}
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
cmd='echo drone says hello; echo $((6 * 7))'

# 0. The README shows the job script exactly as examples/ holds it.
if "$py" - "$DRONEX_SRCDIR/README.md" "$script" <<'PY'
import sys
readme, script = (open(p).read() for p in sys.argv[1:3])
start = readme.index("```bash\n#!/bin/bash\n# examples/slurm-array.sh") + len("```bash\n")
assert readme[start:readme.index("```", start)] == script
PY
then ok "the README shows examples/slurm-array.sh as it is"
else bad "the README's job script differs from examples/slurm-array.sh"; fi

# 1. The array, with that very job script.
start=$SECONDS
if DRONEX="$DRONEX_BIN" DRONEX_INVENTORY="$inv" DRONEX_RESULTS="$work/results" \
    DRONEX_COMMAND="$cmd" timeout 100 sbatch --wait --array=0-3 \
    --chdir="$work" -o "$work/out-%a.txt" -e "$work/out-%a.txt" \
    "$script" >"$work/sbatch.txt" 2>&1; then
	ok "sbatch --wait --array=0-3 examples/slurm-array.sh ($(( SECONDS - start )) s)"
else
	cat "$work/sbatch.txt"; show_logs
	bad "sbatch --wait --array=0-3 examples/slurm-array.sh"
fi
shards=()
for k in 0 1 2 3; do
	f="$work/results/shard-$k.json"
	if [[ -s "$f" ]]; then shards+=("$f"); else bad "task $k wrote no $f"; show_logs; fi
done
if "$py" - "${shards[@]}" <<'PY'
import json, sys
seen, runs, ks = {}, set(), []
for i, path in enumerate(sys.argv[1:]):
    d = json.load(open(path))
    ks.append(d["shard"])
    runs.add(d["run"])
    for n in d["drones"]:
        assert n not in seen, "%s in %s and %s" % (n, seen[n], path)
        seen[n] = path
assert sorted(ks) == ["1/4", "2/4", "3/4", "4/4"], ks
assert len(runs) == 1, runs
assert len(seen) == 7, sorted(seen)
PY
then ok "four shards 1/4..4/4 of one run, every drone once"
else bad "the shards"; fi

# 2. Merged, against one unsharded run.
"$DRONEX_BIN" merge "${shards[@]}" >"$work/merged.json" 2>"$work/merged.err"
mrc=$?
"$DRONEX_BIN" exec -i "$inv" -- "$cmd" >"$work/single.json" 2>"$work/single.err"
src=$?
if (( mrc == src && src == 1 )); then
	ok "merge exits as one run does ($mrc)"
else
	cat "$work/merged.err"; bad "merge exited $mrc, one run $src (want 1)"
fi
if "$py" - "$work/merged.json" "$work/single.json" <<'PY'
import json, sys
m, s = (json.load(open(p)) for p in sys.argv[1:3])
assert m["summary"] == s["summary"], (m["summary"], s["summary"])
assert m["summary"] == {"drones": 7, "ok": 6, "failed": 1, "skipped": 0}, m["summary"]
assert m["error"] == s["error"], (m["error"], s["error"])
assert sorted(m["drones"]) == sorted(s["drones"])
def view(d):
    e = d["error"]
    return (d["status"], e and e["kind"],
            [(c.get("exit_status"), c.get("stdout")) for c in d["calls"]])
for n in s["drones"]:
    assert view(m["drones"][n]) == view(s["drones"][n]), (n, m["drones"][n], s["drones"][n])
assert m["drones"]["node-01"]["calls"][0]["stdout"] == "drone says hello\n42\n"
assert m["drones"]["node-07"]["error"]["kind"] == "connect_refused"
PY
then ok "the merge is the single run, drone for drone"
else bad "the merge differs from the single run"; fi
if grep -q '^dronex: drone node-07 failed: connect_refused: ' "$work/merged.err"; then
	ok "the merge prints the failure line"
else
	cat "$work/merged.err"; bad "no failure line for node-07"
fi

echo "test_slurm: $passes passed, $fails failed"
(( fails == 0 ))
