/*
 * killscript.c - the shell command that ends a cut call on the drone.
 *
 * libssh2 1.10 cannot send a "signal" channel request, and a pty would
 * merge stderr into stdout, so a call cut by its timeout, the deadline or
 * an interrupt is ended by a second channel on the same session running
 * this script.  It is sent as one line because the drone's login shell
 * parses it first, and not every login shell accepts a newline inside
 * quotes.  It uses only the kill forms that dash, bash and BusyBox ash all
 * accept ("kill -TERM -PGID": ash refuses "--").
 *
 * Every outcome is said with a marker line on stdout (a line of one
 * letter, never taken from anything else the shell prints), so that dronex
 * claims only what the script saw (killscript.h lists them); a script
 * that ends without a marker (no /bin/sh, a broken link) proves nothing.
 * Part by part:
 *
 *  exec /bin/sh -c '...'   The login shell (bash, zsh, csh, fish...) is
 *      replaced by a POSIX sh that keeps its pid, so the script's parent
 *      ($PPID) is the connection's sshd process, as the cut command's is.
 *  [ "$PPID" -gt 1 ] ... case $c in *sshd*...   The guard ("g").  If the
 *      connection ended while the shell was starting (dronex drops it
 *      once TERM went out, or the link died), the script has been
 *      re-parented to init or a subreaper before sh read $PPID; the
 *      "children of $PPID" would then be every daemon on the machine.  So
 *      the script acts only under an sshd (OpenSSH's "sshd" or
 *      "sshd-session", or dropbear).  PID 1 is refused first: it is never
 *      a connection's own sshd, even in a container whose init is
 *      "sshd -D".  The parent's name comes from "ps -o comm= -p", or from
 *      /proc/PPID/comm where ps has no -p (BusyBox); neither: "e".
 *  L=$(ps -A -o pid= -o ppid= -o pgid=) ... /proc/[0-9]*\/stat
 *      Every process with its parent and process group: POSIX ps, or,
 *      where ps cannot (BusyBox builds without -o), the kernel's own table
 *      (the fields after the last ")" of each stat line: state, ppid,
 *      pgrp).  Neither gives anything: "e".  The listing runs in a child
 *      of the script, so it never lists itself as a child of $PPID.
 *  G=... a=...   The children of that sshd other than the script ($$).
 *      OpenSSH starts each command in a session of its own (setsid), so
 *      its pgid is its pid: such a child goes into G and its whole group
 *      is signalled, so that a pipeline or a script's subprocesses end
 *      too.  A child without a group of its own (Dropbear, or a wrapper
 *      that did not setsid: its pgid is the sshd's or the script's) goes
 *      into a, and then so do its descendants, found in the same listing:
 *      signalling its group would hit the sshd and the script.
 *  [ -n "$G$a" ] || { echo n; ...   Nothing left to signal: "n" (the cut
 *      command had already ended).
 *  kill -TERM ...; echo k   TERM went out to at least one target ("k"; if
 *      every kill failed, the targets were gone: "n").  When the deadline
 *      or an interrupt ends the whole drone, dronex waits only for this
 *      and then drops the connection: the script, which already knows its
 *      targets, goes on alone (orphaned, silent) with the grace and KILL.
 *  while [ $i -lt 5 ] ...  A grace of up to 0.5 s (5 x 0.1 s) for the
 *      targets to exit; "kill -0" tests whether any is left.
 *  kill -KILL ...           Whatever ignored TERM is killed.
 * Processes that left the group (setsid, daemons) are out of reach, as
 * with any job control.  The script needs sh, kill, and ps or /proc.
 */
#include "config.h"

#include "killscript.h"

static const char kill_script[] =
    "exec /bin/sh -c '"
    /* Only under a live sshd connection (see the guard above). */
    "[ \"$PPID\" -gt 1 ] 2>/dev/null || { echo g; exit 0; }; "
    "c=$(ps -o comm= -p \"$PPID\" 2>/dev/null) || c=; "
    "[ -n \"$c\" ] || { read -r c < /proc/$PPID/comm; } 2>/dev/null || "
    "{ echo e; exit 0; }; "
    "case $c in *sshd*|dropbear*) ;; *) echo g; exit 0;; esac; "
    /* Every process: pid, ppid, pgid; from ps, else from /proc. */
    "L=$(ps -A -o pid= -o ppid= -o pgid= 2>/dev/null) || L=; "
    "[ -n \"$L\" ] || L=$(for d in /proc/[0-9]*; do "
    "{ read -r s < $d/stat; } 2>/dev/null || continue; "
    "s=${s##*[)] }; set -- $s; echo \"${d#/proc/} $2 $3\"; done); "
    "[ -n \"$L\" ] || { echo e; exit 0; }; "
    /* The children of our parent sshd, except ourselves. */
    "G=; a=; set -- $L; while [ $# -ge 3 ]; do "
    "if [ \"$2\" = \"$PPID\" ] && [ \"$1\" != \"$$\" ]; then "
    "if [ \"$3\" = \"$1\" ]; then G=\"$G $1\"; else a=\"$a $1\"; fi; fi; "
    "shift 3; done; "
    /* With no group of their own: their descendants too. */
    "n=$a; while [ -n \"$n\" ]; do x=$n; n=; set -- $L; "
    "while [ $# -ge 3 ]; do for y in $x; do "
    "[ \"$2\" = \"$y\" ] && n=\"$n $1\"; done; shift 3; done; "
    "a=\"$a $n\"; done; "
    "[ -n \"$G$a\" ] || { echo n; exit 0; }; "
    /* TERM to each group or process. */
    "t=; for p in $G; do kill -TERM -$p 2>/dev/null && t=1; done; "
    "for p in $a; do kill -TERM $p 2>/dev/null && t=1; done; "
    "[ -n \"$t\" ] || { echo n; exit 0; }; "
    /* Tell dronex TERM went out (a hurried dronex may leave now). */
    "echo k; "
    /* Up to 0.5 s for them to go. */
    "i=0; while [ $i -lt 5 ]; do t=; "
    "for p in $G; do kill -0 -$p 2>/dev/null && t=1; done; "
    "for p in $a; do kill -0 $p 2>/dev/null && t=1; done; "
    "[ -n \"$t\" ] || exit 0; sleep 0.1; i=$((i+1)); done; "
    /* Then KILL to what is left. */
    "for p in $G; do kill -KILL -$p 2>/dev/null; done; "
    "for p in $a; do kill -KILL $p 2>/dev/null; done; exit 0'";

const char *
dx_kill_script(void)
{
	return kill_script;
}
