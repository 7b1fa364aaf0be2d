/*
 * base64.h - standard base64 encoding (RFC 4648, with padding).
 */
#ifndef DX_BASE64_H
#define DX_BASE64_H

#include <stddef.h>

/* The encoding of len bytes, NUL-terminated; the caller frees.  NULL if out of memory. */
char	*dx_base64_encode(const void *data, size_t len);

#endif
