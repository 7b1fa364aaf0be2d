/*
 * killscript.h - the shell command that ends a cut call on the drone.
 */
#ifndef DX_KILLSCRIPT_H
#define DX_KILLSCRIPT_H

/*
 * The command line (for the drone's login shell) that a second channel of
 * the cut call's session runs: TERM, then after up to 0.5 s KILL, to every
 * other command under the same sshd connection (its process group when it
 * has one of its own, else the process and its descendants).  It does
 * nothing unless its parent is an sshd, so that a script whose connection
 * is already gone (its parent then being init or a subreaper) never
 * touches unrelated processes.
 *
 * It says what it did with a line of one letter on stdout (a login
 * shell's start-up files may print other lines before it); no such line
 * proves nothing (the command may still be running).
 */
#define DX_KILL_TERM	'k'	/* TERM went out (KILL follows the grace) */
#define DX_KILL_NONE	'n'	/* nothing was left to signal */
#define DX_KILL_GUARD	'g'	/* refused: its parent is not an sshd */
#define DX_KILL_ERROR	'e'	/* could not list processes (no ps, no /proc) */

const char	*dx_kill_script(void);

#endif
