/*
 * home.h - the current user's home directory and name, and "~" expansion,
 * as OpenSSH finds them: $HOME when it is set and not empty, else the
 * password database's entry for the effective user (getpwuid_r).  The
 * inventory, the targets and (later) ssh_config all ask here.
 *
 * HOME is read on every call (a test or a scheduler may change it); the
 * user's name is looked up once per process.  Returned "char *" strings
 * are the caller's to free; dx_home_user() returns a borrowed string.
 */
#ifndef DX_HOME_H
#define DX_HOME_H

#include "dronex.h"

/* The home directory (malloc'd), or NULL with err set (DX_USAGE, OOM). */
char		*dx_home_dir(struct dx_err *);
/*
 * The current user's name: the password database's, else $USER; "" when
 * neither is known.  Borrowed, valid for the life of the process.
 */
const char	*dx_home_user(void);
/*
 * "~" or "~/x" -> "$HOME/x" (the password database's home when HOME is
 * unset or empty); other paths, "~user/x" included, are copied.  Returns a
 * string the caller frees, or NULL + err (DX_USAGE) if no home is known.
 */
char		*dx_expand_tilde(const char *path, struct dx_err *);

#endif
