#!/bin/sh
# test_serve_unit.sh - examples/dronex-serve.service is a valid systemd
# unit (systemd-analyze verify, when systemd is installed) that runs
# "dronex serve" with a reload on SIGHUP, a drain on SIGTERM and the
# hardening the man page promises; always checked by its text too.
set -eu
srcdir=${DRONEX_SRCDIR:-${srcdir:-.}}
unit="$srcdir/examples/dronex-serve.service"
fail() { echo "test_serve_unit: $*" >&2; exit 1; }
[ -f "$unit" ] || fail "no $unit"

# Every line: a comment, blank, a [Section] or Key=value.
bad=$(grep -nEv '^(#.*|[[:space:]]*|\[[A-Za-z]+\]|[A-Za-z]+=.*)$' "$unit" || true)
[ -z "$bad" ] || fail "lines that are not unit syntax: $bad"
for want in '^\[Unit\]$' '^\[Service\]$' '^\[Install\]$' \
    '^ExecStart=[^ ]*dronex serve --spool ' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
    '^KillSignal=SIGTERM$' '^Restart=on-failure$' '^NoNewPrivileges=yes$' \
    '^ProtectSystem=' '^PrivateTmp=yes$' '^UMask=0077$' '^ReadWritePaths=/var/spool/dronex$'; do
	grep -Eq "$want" "$unit" || fail "no line matching '$want'"
done

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the ExecStart binary to exist: point it at this build.
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	bin=${DRONEX_BIN:-/bin/true}
	[ -x "$bin" ] || bin=/bin/true
	sed "s|^ExecStart=[^ ]*|ExecStart=$bin|" "$unit" > "$tmp/dronex-serve.service"
	out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
	    "$tmp/dronex-serve.service" 2>&1 || true)
	# Only complaints about this unit count (not the host's other units).
	echo "$out" | grep -F 'dronex-serve.service' | grep -v 'User=\|Group=' && \
	    fail "systemd-analyze verify: $out"
fi
exit 0
