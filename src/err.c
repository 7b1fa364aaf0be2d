/*
 * err.c - error kinds, error values, process start-up and the clock.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libssh2.h>
#include <pthread.h>

#include "dronex.h"
#include "utf8.h"

static const char *const err_kind_names[] = {
#define ERR_KIND_NAME(name, str) str,
	DX_KIND_MAP(ERR_KIND_NAME)
#undef ERR_KIND_NAME
};

const char *
dx_kind_name(enum dx_kind kind)
{
	if ((unsigned)kind >= DX_KIND_COUNT)
		return "internal";
	return err_kind_names[kind];
}

int
dx_kind_parse(const char *s, enum dx_kind *out)
{
	for (int k = 0; k < DX_KIND_COUNT; k++)
		if (strcmp(s, err_kind_names[k]) == 0) {
			*out = (enum dx_kind)k;
			return 0;
		}
	return -1;
}

int
dx_err_set(struct dx_err *err, enum dx_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/*
	 * The message goes into a JSON document: a cut at the buffer's end
	 * must not split a character, and bytes quoted from a command or a
	 * server must not make the document unencodable.
	 */
	err->msg[dx_utf8_trim_partial(err->msg, strlen(err->msg))] = '\0';
	dx_utf8_scrub(err->msg);
	return -1;
}

void
dx_err_clear(struct dx_err *err)
{
	err->kind = DX_OK;
	err->msg[0] = '\0';
}

static pthread_once_t	err_init_once = PTHREAD_ONCE_INIT;
static int		err_init_rc;	/* written once, under err_init_once */

static void
err_global_init(void)
{
	struct sigaction sa;

	/* A peer that closes its socket must not kill the process. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		err_init_rc = -1;
	/* jansson's hash seed must be set before threads build objects. */
	json_object_seed(0);
	if (libssh2_init(0) != 0)
		err_init_rc = -1;
}

int
dx_global_init(struct dx_err *err)
{
	pthread_once(&err_init_once, err_global_init);
	if (err_init_rc != 0)
		return dx_err_set(err, DX_INTERNAL, "cannot initialise libssh2");
	return 0;
}

int64_t
dx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
dx_status_name(enum dx_status st)
{
	switch (st) {
	case DX_ST_OK:
		return "ok";
	case DX_ST_FAILED:
		return "failed";
	case DX_ST_SKIPPED:
		return "skipped";
	default:
		return "pending";
	}
}

bool
dx_kind_unreached(enum dx_kind kind)
{
	switch (kind) {
	case DX_RESOLVE:
	case DX_CONNECT_REFUSED:
	case DX_CONNECT_TIMEOUT:
	case DX_NETWORK:
	case DX_HANDSHAKE:
	case DX_CONNECTION_LOST:
		return true;
	default:
		return false;
	}
}
