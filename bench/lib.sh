# bench/lib.sh - shell functions shared by bench/run and bench/rss-jsonl.
#
# Sourced, not run.  The caller sets `bench_work` (a private temp dir) before
# calling bench_sshd_start, and calls bench_cleanup from its EXIT trap.
#
# The sshd is the project's own test server (tests/sshd-test), so the bench
# and the integration tests log in to the same kind of server: ed25519 host
# key, MaxStartups 4000, sessions with an empty HOME (no dotfiles run per
# session), loopback only.  Its listener pid is the one whose CPU is counted:
# sshd forks one process per connection and reaps it, so the listener's
# utime+stime+cutime+cstime grows by the whole cost of every finished
# session (pre-auth child, monitor, session and the user's shell).

bench_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench_root="$(cd "$bench_here/.." && pwd)"
bench_clk="$(getconf CLK_TCK)"
bench_ncpu="$(nproc)"
bench_sshd_dir=""

bench_log() { printf '[%s %s] %s\n' "${0##*/}" "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Starts the private sshd in $bench_work/sshd and loads DX_TEST_* from its
# env file into this shell.
bench_sshd_start() {
	bench_sshd_dir="$bench_work/sshd"
	"$bench_root/tests/sshd-test" start "$bench_sshd_dir" >/dev/null ||
		bench_die "tests/sshd-test could not start sshd"
	# shellcheck disable=SC1091
	. "$bench_sshd_dir/env"
	[[ -d "/proc/$DX_TEST_SSHD_PID" ]] || bench_die "sshd pid $DX_TEST_SSHD_PID is not running"
	bench_log "sshd pid $DX_TEST_SSHD_PID on 127.0.0.1:$DX_TEST_PORT"
}

bench_cleanup() {
	if [[ -n "$bench_sshd_dir" ]]; then
		"$bench_root/tests/sshd-test" stop "$bench_sshd_dir" || true
	fi
	if [[ -n "${bench_work:-}" && -d "$bench_work" ]]; then
		rm -rf "$bench_work"
	fi
}

# Writes a fleet of N drones, drone-0001.., every one 127.0.0.1:$DX_TEST_PORT,
# into DIR:
#   hosts               one name per line (pdsh -w ^hosts, pssh -h, clush --hostfile)
#   known_hosts         the sshd's host key as "[127.0.0.1]:PORT"; the one
#                       file every tool checks the host key against
#   ssh_config          for OpenSSH clients (ssh -F): strict host key
#                       checking, BatchMode, no agent, no multiplexing;
#                       OpenSSH's default key exchange
#   ssh_config.c25519   the same plus "KexAlgorithms curve25519-sha256",
#                       the key exchange libssh2 1.10 negotiates
#   inventory.json      dronex inventory (SPEC section 2)
# No HostKeyAlias is needed: every drone's HostName is 127.0.0.1, and
# OpenSSH looks the key up under "[HostName]:Port", as libssh2 users do.
bench_fleet() {   # N DIR
	local n="$1" dir="$2" width
	width=$(( ${#n} > 4 ? ${#n} : 4 ))
	mkdir -p "$dir"
	awk -v n="$n" -v w="$width" 'BEGIN { for (i = 1; i <= n; i++) printf "drone-%0*d\n", w, i }' \
		> "$dir/hosts"
	cp "$DX_TEST_KNOWN_HOSTS" "$dir/known_hosts"
	cat > "$dir/ssh_config" <<EOF
# dronex bench fleet: $n drones, all 127.0.0.1:$DX_TEST_PORT (ssh -F this file).
Host drone-*
	HostName 127.0.0.1
	Port $DX_TEST_PORT
	User $DX_TEST_USER
	IdentityFile $DX_TEST_KEY
	IdentitiesOnly yes
	IdentityAgent none
	PreferredAuthentications publickey
	UserKnownHostsFile $dir/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	CheckHostIP no
	UpdateHostKeys no
	BatchMode yes
	ControlMaster no
	ControlPath none
	GSSAPIAuthentication no
	ConnectTimeout 10
	LogLevel ERROR
EOF
	{ cat "$dir/ssh_config"; printf '\tKexAlgorithms curve25519-sha256\n'; } \
		> "$dir/ssh_config.c25519"
	jq -R -s --arg user "$DX_TEST_USER" --argjson port "$DX_TEST_PORT" \
		--arg key "$DX_TEST_KEY" --arg kh "$dir/known_hosts" '
		{ defaults: { user: $user, port: $port, identity: $key,
		              known_hosts: $kh, connect_timeout: 10 },
		  drones: [ split("\n")[] | select(length > 0)
		            | { name: ., host: "127.0.0.1" } ] }' \
		"$dir/hosts" > "$dir/inventory.json"
}

# CPU ticks of the sshd listener: its own and its reaped children's.
bench_sshd_ticks() {
	awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
	       print f[12] + f[13] + f[14] + f[15] }' "/proc/$DX_TEST_SSHD_PID/stat"
}

# Waits (at most 30 s) until the listener has no child left, so that every
# session of the last run is reaped and counted in cutime/cstime.
bench_sshd_quiet() {
	local i
	for (( i = 0; i < 300; i++ )); do
		[[ -z "$(ps -o pid= --ppid "$DX_TEST_SSHD_PID" 2>/dev/null)" ]] && return 0
		sleep 0.1
	done
	bench_log "warning: sshd still has sessions 30 s after the run"
	return 1
}

# Busy CPU ticks of the whole machine (user nice system irq softirq steal).
bench_machine_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# The kernel's count of connections dropped on a full listen queue.
bench_listen_drops() {
	awk '$1 == "TcpExt:" { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 }
	                       else { print $col["ListenDrops"]; exit } }' /proc/net/netstat
}

bench_ticks_s() { awk -v t="$1" -v c="$bench_clk" 'BEGIN { printf "%.3f", t / c }'; }
