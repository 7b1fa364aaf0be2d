#!/usr/bin/env bash
# test_serve_prometheus.sh - `dronex status --format prometheus` read by the
# real node_exporter's textfile collector (SPEC section 7): a serve on the
# suite's sshd, one drone on a closed port cooled down after one failure,
# two requests; the status written into a textfile directory the way the
# collector wants it (a temp file, then a rename); node_exporter on a free
# loopback port scraped over HTTP.  It must parse the file
# (node_textfile_scrape_error 0) and serve dronex's samples with their
# values and the cooled drone's label.  A deliberately broken file shows
# that the collector does refuse what it cannot parse.  tests/run-test
# starts the sshd and exports DX_TEST_*; skipped (77) without node_exporter
# (Debian's prometheus-node-exporter).
set -uo pipefail

ne=$(command -v prometheus-node-exporter || command -v node_exporter) || {
	echo "test_serve_prometheus: node_exporter missing (apt-get install prometheus-node-exporter): skipped"
	exit 77
}
for v in DRONEX_BIN DX_TEST_PORT DX_TEST_USER DX_TEST_KEY DX_TEST_KNOWN_HOSTS; do
	[[ -n "${!v:-}" ]] || { echo "test_serve_prometheus: $v is not set (run me through make check)" >&2; exit 99; }
done
py=/usr/bin/python3
[[ -x "$py" ]] || py=$(command -v python3) || { echo "python3 missing" >&2; exit 99; }

fails=0
ok() { echo "ok: $*"; }
bad() { fails=$(( fails + 1 )); echo "FAIL: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dronex-prom.XXXXXX") || exit 99
serve_pid="" ne_pid=""
cleanup() {
	[[ -n "$ne_pid" ]] && kill "$ne_pid" 2>/dev/null && wait "$ne_pid" 2>/dev/null
	[[ -n "$serve_pid" ]] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

read -r closed_port ne_port < <("$py" - <<'PY'
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
PY
)
"$py" - "$work/drones.json" "$closed_port" <<'PY'
import json, os, sys
def drone(name, port):
    return {"name": name, "host": "127.0.0.1", "port": port,
            "user": os.environ["DX_TEST_USER"], "identity": os.environ["DX_TEST_KEY"],
            "known_hosts": os.environ["DX_TEST_KNOWN_HOSTS"]}
p = int(os.environ["DX_TEST_PORT"])
json.dump({"drones": [drone("web-1", p), drone("web-2", p), drone("dead-1", int(sys.argv[2]))]},
          open(sys.argv[1], "w"))
PY

spool="$work/spool"
"$DRONEX_BIN" serve --spool "$spool" -i "$work/drones.json" -f 4 --ssh-config none \
	--throttle-failures 1 --throttle-window 600 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [[ -s "$spool/status.json" ]] && break; sleep 0.1; done
[[ -s "$spool/status.json" ]] || { cat "$work/serve.log"; echo "serve did not start" >&2; exit 99; }

for t in 1 2; do
	id=$("$DRONEX_BIN" submit --spool "$spool" -- true) || { echo "submit failed" >&2; exit 99; }
	"$DRONEX_BIN" wait --spool "$spool" --timeout 60 "$id" >"$work/result-$t.json" 2>/dev/null
	rc=$?
	[[ $rc == 1 ]] && ok "tick $t: exit 1 (dead-1 not ok)" || bad "tick $t: exit $rc"
done
grep -q '"kind":"throttled"' "$work/result-2.json" &&
	ok "the second tick skips dead-1 as throttled" || bad "no throttled drone: $(cat "$work/result-2.json")"

# status.json is rewritten a few times a second: wait until it has both.
for _ in $(seq 100); do
	"$DRONEX_BIN" status --spool "$spool" >"$work/status.json" 2>/dev/null &&
		"$py" -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["completed"] >= 2 and s["cooled"] else 1)' \
			"$work/status.json" && break
	sleep 0.1
done

# The collector's way: write a temp file beside, then rename it in.
mkdir -p "$work/textfile"
"$DRONEX_BIN" status --spool "$spool" --format prometheus >"$work/textfile/dronex.prom.$$" &&
	mv "$work/textfile/dronex.prom.$$" "$work/textfile/dronex.prom" || bad "status --format prometheus failed"

scrape() {
	"$ne" --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$1" --web.listen-address="127.0.0.1:$ne_port" \
		>"$work/ne.log" 2>&1 &
	ne_pid=$!
	"$py" - "$ne_port" >"$2" <<'PY'
import sys, time, urllib.request
url = "http://127.0.0.1:%s/metrics" % sys.argv[1]
for _ in range(100):
    try:
        sys.stdout.write(urllib.request.urlopen(url, timeout=2).read().decode())
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
	local rc=$?
	kill "$ne_pid" 2>/dev/null; wait "$ne_pid" 2>/dev/null; ne_pid=""
	return $rc
}

if ! scrape "$work/textfile" "$work/metrics.txt"; then
	bad "node_exporter did not answer: $(tail -5 "$work/ne.log")"
else
	m="$work/metrics.txt"
	grep -qx 'node_textfile_scrape_error 0' "$m" && ok "node_exporter parsed the file" ||
		bad "scrape error: $(grep -E 'textfile|error' "$m" "$work/ne.log" | head -5)"
	grep -qx 'dronex_serve_received_total 2' "$m" && ok "received_total 2" || bad "no received_total 2"
	grep -qx 'dronex_serve_completed_total 2' "$m" && ok "completed_total 2" || bad "no completed_total 2"
	grep -qx '# TYPE dronex_serve_received_total counter' "$m" && ok "a counter" || bad "received_total is not a counter"
	grep -qx '# TYPE dronex_serve_wait_seconds summary' "$m" && ok "wait_seconds a summary" || bad "no wait_seconds summary"
	grep -qx 'dronex_serve_wait_seconds_count 2' "$m" && ok "wait_seconds_count 2" || bad "no wait_seconds_count 2"
	grep -q '^dronex_serve_wait_seconds{quantile="0.99"} ' "$m" && ok "the p99 quantile" || bad "no p99 quantile"
	grep -qx 'dronex_serve_drones 3' "$m" && ok "3 drones" || bad "no drones 3"
	cooled=$(sed -n 's/^dronex_serve_drone_cooled{drone="dead-1"} //p' "$m")
	if [[ -n "$cooled" ]] && "$py" -c 'import sys,time; sys.exit(0 if float(sys.argv[1]) > time.time() else 1)' "$cooled"; then
		ok "dead-1 cooled until $cooled (in the future)"
	else
		bad "no cooled sample for dead-1 in the future: '$cooled'"
	fi
	grep -qx 'dronex_serve_drone_cooled_failures{drone="dead-1"} 1' "$m" && ok "its failures" || bad "no cooled failures for dead-1"
fi

# The collector refuses a file it cannot parse: so the 0 above means something.
mkdir -p "$work/broken"
printf 'dronex_serve_pending{drone="x} 1\n' >"$work/broken/bad.prom"
if scrape "$work/broken" "$work/metrics-bad.txt" && grep -qx 'node_textfile_scrape_error 1' "$work/metrics-bad.txt"; then
	ok "a broken file is a scrape error"
else
	bad "node_exporter accepted a broken file"
fi

echo "test_serve_prometheus: $fails failed"
(( fails == 0 ))
