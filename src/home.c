/*
 * home.c - the current user's home directory and name, and "~" expansion
 * (home.h).  One place, so that the inventory, the targets and ssh_config
 * agree on what "~" means even when HOME is unset.
 */
#include "config.h"

#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "home.h"

static pthread_once_t	home_user_once = PTHREAD_ONCE_INIT;
static char		home_user_name[256];	/* written once, under home_user_once */

static void
home_user_init(void)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	const char *u = NULL;

	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL)
		u = pw.pw_name;
	else
		u = getenv("USER");
	if (u != NULL && strlen(u) < sizeof(home_user_name))
		strcpy(home_user_name, u);
}

const char *
dx_home_user(void)
{
	pthread_once(&home_user_once, home_user_init);
	return home_user_name;
}

char *
dx_home_dir(struct dx_err *err)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *out = NULL;
	const char *h;

	if ((h = getenv("HOME")) != NULL && *h != '\0')
		out = strdup(h);
	else if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && pw.pw_dir != NULL && *pw.pw_dir != '\0')
		out = strdup(pw.pw_dir);
	else {
		dx_err_set(err, DX_USAGE, "no home directory: HOME is not set");
		return NULL;
	}
	if (out == NULL)
		dx_err_set(err, DX_INTERNAL, "out of memory");
	return out;
}

char *
dx_expand_tilde(const char *path, struct dx_err *err)
{
	struct dx_err e;
	char *home, *out = NULL;
	size_t hl;

	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/')) {
		if ((out = strdup(path)) == NULL)
			dx_err_set(err, DX_INTERNAL, "out of memory");
		return out;
	}
	if ((home = dx_home_dir(&e)) == NULL) {
		if (e.kind == DX_INTERNAL)
			dx_err_set(err, DX_INTERNAL, "out of memory");
		else
			dx_err_set(err, DX_USAGE,
			    "cannot expand '~' in '%.64s': HOME is not set", path);
		return NULL;
	}
	/* "/" + "/x" would give "//x"; drop the home's trailing slash. */
	hl = strlen(home);
	if (hl > 0 && home[hl - 1] == '/' && path[1] == '/')
		home[--hl] = '\0';
	if (asprintf(&out, "%s%s", home, path + 1) == -1) {
		out = NULL;
		dx_err_set(err, DX_INTERNAL, "out of memory");
	}
	free(home);
	return out;
}
