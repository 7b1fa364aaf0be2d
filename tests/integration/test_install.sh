#!/usr/bin/env bash
# test_install.sh - libdronex as a C scheduler gets it: installed.
#
# Installs this build with "make install DESTDIR=<tmp>", then checks what a
# scheduler's author relies on:
#  1. the installed tree holds the shared and static libraries, dronex.h,
#     dronex.pc and examples/scheduler.c;
#  2. the shared library exports exactly the functions the installed
#     dronex.h declares (nm -D --defined-only against the header, run
#     through the preprocessor), a difference either way failing;
#  3. the installed scheduler.c, compiled with "pkg-config --cflags --libs
#     dronex" pointed at the DESTDIR, links against the installed shared
#     library, and runs three ticks on two drones at the suite's sshd
#     (tests/run-test exports DX_TEST_*): every drone ok, exit status 0 of
#     each call, the results as JSON (-j) parsed;
#  4. the same with "pkg-config --static" and libdronex.a, no libdronex.so
#     needed at run time;
#  5. a refused drone makes the scheduler say "failed" and exit 1.
# Run by make check (examples/local.mk sets DRONEX_* from the build).
set -uo pipefail

fails=0 passes=0
ok() { passes=$(( passes + 1 )); echo "ok: $*"; }
bad() { fails=$(( fails + 1 )); echo "FAIL: $*"; }
die() { echo "test_install: $*" >&2; exit 99; }

for v in DRONEX_BUILDDIR DRONEX_SRCDIR DRONEX_MAKE DRONEX_CC DRONEX_PKG_CONFIG \
    DRONEX_LIBDIR DRONEX_INCLUDEDIR DRONEX_PKGCONFIGDIR DRONEX_EXAMPLEDIR \
    DX_TEST_PORT DX_TEST_USER DX_TEST_KEY DX_TEST_KNOWN_HOSTS; do
	[[ -n "${!v:-}" ]] || die "$v is not set (run me through make check)"
done
command -v nm >/dev/null || die "nm missing (apt-get install binutils)"
command -v python3 >/dev/null || die "python3 missing (apt-get install python3)"
read -r -a cc <<<"$DRONEX_CC"
read -r -a san <<<"${DRONEX_SAN_CFLAGS:-}"
pkg_config="$DRONEX_PKG_CONFIG"

work="$(mktemp -d "${TMPDIR:-/tmp}/dronex-install.XXXXXX")" || die "mktemp failed"
trap '[[ -n "${DRONEX_KEEP:-}" ]] || rm -rf "$work"' EXIT
dest="$work/dest"
lib="$dest$DRONEX_LIBDIR"
inc="$dest$DRONEX_INCLUDEDIR"

# 1. make install into the DESTDIR.  The make flags of the make check
# that runs this (its jobserver, its command-line variables) are not ours.
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$DRONEX_MAKE" -C "$DRONEX_BUILDDIR" \
    install DESTDIR="$dest" >"$work/install.log" 2>&1; then
	ok "make install DESTDIR"
else
	tail -n 30 "$work/install.log"
	bad "make install DESTDIR"
	echo "test_install: $passes passed, $fails failed"
	exit 1
fi
# What this build makes (configure --disable-shared / --disable-static).
shared=yes static=yes
if lt="$("$DRONEX_BUILDDIR/libtool" --config 2>/dev/null)"; then
	grep -qx 'build_libtool_libs=no' <<<"$lt" && shared=no
	grep -qx 'build_old_libs=no' <<<"$lt" && static=no
fi
want=("$inc/dronex.h" "$dest$DRONEX_PKGCONFIGDIR/dronex.pc" "$dest$DRONEX_EXAMPLEDIR/scheduler.c")
[[ $shared == yes ]] && want+=("$lib/libdronex.so") || echo "note: configured --disable-shared: no shared library to test"
[[ $static == yes ]] && want+=("$lib/libdronex.a") || echo "note: configured --disable-static: no static library to test"
for f in "${want[@]}"; do
	if [[ -e "$f" ]]; then ok "installed ${f#"$dest"}"; else bad "not installed: ${f#"$dest"}"; fi
done
# Nothing internal is installed beside the public header.
if [[ "$(cd "$inc" && ls)" == dronex.h ]]; then
	ok "dronex.h is the only header installed"
else
	bad "headers installed: $(cd "$inc" && ls | tr '\n' ' ')"
fi

cflags= libs= slibs=
export PKG_CONFIG_PATH="$dest$DRONEX_PKGCONFIGDIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_SYSROOT_DIR="$dest"
if cflags="$($pkg_config --cflags dronex)" && libs="$($pkg_config --libs dronex)" &&
    slibs="$($pkg_config --static --libs dronex)"; then
	ok "pkg-config dronex: $cflags $libs"
else
	bad "pkg-config cannot read the installed dronex.pc"
fi
read -r -a cflags_a <<<"$cflags"
read -r -a libs_a <<<"$libs"
read -r -a slibs_a <<<"$slibs"

# 2. Exports.  Function declarations in the installed dronex.h: the header
# preprocessed (comments and macros gone), lines from dronex.h itself only,
# every "dx_name(" (a function pointer type reads "(*dx_name)(").
printf '#include <dronex.h>\n' >"$work/hdr.c"
if "${cc[@]}" -E "${cflags_a[@]}" "$work/hdr.c" >"$work/hdr.i" 2>"$work/hdr.err"; then
	awk '/^# [0-9]+ "/ { f = $3; next } f ~ /\/dronex\.h"$/' "$work/hdr.i" |
		grep -o '\bdx_[A-Za-z0-9_]*[[:space:]]*(' | sed 's/[[:space:](]//g' |
		sort -u >"$work/declared"
else
	cat "$work/hdr.err"
	: >"$work/declared"
fi
if [[ $shared == yes ]]; then
	nm -D --defined-only "$lib/libdronex.so" 2>"$work/nm.err" |
		awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u >"$work/exported"
	if [[ ! -s "$work/declared" || ! -s "$work/exported" ]]; then
		cat "$work/nm.err"
		bad "exports: no declared or no exported function found"
	else
		extra="$(comm -13 "$work/declared" "$work/exported" | tr '\n' ' ')"
		missing="$(comm -23 "$work/declared" "$work/exported" | tr '\n' ' ')"
		if [[ -z "$extra" && -z "$missing" ]]; then
			ok "libdronex.so exports exactly the $(wc -l <"$work/declared") functions of dronex.h"
		else
			[[ -z "$extra" ]] || bad "exported but not declared in dronex.h: $extra"
			[[ -z "$missing" ]] || bad "declared in dronex.h but not exported (add to src/libdronex.sym): $missing"
		fi
	fi
fi

# 3-5. The example against the suite's sshd.
cat >"$work/drones.json" <<JSON
{ "defaults": { "user": "$DX_TEST_USER", "port": $DX_TEST_PORT, "identity": "$DX_TEST_KEY",
                "known_hosts": "$DX_TEST_KNOWN_HOSTS" },
  "drones": [ { "name": "d-1", "host": "127.0.0.1" },
              { "name": "d-2", "host": "127.0.0.1", "priority": 5 } ] }
JSON
closed=$(( DX_TEST_PORT + 1 ))
while (exec 3<>"/dev/tcp/127.0.0.1/$closed") 2>/dev/null; do closed=$(( closed + 1 )); done
cat >"$work/refused.json" <<JSON
{ "defaults": { "user": "$DX_TEST_USER", "identity": "$DX_TEST_KEY",
                "known_hosts": "$DX_TEST_KNOWN_HOSTS" },
  "drones": [ { "name": "up", "host": "127.0.0.1", "port": $DX_TEST_PORT },
              { "name": "down", "host": "127.0.0.1", "port": $closed } ] }
JSON
unset SSH_AUTH_SOCK
src="$dest$DRONEX_EXAMPLEDIR/scheduler.c"
warn=(-std=c99 -Wall -Wextra -Werror)

# run NAME ARGV...: the scheduler, bounded, stdout to $work/NAME.out.
run() {
	local name="$1"; shift
	timeout 120 "$@" >"$work/$name.out" 2>"$work/$name.err"
}

# The text lines: "tick T: NAME STATUS exit E": every drone ok, exit 0,
# on each of three ticks.
check_text() {
	local what="$1" out="$2"
	if awk '$1 == "tick" && $4 == "ok" && $5 == "exit" && $6 == "0" { n[$2 $3]++ }
	    END { exit !(length(n) == 6) }' "$out" && [[ "$(wc -l <"$out")" -eq 6 ]]; then
		ok "$what: 3 ticks x 2 drones ok, exit 0"
	else
		bad "$what: unexpected output: $(cat "$out" "$work/$what.err")"
	fi
}

# 3. Shared.
if [[ $shared == no ]]; then
	:
elif "${cc[@]}" "${san[@]}" "${warn[@]}" "${cflags_a[@]}" -o "$work/sched-shared" "$src" \
    "${libs_a[@]}" 2>"$work/cc-shared.err"; then
	ok "scheduler.c compiles and links against libdronex.so"
	if readelf -d "$work/sched-shared" | grep -q 'NEEDED.*libdronex\.so'; then
		ok "the shared build needs libdronex.so"
	else
		bad "the shared build does not need libdronex.so"
	fi
	if LD_LIBRARY_PATH="$lib" run shared "$work/sched-shared" -n 3 -s 0.2 \
	    "$work/drones.json" 'echo tick'; then
		check_text shared "$work/shared.out"
	else
		bad "shared: exit $?: $(cat "$work/shared.err")"
	fi
	if LD_LIBRARY_PATH="$lib" run json "$work/sched-shared" -j -n 1 -s 0 \
	    "$work/drones.json" 'echo "$((6 * 7))"'; then
		if python3 - "$work/json.out" "$DX_TEST_PORT" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
names = sorted(o["name"] for o in lines)
assert names == ["d-1", "d-2"], names
for o in lines:
    assert o["tick"] == 1 and o["status"] == "ok" and o["error"] is None, o
    assert o["host"] == "127.0.0.1" and o["port"] == int(sys.argv[2]), o
    assert o["hostkey_type"] == "ssh-ed25519", o
    c = o["calls"]
    assert len(c) == 1 and c[0]["exit_status"] == 0 and c[0]["stdout"] == "42\n", c
PY
		then
			ok "json: dx_result_json objects parsed: status ok, stdout 42"
		else
			bad "json: unexpected results: $(cat "$work/json.out")"
		fi
	else
		bad "json: exit $?: $(cat "$work/json.err")"
	fi
	LD_LIBRARY_PATH="$lib" run refused "$work/sched-shared" -n 1 "$work/refused.json" true
	rc=$?
	if (( rc == 1 )) &&
	    grep -qx 'tick 1: up ok exit 0' "$work/refused.out" &&
	    grep -q '^tick 1: down failed exit - (connect_refused: ' "$work/refused.out"; then
		ok "refused: a refused drone is failed (connect_refused) and the exit status 1"
	else
		bad "refused: exit $rc: $(cat "$work/refused.out" "$work/refused.err")"
	fi
else
	cat "$work/cc-shared.err"
	bad "scheduler.c does not build against the installed shared library"
fi

# 4. Static: the same flags with --static, libdronex.a instead of the .so.
static_libs=()
for f in "${slibs_a[@]}"; do
	if [[ "$f" == -ldronex ]]; then
		static_libs+=(-Wl,-Bstatic -ldronex -Wl,-Bdynamic)
	else
		static_libs+=("$f")
	fi
done
if [[ $static == no ]]; then
	:
elif "${cc[@]}" "${san[@]}" "${warn[@]}" "${cflags_a[@]}" -o "$work/sched-static" "$src" \
    "${static_libs[@]}" 2>"$work/cc-static.err"; then
	ok "scheduler.c compiles and links against libdronex.a (pkg-config --static)"
	if readelf -d "$work/sched-static" | grep -q 'NEEDED.*libdronex'; then
		bad "the static build still needs libdronex.so"
	else
		ok "the static build needs no libdronex.so"
	fi
	if run static "$work/sched-static" -n 3 -s 0.2 "$work/drones.json" 'echo tick'; then
		check_text static "$work/static.out"
	else
		bad "static: exit $?: $(cat "$work/static.err")"
	fi
else
	cat "$work/cc-static.err"
	bad "scheduler.c does not build against the installed static library"
fi

echo "test_install: $passes passed, $fails failed"
(( fails == 0 ))
