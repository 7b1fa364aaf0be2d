#!/bin/sh
# scheduler-loop.sh - a scheduler's tick loop on "dronex serve".
#
# Every tick submits one request and waits for its result, bounded, so a
# slow drone costs one tick at most (the request is then aborted, exit 4).
# serve keeps the SSH sessions warm, so a tick pays no handshakes.
#
#   DRONEX_SPOOL=/var/spool/dronex examples/scheduler-loop.sh -n 10 -s 30 \
#       -w 'web-[01-20]' -- uptime
#
# Options: -n TICKS (default 3; 0 = forever), -s SECONDS between ticks
# (default 10), -t SECONDS each tick may take (default 60), -w SET (the
# drones; default every drone).  $DRONEX is the dronex to run.  Each tick
# prints one line: "tick N ID exit E ok=... failed=... skipped=...".
set -u
dronex=${DRONEX:-dronex}
ticks=3 pause=10 limit=60 drones=
while getopts n:s:t:w: opt; do
	case $opt in
	n) ticks=$OPTARG ;;
	s) pause=$OPTARG ;;
	t) limit=$OPTARG ;;
	w) drones=$OPTARG ;;
	*) echo "usage: $0 [-n TICKS] [-s SECONDS] [-t SECONDS] [-w SET] -- COMMAND..." >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1-}" = "--" ] && shift
: "${DRONEX_SPOOL:?set DRONEX_SPOOL to serve's spool directory}"
export DRONEX_SPOOL

tick=0 worst=0
while [ "$ticks" -eq 0 ] || [ "$tick" -lt "$ticks" ]; do
	tick=$((tick + 1))
	if [ -n "$drones" ]; then
		id=$("$dronex" submit -w "$drones" -- "$@") || exit 2
	else
		id=$("$dronex" submit -- "$@") || exit 2
	fi
	result=$("$dronex" wait -q --timeout "$limit" "$id")
	rc=$?
	# The summary object, without a JSON tool: {"drones":N,"ok":N,...}.
	summary=$(printf '%s\n' "$result" |
	    sed -n 's/.*"summary":{\([^}]*\)}.*/\1/p' | tr -d '"' | tr ',:' ' =')
	echo "tick $tick $id exit $rc $summary"
	[ "$rc" -gt "$worst" ] && worst=$rc
	if [ "$ticks" -eq 0 ] || [ "$tick" -lt "$ticks" ]; then
		sleep "$pause"
	fi
done
exit "$worst"
