/*
 * base64.h - standard base64 (RFC 4648, with padding), both ways: the one
 * codec of dronex (output that is not UTF-8, known_hosts keys and hashes,
 * key fingerprints, OpenSSH private key files).
 */
#ifndef DX_BASE64_H
#define DX_BASE64_H

#include <stddef.h>

/* Characters in the padded encoding of n bytes (no NUL). */
#define DX_BASE64_LEN(n)	(((n) + 2) / 3 * 4)

/* The encoding of len bytes, NUL-terminated; the caller frees.  NULL if out of memory. */
char	*dx_base64_encode(const void *data, size_t len);
/*
 * The same into out, which has room for DX_BASE64_LEN(len) + 1 bytes;
 * returns the characters written (before the NUL).
 */
size_t	 dx_base64_encode_buf(char *out, const void *data, size_t len);
/*
 * Strict decoding of len characters at s (no whitespace; padding required
 * up to a multiple of 4 and only at the end) into out, which has room for
 * len / 4 * 3 bytes.  Returns the decoded length, or -1 if s is not
 * strict base64 (then out may hold part of it: cleanse it if secret).
 */
long	 dx_base64_decode(const char *s, size_t len, unsigned char *out);

#endif
