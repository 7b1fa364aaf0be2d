/*
 * test_agent.c - ssh-agent keys (SPEC 6): a real ssh-agent authenticates a
 * drone that names no identity file (ed25519 and RSA keys); identity files
 * named for the drone are tried before the agent; an agent that accepts
 * and never answers costs the connect budget, not a hang, and an
 * interrupt still ends the run.
 *
 * The harness gives dronex no SSH_AUTH_SOCK and an empty HOME; the runs
 * here set SSH_AUTH_SOCK through the runner's environment option.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"
#include "harness.h"

/* Runs dronex with argv and SSH_AUTH_SOCK=sock on top of opts (may be NULL). */
static void
ag_run(struct dxh_run *r, const char *const *argv, const char *sock,
    const struct dxh_opts *opts)
{
	struct dxh_opts o = opts != NULL ? *opts : (struct dxh_opts){ .timeout = 30 };
	const char *env[2] = { NULL, NULL };
	char *var;

	cr_assert(asprintf(&var, "SSH_AUTH_SOCK=%s", sock) > 0);
	env[0] = var;
	o.env = env;
	dxh_run_argv(r, argv, &o);
	free(var);
}

/* A unix socket that listens and never accepts: connects, then silence. */
static int
ag_silent(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	cr_assert(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	cr_assert((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1);
	cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "%s",
	    strerror(errno));
	cr_assert(listen(fd, 16) == 0);
	return fd;
}


/* A one-drone inventory; identity NULL: the drone names none. */
static char *
ag_inventory(const char *identity)
{
	json_t *inv = dxh_inv_new(1);
	char *path;

	if (identity != NULL)
		dxh_inv_set(inv, "d-001", "identity", json_string(identity));
	else
		json_object_del(dxh_inv_drone(inv, "d-001"), "identity");
	path = dxh_inv_write(inv);
	json_decref(inv);
	return path;
}

/*
 * The drone got in with the agent's key: the session says which key
 * (tests/sshd-test's DX_AUTH_KEY), and HOME (the harness's, empty) holds
 * no default key that could have done it.
 */
static void
ag_expect_ok_with(const char *key, const char *type)
{
	struct dxh_run r;
	char *dir = dxh_tmpdir(), *sock, *inv = ag_inventory(NULL), *want;
	const char *argv[] = { "exec", "-i", inv, "--", "echo in && echo \"$DX_AUTH_KEY\"",
	    NULL };
	pid_t agent;

	cr_assert(asprintf(&sock, "%s/agent.sock", dir) > 0);
	cr_assert(asprintf(&want, "in\n%s\n", type) > 0);
	agent = fu_agent_start(sock, key);
	ag_run(&r, argv, sock, NULL);
	fu_agent_stop(agent);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), want, "%s", r.out);
	free(want);
	dxh_run_free(&r);
	free(sock);
	free(inv);
	free(dir);
}

Test(agent, a_real_agent_authenticates_with_an_ed25519_key, .timeout = 30)
{
	ag_expect_ok_with(dxh_env("DX_TEST_KEY"), "ed25519");
}

Test(agent, a_real_agent_authenticates_with_an_rsa_key, .timeout = 30)
{
	ag_expect_ok_with(dxh_env("DX_TEST_KEY_RSA"), "rsa");
}

Test(agent, an_agent_that_never_answers_costs_the_budget_not_a_hang, .timeout = 40)
{
	struct dxh_run r;
	char *dir = dxh_tmpdir(), *sock, *inv = ag_inventory(NULL);
	const char *argv[] = { "exec", "-i", inv, "--connect-timeout", "1", "--",
	    "true", NULL };
	struct dxh_opts o = { .timeout = 30 };
	double n;
	int fd;

	cr_assert(asprintf(&sock, "%s/silent.sock", dir) > 0);
	fd = ag_silent(sock);
	ag_run(&r, argv, sock, &o);
	cr_expect(!r.killed, "dronex hung on a silent agent");
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connect_timeout", "%s", r.out);
	/* The key exchange and authentication budget: 4 x --connect-timeout. */
	n = (double)json_integer_value(json_object_get(dxh_drone(&r, "d-001"),
	    "attempts"));
	cr_expect(n >= 1 && r.wall < 5.5 * n + 1, "took %.1f s for %.0f attempt(s)",
	    r.wall, n);
	dxh_run_free(&r);
	close(fd);
	free(sock);
	free(inv);
	free(dir);
}

Test(agent, an_interrupt_ends_a_wait_on_the_agent, .timeout = 40)
{
	struct dxh_run r;
	char *dir = dxh_tmpdir(), *sock, *inv = ag_inventory(NULL);
	const char *argv[] = { "exec", "-i", inv, "--connect-timeout", "10", "--",
	    "true", NULL };
	struct dxh_opts o = { .timeout = 30, .signal = SIGINT, .signal_after = 1 };
	int fd;

	cr_assert(asprintf(&sock, "%s/silent.sock", dir) > 0);
	fd = ag_silent(sock);
	ag_run(&r, argv, sock, &o);
	cr_expect_eq(r.status, 130, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(r.wall < 4, "took %.1f s", r.wall);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "interrupted", "%s", r.out);
	dxh_run_free(&r);
	close(fd);
	free(sock);
	free(inv);
	free(dir);
}

Test(agent, the_drones_identity_file_is_tried_before_the_agent, .timeout = 40)
{
	struct dxh_run r;
	char *dir = dxh_tmpdir(), *sock, *inv = ag_inventory(dxh_env("DX_TEST_KEY"));
	const char *argv[] = { "exec", "-i", inv, "--connect-timeout", "5", "--",
	    "echo in", NULL };
	struct dxh_opts o = { .timeout = 30 };
	int fd;

	/* An agent that would hang the drone if it were asked first. */
	cr_assert(asprintf(&sock, "%s/silent.sock", dir) > 0);
	fd = ag_silent(sock);
	ag_run(&r, argv, sock, &o);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok", "%s", r.out);
	cr_expect(r.wall < 3, "took %.1f s: the agent was asked first", r.wall);
	dxh_run_free(&r);
	close(fd);
	free(sock);
	free(inv);
	free(dir);
}
