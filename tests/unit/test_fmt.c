/*
 * test_fmt.c - the message formatters (fmt.h) and the base64 codec
 * (base64.h), table-driven.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base64.h"
#include "fmt.h"

Test(fmt, hostport_in_both_styles)
{
	static const struct {
		const char	*host;
		int		 port;
		enum dx_hp_style style;
		const char	*want;
	} cases[] = {
		{ "web-1", 22, DX_HP_SSH, "web-1" },
		{ "web-1", 0, DX_HP_SSH, "web-1" },
		{ "web-1", 2222, DX_HP_SSH, "[web-1]:2222" },
		{ "::1", 2222, DX_HP_SSH, "[::1]:2222" },
		{ "::1", 22, DX_HP_SSH, "::1" },
		{ "web-1", 22, DX_HP_ADDR, "web-1:22" },
		{ "10.0.0.1", 2222, DX_HP_ADDR, "10.0.0.1:2222" },
		{ "::1", 22, DX_HP_ADDR, "[::1]:22" },
	};
	char buf[DX_FMT_HOSTPORT_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(dx_fmt_hostport(buf, sizeof(buf), cases[i].host,
		    cases[i].port, cases[i].style), cases[i].want, "case %zu", i);
}

Test(fmt, hostport_truncates_to_the_buffer)
{
	char buf[6];

	cr_assert_str_eq(dx_fmt_hostport(buf, sizeof(buf), "longhost", 2222,
	    DX_HP_SSH), "[long");
}

Test(fmt, seconds)
{
	static const struct {
		int64_t		 ms;
		const char	*want;
	} cases[] = {
		{ 0, "0 s" }, { 1000, "1 s" }, { 10000, "10 s" }, { 1500, "1.5 s" },
		{ 250, "0.25 s" }, { 40000, "40 s" }, { 1, "0.001 s" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(dx_fmt_secs(buf, sizeof(buf), cases[i].ms),
		    cases[i].want, "case %zu", i);
}

Test(base64, encodes_rfc4648_vectors_and_decodes_them_back)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	unsigned char out[16];
	char buf[16];

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = strlen(vec[i][0]);
		char *e = dx_base64_encode(vec[i][0], n);

		cr_assert_not_null(e);
		cr_expect_str_eq(e, vec[i][1], "case %zu", i);
		free(e);
		cr_expect_eq(dx_base64_encode_buf(buf, vec[i][0], n),
		    strlen(vec[i][1]));
		cr_expect_str_eq(buf, vec[i][1]);
		if (n == 0)
			continue;
		cr_assert_eq(dx_base64_decode(vec[i][1], strlen(vec[i][1]), out),
		    (long)n, "case %zu", i);
		cr_expect_eq(memcmp(out, vec[i][0], n), 0, "case %zu", i);
	}
}

Test(base64, decoding_is_strict)
{
	static const char *const bad[] = {
		"", "Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v YmFy", "Zm9\nv",
		"Zm9*", "=Zm9", "Zm=v",
	};
	unsigned char out[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(dx_base64_decode(bad[i], strlen(bad[i]), out), -1,
		    "'%s' is not strict base64", bad[i]);
}

Test(base64, every_byte_round_trips)
{
	unsigned char in[256], out[256];
	char *e;

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	for (size_t n = 1; n <= 256; n += 17) {
		cr_assert_not_null(e = dx_base64_encode(in, n));
		cr_assert_eq(strlen(e), DX_BASE64_LEN(n));
		cr_assert_eq(dx_base64_decode(e, strlen(e), out), (long)n);
		cr_assert_eq(memcmp(in, out, n), 0);
		free(e);
	}
}
