#!/usr/bin/env bash
# test_completion.sh - completion/dronex as bash runs it: the file is
# sourced, COMP_WORDS and COMP_CWORD are set as bash sets them for a line,
# _dronex is called, and COMPREPLY is checked.  The names and labels come
# from the dronex under test (list --names / --labels) and the inventory in
# effect: -i FILE on the line, else $DRONEX_INVENTORY, else ./drones.json.
# Also what it reads: list --names / --labels, their refusals and exit 3.
# Connects nowhere.
set -uo pipefail

fails=0 passes=0
ok() { passes=$(( passes + 1 )); echo "ok: $*"; }
bad() { fails=$(( fails + 1 )); echo "FAIL: $*"; }
die() { echo "test_completion: $*" >&2; exit 99; }

[[ -n "${DRONEX_BIN:-}" && -x "$DRONEX_BIN" ]] || die "DRONEX_BIN is not set (run me through make check)"
[[ -n "${DRONEX_SRCDIR:-}" ]] || die "DRONEX_SRCDIR is not set"
file="$DRONEX_SRCDIR/completion/dronex"
[[ -f $file ]] || die "no $file"
work="$(mktemp -d "${TMPDIR:-/tmp}/dronex-completion.XXXXXX")" || die "mktemp failed"
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin" "$work/cwd" "$work/empty"
ln -s "$DRONEX_BIN" "$work/bin/dronex"
PATH="$work/bin:$PATH"
unset DRONEX_INVENTORY
cat >"$work/inv.json" <<'JSON'
{ "drones": [
    { "name": "web-01", "host": "127.0.0.1", "labels": ["web", "prod"] },
    { "name": "web-02", "host": "127.0.0.1", "labels": ["web"] },
    { "name": "db-1", "host": "127.0.0.1", "labels": ["db", "prod"] },
    { "name": "db-2", "host": "127.0.0.1", "labels": ["db"] } ] }
JSON
cat >"$work/cwd/drones.json" <<'JSON'
{ "drones": [ { "name": "here-1", "host": "127.0.0.1", "labels": ["local"] } ] }
JSON
: >"$work/cwd/results-1.json"

# shellcheck source=/dev/null
. "$file" || die "sourcing $file failed"
complete -p dronex >/dev/null 2>&1 && ok "sourcing registers the completion for dronex" ||
	bad "no 'complete -F ... dronex' after sourcing"

# comp LINE: COMPREPLY for the cursor at the end of LINE, sorted, one a
# line.  A line ending in a blank completes a new, empty word.  '=' is a
# word of its own, as bash's COMP_WORDBREAKS makes it.
comp() {
	local line="$1"
	local -a w
	line="${line//=/ = }"
	read -r -a w <<<"$line"
	[[ $1 == *" " ]] && w+=("")
	COMP_WORDS=("${w[@]}")
	COMP_CWORD=$(( ${#w[@]} - 1 ))
	COMP_LINE="$1"
	COMP_POINT=${#1}
	COMPREPLY=()
	_dronex dronex "${w[COMP_CWORD]}" "${w[COMP_CWORD - 1]:-}" 2>"$work/stderr"
	[[ -s $work/stderr ]] && echo "stderr: $(cat "$work/stderr")"
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# expect LINE WORD...: COMPREPLY is exactly these words.
expect() {
	local line="$1"; shift
	local got want
	got="$(comp "$line")"
	want="$(printf '%s\n' "$@" | sort)"
	[[ $# -eq 0 ]] && want=""
	if [[ "$got" == "$want" ]]; then
		ok "'$line' -> $(tr '\n' ' ' <<<"$got")"
	else
		bad "'$line': want [$(tr '\n' ' ' <<<"$want")] got [$(tr '\n' ' ' <<<"$got")]"
	fi
}

# has LINE WORD...: COMPREPLY holds these words (and maybe others).
has() {
	local line="$1"; shift
	local got
	got="$(comp "$line")"
	for x in "$@"; do
		if grep -qxF -- "$x" <<<"$got"; then
			ok "'$line' offers $x"
		else
			bad "'$line' does not offer $x: [$(tr '\n' ' ' <<<"$got")]"
		fi
	done
}

lacks() {
	local line="$1"; shift
	local got
	got="$(comp "$line")"
	for x in "$@"; do
		if grep -qxF -- "$x" <<<"$got"; then
			bad "'$line' offers $x"
		else
			ok "'$line' does not offer $x"
		fi
	done
}

inv="$work/inv.json"
cd "$work/empty" || die "cd"

# What the completion reads: dronex list --names / --labels, one a line.
got="$(dronex list -i "$inv" --names)"
[[ $got == $'web-01\nweb-02\ndb-1\ndb-2' ]] && ok "list --names: selection order" ||
	bad "list --names: [$got]"
got="$(dronex list -i "$inv" --labels)"
[[ $got == $'db\nprod\nweb' ]] && ok "list --labels: sorted, once each" ||
	bad "list --labels: [$got]"
got="$(dronex list -i "$inv" -g db --labels)"
[[ $got == $'db\nprod' ]] && ok "list --labels: of the selection only" ||
	bad "list -g db --labels: [$got]"
dronex exec -i "$inv" --names -- true >"$work/out" 2>&1
rc=$?
(( rc == 2 )) && grep -q -- "'--names' does nothing for 'dronex exec'" "$work/out" &&
	ok "exec refuses --names (exit 2)" || bad "exec --names: exit $rc: $(cat "$work/out")"
dronex list -i "$inv" --names --labels >"$work/out" 2>&1
rc=$?
(( rc == 2 )) && ok "list --names --labels is refused (exit 2)" ||
	bad "list --names --labels: exit $rc: $(cat "$work/out")"
dronex list -i "$inv" --names >/dev/full 2>"$work/out"
rc=$?
(( rc == 3 )) && grep -q 'No space left' "$work/out" && ok "list --names to a full disk: exit 3" ||
	bad "list --names >/dev/full: exit $rc: $(cat "$work/out")"

# Subcommands, and options per subcommand.
expect "dronex " exec list merge serve submit wait abort status pause resume \
	resize priority --help --version
expect "dronex re" resize resume
expect "dronex exec --fa" --fail-fast --fanout
expect "dronex list --na" --names
expect "dronex exec --na"
lacks "dronex list --" --fanout --timeout --format
has "dronex list -" --explain --names --labels --pretty -w
has "dronex exec -" --format --progress --stdin --max-output -w -x -g
has "dronex wait --" --spool --timeout
has "dronex status --" --spool --format
lacks "dronex status --" --fanout

# Drone names and @LABELs for -w and -x, from -i FILE on the line.
expect "dronex exec -i $inv -w we" web-01 web-02
expect "dronex exec -i $inv -x db-" db-1 db-2
expect "dronex exec -i $inv -w web-01,d" web-01,db-1 web-01,db-2
expect "dronex exec -i $inv -w @" @db @prod @web
expect "dronex exec -i $inv -w web-02,@p" web-02,@prod
expect "dronex exec --inventory=$inv --drones @d" @db
expect "dronex exec -i $inv -g p" prod
expect "dronex list -i $inv --explain db" db-1 db-2
# -i given after -w counts too: the whole line is read.
expect "dronex exec -w d -i $inv -x db-" db-1 db-2

# $DRONEX_INVENTORY, else ./drones.json.
DRONEX_INVENTORY="$inv" expect "dronex exec -w web-0" web-01 web-02
(cd "$work/cwd" && expect "dronex exec -w h" here-1)
(cd "$work/cwd" && expect "dronex list -g " local)
(cd "$work/cwd" && DRONEX_INVENTORY="$inv" expect "dronex list -g l")
# No inventory at all: nothing, and nothing on the terminal.
expect "dronex exec -w we"
expect "dronex exec -i $work/missing.json -w we"

# Values of their own.
expect "dronex exec --format " json jsonl text
expect "dronex exec --format=te" text
expect "dronex status --format " json prometheus
expect "dronex wait --format " json jsonl
has "dronex serve --" --spool --idle-timeout --max-sessions --fanout
has "dronex submit --" --spool --priority --drones
expect "dronex exec --host-key-check a" accept-new
expect "dronex exec --shard a" auto
expect "dronex exec --fanout "
(cd "$work/cwd" && expect "dronex merge res" results-1.json)
# After "--" the words are the command's, not dronex's.
expect "dronex exec -i $inv -- ls -w"

echo "test_completion: $passes passed, $fails failed"
(( fails == 0 ))
