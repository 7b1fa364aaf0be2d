/*
 * utf8.c - UTF-8 validity, character-boundary cuts and scrubbing.
 *
 * One decoder (utf8_seq) decides what a well-formed character is, so the
 * validity check, the cuts and the scrub can never disagree about it.
 */
#include "config.h"

#include <stdint.h>

#include "utf8.h"

/*
 * The length of the well-formed character at s[0..len) (1 to 4), or 0 if
 * none starts there (a stray continuation byte, an overlong form, a
 * surrogate, a value past U+10FFFF, or a sequence cut short by len).
 */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else
		return 0;
	if (len <= n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n + 1;
}

bool
dx_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(s + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
dx_utf8_cut(const char *str, size_t len, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i;

	if (len <= max)
		return len;
	/* Back up over continuation bytes (at most 3) to a lead byte. */
	i = max;
	while (i > 0 && max - i < 4 && (s[i] & 0xc0) == 0x80)
		i--;
	return (s[i] & 0xc0) == 0x80 ? max : i;
}

size_t
dx_utf8_trim_partial(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = len, need;

	/* Find the last lead byte among the final 4 bytes. */
	while (i > 0 && len - i < 4 && (s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || len - i >= 4)
		return len;
	i--;
	if (s[i] >= 0xc2 && s[i] <= 0xdf)
		need = 2;
	else if (s[i] >= 0xe0 && s[i] <= 0xef)
		need = 3;
	else if (s[i] >= 0xf0 && s[i] <= 0xf4)
		need = 4;
	else
		return len;
	return len - i < need ? i : len;
}

void
dx_utf8_scrub(char *str)
{
	unsigned char *s = (unsigned char *)str;
	size_t len = 0, i = 0, n;

	while (s[len] != '\0')
		len++;
	while (i < len) {
		if ((n = utf8_seq(s + i, len - i)) == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}
