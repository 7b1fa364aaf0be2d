/*
 * fuzz_hostset.c - libFuzzer target for drone sets.
 *
 * The input is "SPEC\nNAME": SPEC goes to dx_hostset_parse(), NAME to
 * dx_hostset_match().  Besides not crashing or leaking, a parsed set must
 * keep its promises: at most DX_HOSTSET_MAX names, none empty, no bracket
 * left in any (brackets always expand), and every name matches its own set.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostset.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dx_hostset set;
	struct dx_err err = { 0 };
	char *spec, *name;
	size_t i;

	if ((spec = malloc(size + 1)) == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if ((name = strchr(spec, '\n')) != NULL)
		*name++ = '\0';
	else
		name = spec + strlen(spec);

	if (dx_hostset_parse(&set, spec, &err) == -1) {
		if (err.kind != DX_USAGE || strncmp(err.msg, "column ", 7) != 0 ||
		    set.names != NULL || set.n != 0)
			abort();
		free(spec);
		return 0;
	}
	if (set.n == 0 || set.n > DX_HOSTSET_MAX)
		abort();
	/* Checking every name of a million-name set would drown the fuzzer. */
	for (i = 0; i < set.n && i < 64; i++) {
		if (set.names[i][0] == '\0' ||
		    strpbrk(set.names[i], "[],") != NULL ||
		    !dx_hostset_match(&set, set.names[i]))
			abort();
	}
	(void)dx_hostset_match(&set, name);
	dx_hostset_release(&set);
	free(spec);
	return 0;
}
