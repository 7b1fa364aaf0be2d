/*
 * fmt.h - the small formatters of messages: a host and port, and a time
 * span in seconds, each written one way everywhere.
 *
 * Both write into a caller's buffer (truncated to size, always
 * NUL-terminated) and return it, so that they fit inside a printf
 * argument list; nothing is allocated.
 */
#ifndef DX_FMT_H
#define DX_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Large enough for any host name dronex accepts and a port. */
#define DX_FMT_HOSTPORT_MAX	280

enum dx_hp_style {
	/*
	 * As OpenSSH names a host in known_hosts and its own messages:
	 * "host" on port 22 (or an unknown port, <= 0), "[host]:port"
	 * otherwise.
	 */
	DX_HP_SSH = 0,
	/*
	 * As an address to connect to: "host:port", with an IPv6 literal
	 * (any host with a ':') in brackets, "[::1]:port".
	 */
	DX_HP_ADDR
};

/* host and port in style into buf; returns buf. */
const char	*dx_fmt_hostport(char *buf, size_t size, const char *host,
		    int port, enum dx_hp_style style);

/*
 * A span of ms milliseconds in seconds: "1 s", "1.5 s", "0.25 s" (%g
 * below a whole second's precision); returns buf.
 */
const char	*dx_fmt_secs(char *buf, size_t size, int64_t ms);

#endif
