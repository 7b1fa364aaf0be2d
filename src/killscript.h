/*
 * killscript.h - the shell command that ends a cut call on the drone.
 */
#ifndef DX_KILLSCRIPT_H
#define DX_KILLSCRIPT_H

/*
 * The command line (for the drone's login shell) that a second channel of
 * the cut call's session runs: TERM, then after up to 0.5 s KILL, to the
 * process group of every other command under the same sshd connection.
 * It prints "k" once TERM went out.  It does nothing unless its parent is
 * an sshd, so that a script whose connection is already gone (its parent
 * then being init or a subreaper) never touches unrelated processes.
 */
const char	*dx_kill_script(void);

#endif
