/*
 * utf8.h - UTF-8 checks and cuts, so that every string dronex puts into a
 * results document is valid UTF-8 (SPEC section 4).
 *
 * None of these allocate.  Lengths are in bytes.
 */
#ifndef DX_UTF8_H
#define DX_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True if the len bytes at s are well-formed UTF-8 (RFC 3629). */
bool	dx_utf8_valid(const char *s, size_t len);
/*
 * The length of the longest prefix of s[0..len) that is at most max bytes
 * and does not end inside a multi-byte character.  Only the cut is looked
 * at: invalid bytes before it are left for the caller.
 */
size_t	dx_utf8_cut(const char *s, size_t len, size_t max);
/*
 * The length of s[0..len) less an incomplete character at its very end (a
 * stream cut by a byte cap), so that a valid stream stays valid.
 */
size_t	dx_utf8_trim_partial(const char *s, size_t len);
/*
 * Makes the NUL-terminated string s valid UTF-8 in place: every byte that
 * does not start a well-formed character becomes '?'.  For messages that
 * quote bytes dronex did not choose (commands, server-sent names).
 */
void	dx_utf8_scrub(char *s);

#endif
