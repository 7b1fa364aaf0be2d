/*
 * killscript.c - the shell command that ends a cut call on the drone.
 *
 * libssh2 1.10 cannot send a "signal" channel request, and a pty would
 * merge stderr into stdout, so a call cut by its timeout, the deadline or
 * an interrupt is ended by a second channel on the same session running
 * this script.  It is sent as one line because the drone's login shell
 * parses it first, and not every login shell accepts a newline inside
 * quotes.  Part by part:
 *
 *  exec /bin/sh -c '...'   The login shell (bash, zsh, csh, fish...) is
 *      replaced by a POSIX sh that keeps its pid, so the script's parent
 *      ($PPID) is the connection's sshd process, as the cut command's is.
 *  [ "$PPID" -gt 1 ] ... case $(ps -o comm= -p "$PPID") in *sshd*...
 *      The guard.  If the connection ended while the shell was starting
 *      (dronex drops it once TERM went out, or the link died), the
 *      script has been re-parented to init or a subreaper before sh
 *      read $PPID; the "children of $PPID" would then be every daemon on
 *      the machine.  So the script acts only under an sshd (OpenSSH's
 *      "sshd" or "sshd-session", or dropbear) and exits quietly otherwise.
 *      PID 1 is refused first: it is never a connection's own sshd, even
 *      in a container whose init is "sshd -D".
 *  g=$(ps -A -o pid= -o ppid= | while read p q; do ...)
 *      POSIX ps lists every process with its parent; the script keeps the
 *      children of that sshd other than itself ($$).  ps and the loop run
 *      as children of the script, so they are never listed.  sshd starts
 *      each command in a session of its own (setsid), so each pid found
 *      is also a process group id.
 *  kill -s TERM -- -$p      TERM to each whole group, so that the command's
 *      own children (a pipeline, a script's subprocesses) end too; the
 *      plain pid is tried if the group is gone.
 *  echo k                  TERM has gone out.  When the deadline or an
 *      interrupt ends the whole drone, dronex waits only for this and then
 *      drops the connection: the script, which already knows its targets,
 *      goes on alone (orphaned, silent) with the grace and the KILL.
 *  while [ $i -lt 5 ] ...  A grace of up to 0.5 s (5 x 0.1 s) for the
 *      groups to exit; "kill -s 0" tests whether any member is left.
 *  kill -s KILL -- -$p      Whatever ignored TERM is killed.
 * Processes that left the group (setsid, daemons) are out of reach, as
 * with any job control.  The script needs sh, ps and kill on the drone.
 */
#include "config.h"

#include "killscript.h"

static const char kill_script[] =
    "exec /bin/sh -c '"
    /* Only under a live sshd connection (see the guard above). */
    "[ \"$PPID\" -gt 1 ] 2>/dev/null || exit 0; "
    "case $(ps -o comm= -p \"$PPID\" 2>/dev/null) in "
    "*sshd*|dropbear*) ;; *) exit 0;; esac; "
    /* The children of our parent sshd, except ourselves. */
    "g=$(ps -A -o pid= -o ppid= | while read p q; do "
    "[ \"$q\" = \"$PPID\" ] && [ \"$p\" != \"$$\" ] && echo $p; done); "
    "[ -n \"$g\" ] || exit 0; "
    /* TERM to each process group, falling back to the process. */
    "for p in $g; do kill -s TERM -- -$p 2>/dev/null || "
    "kill -s TERM $p 2>/dev/null; done; "
    /* Tell dronex TERM went out (a hurried dronex may leave now). */
    "echo k; "
    /* Up to 0.5 s for them to go. */
    "i=0; while [ $i -lt 5 ]; do a=; for p in $g; do "
    "kill -s 0 -- -$p 2>/dev/null && a=1; done; [ -n \"$a\" ] || exit 0; "
    "sleep 0.1; i=$((i+1)); done; "
    /* Then KILL to what is left. */
    "for p in $g; do kill -s KILL -- -$p 2>/dev/null; done; exit 0'";

const char *
dx_kill_script(void)
{
	return kill_script;
}
