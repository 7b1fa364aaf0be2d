/*
 * base64.c - standard base64 (RFC 4648, with padding), both ways
 * (base64.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "base64.h"

static const char b64_tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const signed char b64_val[256] = {
#define X64 -1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1
	X64, X64,
	-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,62,-1,-1,-1,63,
	52,53,54,55,56,57,58,59,60,61,-1,-1,-1,-1,-1,-1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14,
	15,16,17,18,19,20,21,22,23,24,25,-1,-1,-1,-1,-1,
	-1,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,
	41,42,43,44,45,46,47,48,49,50,51,-1,-1,-1,-1,-1,
	X64, X64, X64, X64, X64, X64, X64, X64
#undef X64
};

size_t
dx_base64_encode_buf(char *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	char *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64_tab[p[i] >> 2];
		*o++ = b64_tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = b64_tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = b64_tab[p[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64_tab[p[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64_tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*o++ = b64_tab[(p[i + 1] & 15) << 2];
		} else {
			*o++ = b64_tab[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return (size_t)(o - out);
}

char *
dx_base64_encode(const void *data, size_t len)
{
	char *out;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	if ((out = malloc(DX_BASE64_LEN(len) + 1)) == NULL)
		return NULL;
	dx_base64_encode_buf(out, data, len);
	return out;
}

long
dx_base64_decode(const char *s, size_t len, unsigned char *out)
{
	size_t i, o = 0, pad = 0;
	int v[4];

	if (len == 0 || len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (int k = 0; k < 4; k++) {
			unsigned char ch = (unsigned char)s[i + k];

			if (ch == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = b64_val[ch]) < 0)
				return -1;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	return (long)o;
}
