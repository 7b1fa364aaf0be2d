/*
 * test_signame.c - the signal names a server sends are checked before
 * they reach the results (signame.c): a real name passes unchanged,
 * control bytes, broken UTF-8 and endless names do not.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "signame.h"
#include "utf8.h"

static void
sn_expect(const char *sig, size_t len, const char *want)
{
	char *got = dx_signal_name(sig, len);

	cr_assert_not_null(got);
	cr_expect_str_eq(got, want);
	cr_expect(dx_utf8_valid(got, strlen(got)));
	free(got);
}

Test(signame, real_names_pass_unchanged_without_sig)
{
	char *got = dx_signal_name("HUP", 3);

	cr_assert_not_null(got);
	cr_expect_str_eq(got, "HUP");
	free(got);
	sn_expect("TERM", 4, "TERM");
	sn_expect("SIGKILL", 7, "KILL");
	sn_expect("USR1@example.com", 16, "USR1@example.com");
	/* "SIG" alone is a name, not a prefix. */
	sn_expect("SIG", 3, "SIG");
}

Test(signame, control_bytes_and_broken_utf8_become_question_marks)
{
	char *got = dx_signal_name("\x07", 1);

	cr_assert_not_null(got);
	cr_expect_str_eq(got, "?");
	free(got);
	sn_expect("TE\x1b[2JRM", 8, "TE?[2JRM");
	sn_expect("\xff\xfeHUP", 5, "??HUP");
	sn_expect("A\nB\tC D", 7, "A?B?C?D");
	/* Valid UTF-8 is still not a signal name: replaced too. */
	sn_expect("\xc3\xa9T", 3, "??T");
}

Test(signame, the_name_stops_at_nul_and_at_32_bytes)
{
	char longname[100];

	sn_expect("INT\0junk", 8, "INT");
	memset(longname, 'X', sizeof(longname));
	{
		char *got = dx_signal_name(longname, sizeof(longname));

		cr_assert_not_null(got);
		cr_expect_eq(strlen(got), (size_t)DX_SIGNAME_MAX);
		free(got);
	}
}
