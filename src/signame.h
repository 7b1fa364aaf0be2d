/*
 * signame.h - a signal name a server sent, made safe for the results.
 */
#ifndef DX_SIGNAME_H
#define DX_SIGNAME_H

#include <stddef.h>

#define DX_SIGNAME_MAX	32	/* longest name kept, in bytes */

/*
 * The len bytes at sig (an "exit-signal" name, "SIG" prefix already
 * dropped or not) as a NUL-terminated copy for the results: "SIG" is
 * dropped, the name stops at a NUL byte and at DX_SIGNAME_MAX bytes, and
 * every byte that is not printable ASCII becomes '?'.  RFC 4254 names are
 * printable ASCII ("TERM", "name@domain"), so a real name is unchanged,
 * and no server can put control bytes or broken UTF-8 into the document.
 * NULL when out of memory.
 */
char	*dx_signal_name(const char *sig, size_t len);

#endif
