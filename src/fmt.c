/*
 * fmt.c - the formatters of messages (fmt.h): "[host]:port" and "1.5 s".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"

const char *
dx_fmt_hostport(char *buf, size_t size, const char *host, int port,
    enum dx_hp_style style)
{
	if (style == DX_HP_ADDR)
		snprintf(buf, size, strchr(host, ':') != NULL ? "[%s]:%d" :
		    "%s:%d", host, port);
	else if (port == 22 || port <= 0)
		snprintf(buf, size, "%s", host);
	else
		snprintf(buf, size, "[%s]:%d", host, port);
	return buf;
}

const char *
dx_fmt_secs(char *buf, size_t size, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%lld s", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%g s", (double)ms / 1000.0);
	return buf;
}
