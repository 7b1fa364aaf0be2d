/*
 * signame.c - a signal name a server sent, made safe for the results.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "signame.h"

char *
dx_signal_name(const char *sig, size_t len)
{
	char *name;

	len = strnlen(sig, len);
	if (len > 3 && strncmp(sig, "SIG", 3) == 0) {
		sig += 3;
		len -= 3;
	}
	if (len > DX_SIGNAME_MAX)
		len = DX_SIGNAME_MAX;
	if ((name = strndup(sig, len)) == NULL)
		return NULL;
	for (char *q = name; *q != '\0'; q++)
		if (*q < 0x21 || *q > 0x7e)
			*q = '?';
	return name;
}
