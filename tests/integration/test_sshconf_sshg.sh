#!/usr/bin/env bash
# test_sshconf_sshg.sh - dronex reads ssh_config as OpenSSH does.
#
# For a set of configs (several Host blocks, negation, comma lists,
# Include with a glob and a relative path, several IdentityFile and
# UserKnownHostsFile, ProxyJump, Key=Value, quotes) and several host names
# each, what `dronex list --explain NAME --ssh-config F` resolves must
# equal what `ssh -G -F F NAME` prints for hostname, user, port,
# identityfile (when set), identitiesonly, proxyjump, userknownhostsfile,
# globalknownhostsfile, stricthostkeychecking, hashknownhosts,
# connecttimeout, serveraliveinterval and serveralivecountmax.  ssh -G
# makes no connection.  Both run with HOME at the password database's home,
# which is what OpenSSH expands "~" and %d with.
set -uo pipefail

fails=0 passes=0
die() { echo "test_sshconf_sshg: $*" >&2; exit 99; }
[[ -n "${DRONEX_BIN:-}" ]] || die "DRONEX_BIN is not set (run me through make check)"
command -v ssh >/dev/null || die "ssh missing (apt-get install openssh-client)"
command -v python3 >/dev/null || die "python3 missing (apt-get install python3)"

work="$(mktemp -d "${TMPDIR:-/tmp}/dronex-sshg.XXXXXX")" || die "mktemp failed"
trap '[[ -n "${DRONEX_KEEP:-}" ]] || rm -rf "$work"' EXIT
home="$(getent passwd "$(id -u)" | cut -d: -f6)"
[[ -n "$home" ]] || die "no home directory in the password database"
# Relative Include paths are relative to ~/.ssh: a name of our own there
# would touch the user's directory, so the relative case uses a path that
# climbs back out into $work.
rel="$(python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
    "$work/inc" "$home/.ssh")"
mkdir -p "$work/inc" "$work/conf.d"

cat >"$work/c1" <<EOF
# several blocks, negation, first value wins
Host web-* !web-bad
  HostName %h.internal
  User deploy
  Port 2201
  IdentityFile ~/.ssh/web_%r
  IdentityFile "$work/keys/web two"
  ProxyJump bastion,ops@gw2:2222
Host db? db-*,dbx dbz-* !dbz-9
  HostName=10.1.0.5
  Port = 5432
  User dba
  StrictHostKeyChecking accept-new
  UserKnownHostsFile $work/kh_db ~/kh_db2 %d/kh_db3
  ServerAliveInterval 1m
Host *.example !no.example
  IdentitiesOnly yes
  ConnectTimeout 7
  StrictHostKeyChecking no
Host *
  User everyone
  Port 22
  IdentityFile $work/keys/any_%h
  HashKnownHosts yes
  GlobalKnownHostsFile $work/gkh
  ServerAliveCountMax 9
  ForwardAgent yes
EOF

cat >"$work/c2" <<EOF
Include $work/conf.d/*.conf
Include $rel/nested.conf
Host alias1
  HostName 127.0.0.1
  User late
Host *
  ProxyJump none
  ConnectTimeout 3
EOF
cat >"$work/conf.d/10-a.conf" <<EOF
Host alias1 alias2
  Port 2022
  IdentityFile $work/keys/a1
Host alias2
  HostName alias-two.example
  StrictHostKeyChecking yes
EOF
cat >"$work/conf.d/20-b.conf" <<EOF
Host alias1
  Port 9999
  User fromb
  IdentityFile $work/keys/a1b
  UserKnownHostsFile none
EOF
cat >"$work/inc/nested.conf" <<EOF
Host alias3
  ProxyJump jumper
  ServerAliveInterval 0
  IdentitiesOnly yes
Host *
  ServerAliveCountMax 1
EOF

cat >"$work/compare.py" <<'EOF'
import json, os, sys

explain, sshg, name, home = sys.argv[1:5]
with open(explain) as f:
    dx = {o["setting"]: o for o in json.load(f) if not o.get("ignored")}
g = {}
with open(sshg) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition(" ")
        g.setdefault(k, []).append(v)
bad = []

def want(cond, what):
    if not cond:
        bad.append(what)

def one(k):
    return g.get(k, [None])[0]

def val(s):
    return dx[s]["value"]

def src(s):
    return dx[s]["source"]

want(val("host") == one("hostname"), "hostname %r vs %r" % (val("host"), one("hostname")))
want(val("user") == one("user"), "user %r vs %r" % (val("user"), one("user")))
want(str(val("port")) == one("port"), "port %r vs %r" % (val("port"), one("port")))

# ssh -G prints identityfile as written; expand as OpenSSH will.
def expand(p):
    if p.startswith("~/"):
        p = home + p[1:]
    out, i = "", 0
    while i < len(p):
        if p[i] == "%" and i + 1 < len(p):
            t = p[i + 1]
            out += {"%": "%", "d": home, "u": os.environ.get("DX_LOCAL_USER", ""),
                    "h": one("hostname"), "r": one("user"), "n": name,
                    "p": one("port")}[t]
            i += 2
        else:
            out += p[i]
            i += 1
    return out

if src("identity") == "ssh_config":
    want(val("identity") == [expand(p) for p in g.get("identityfile", [])],
         "identityfile %r vs %r" % (val("identity"), g.get("identityfile")))
else:
    want(val("identity") == [], "identity %r from %s" % (val("identity"), src("identity")))
want(val("identities_only") == (one("identitiesonly") == "yes"),
     "identitiesonly %r vs %r" % (val("identities_only"), one("identitiesonly")))
want(val("jump") == one("proxyjump"), "proxyjump %r vs %r" % (val("jump"), one("proxyjump")))

def files(s, k):
    v = val(s)
    return "none" if v == ["/dev/null"] else " ".join(v)

want(files("known_hosts", "") == one("userknownhostsfile"),
     "userknownhostsfile %r vs %r" % (val("known_hosts"), one("userknownhostsfile")))
want(files("global_known_hosts", "") == one("globalknownhostsfile"),
     "globalknownhostsfile %r vs %r" % (val("global_known_hosts"), one("globalknownhostsfile")))
shkc = {"true": "strict", "ask": "strict", "false": "off", "accept-new": "accept-new"}
want(val("host_key_check") == shkc[one("stricthostkeychecking")],
     "stricthostkeychecking %r vs %r" % (val("host_key_check"), one("stricthostkeychecking")))
want(val("hash_known_hosts") == (one("hashknownhosts") == "yes"),
     "hashknownhosts %r vs %r" % (val("hash_known_hosts"), one("hashknownhosts")))
ct = one("connecttimeout")
if ct == "none":
    want(src("connect_timeout") == "default", "connecttimeout none, dronex %r" % dx["connect_timeout"])
else:
    want(val("connect_timeout") == float(ct), "connecttimeout %r vs %r" % (val("connect_timeout"), ct))
sai = one("serveraliveinterval")
if src("keepalive") == "default":
    want(sai == "0", "serveraliveinterval %r but dronex has its default" % sai)
else:
    want(str(val("keepalive")) == sai, "serveraliveinterval %r vs %r" % (val("keepalive"), sai))
want(str(val("server_alive_count_max")) == one("serveralivecountmax"),
     "serveralivecountmax %r vs %r" % (val("server_alive_count_max"), one("serveralivecountmax")))
if bad:
    print("; ".join(bad))
    sys.exit(1)
EOF

export DX_LOCAL_USER="$(id -un)"
cd "$work" || die "cd $work"
check() {
	local conf="$1" name="$2"
	if ! HOME="$home" "$DRONEX_BIN" list -w "$name" --ssh-config "$work/$conf" \
	    --explain "$name" >"$work/dx.json" 2>"$work/dx.err"; then
		fails=$(( fails + 1 ))
		echo "FAIL: $conf $name: dronex: $(cat "$work/dx.err")"
		return
	fi
	if ! HOME="$home" ssh -G -F "$work/$conf" "$name" >"$work/g.txt" 2>"$work/g.err" \
	    </dev/null; then
		fails=$(( fails + 1 ))
		echo "FAIL: $conf $name: ssh -G: $(cat "$work/g.err")"
		return
	fi
	if out="$(python3 "$work/compare.py" "$work/dx.json" "$work/g.txt" "$name" "$home")"; then
		passes=$(( passes + 1 ))
		echo "ok: $conf $name"
	else
		fails=$(( fails + 1 ))
		echo "FAIL: $conf $name: $out"
	fi
}

for n in web-01 web-bad db1 db12 db-7 dbx dbz-1 dbz-9 a.example no.example other; do
	check c1 "$n"
done
for n in alias1 alias2 alias3 other; do
	check c2 "$n"
done

# The test must be able to fail: a value dronex resolves differently from
# ssh is noticed (ssh_config's Port against a -G output that says otherwise).
HOME="$home" "$DRONEX_BIN" list -w db1 --ssh-config "$work/c1" --explain db1 \
    >"$work/dx.json" 2>/dev/null
HOME="$home" ssh -G -F "$work/c1" db1 2>/dev/null </dev/null | sed 's/^port .*/port 1/' \
    >"$work/g.txt"
if python3 "$work/compare.py" "$work/dx.json" "$work/g.txt" db1 "$home" >/dev/null; then
	fails=$(( fails + 1 ))
	echo "FAIL: the comparison did not notice a different port"
else
	passes=$(( passes + 1 ))
	echo "ok: a difference is noticed"
fi

echo "test_sshconf_sshg: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
