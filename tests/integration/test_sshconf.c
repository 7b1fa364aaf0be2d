/*
 * test_sshconf.c - ssh_config against the suite's sshd (SPEC 6): an alias
 * that only ~/.ssh/config or --ssh-config knows reaches the drone through
 * HostName, Port, User, IdentityFile and UserKnownHostsFile, with no
 * inventory and through Include; the precedence command line > inventory >
 * ssh_config > default as list --explain shows it; authentication order
 * (ssh_config's IdentityFile before the agent, IdentitiesOnly yes without
 * the agent); a server that hangs up after MaxAuthTries says so; and
 * HashKnownHosts yes makes accept-new write a hashed line that OpenSSH's
 * ssh-keygen -F and ssh both accept.
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

#ifndef DX_SSHD_TEST
#error "DX_SSHD_TEST (the path of tests/sshd-test) must be defined"
#endif

/* A config that points alias at the suite's sshd; extra lines follow. */
static char *
sc_alias_config(const char *dir, const char *name, const char *alias,
    const char *extra)
{
	char *text, *path;

	cr_assert(asprintf(&text,
	    "# written by test_sshconf\n"
	    "Host %s\n"
	    "  HostName 127.0.0.1\n"
	    "  Port %s\n"
	    "  User %s\n"
	    "  IdentityFile %s\n"
	    "  UserKnownHostsFile %s\n"
	    "%s",
	    alias, dxh_env("DX_TEST_PORT"), dxh_env("DX_TEST_USER"),
	    dxh_env("DX_TEST_KEY"), dxh_env("DX_TEST_KNOWN_HOSTS"),
	    extra ? extra : "") > 0);
	path = dxh_write_file(dir, name, text);
	free(text);
	return path;
}

/* A directory with no drones.json, where "-w NAME" is ad hoc. */
static char *
sc_cwd(void)
{
	char *dir = dxh_tmpdir();

	cr_assert(chdir(dir) == 0, "chdir %s: %s", dir, strerror(errno));
	return dir;
}

/* The --explain object for setting, or NULL. */
static json_t *
sc_setting(json_t *arr, const char *setting)
{
	json_t *o;
	size_t i;

	json_array_foreach(arr, i, o)
		if (strcmp(json_string_value(json_object_get(o, "setting")), setting) == 0)
			return o;
	return NULL;
}

static void
sc_expect_source(json_t *arr, const char *setting, const char *source,
    const char *where)
{
	json_t *o = sc_setting(arr, setting);
	const char *w;

	cr_assert_not_null(o, "no setting %s", setting);
	cr_expect_str_eq(json_string_value(json_object_get(o, "source")), source,
	    "%s", setting);
	if (where != NULL) {
		w = json_string_value(json_object_get(o, "where"));
		cr_expect(w != NULL && strcmp(w, where) == 0, "%s: where %s, want %s",
		    setting, w ? w : "null", where);
	}
}

Test(sshconf, an_alias_reaches_the_drone_with_no_inventory, .timeout = 30)
{
	struct dxh_run r;
	char *dir = sc_cwd(), *conf = sc_alias_config(dir, "config", "alias1", NULL);

	dxh_run(&r, "exec", "-w", "alias1", "--ssh-config", conf, "--",
	    "echo", "in", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "alias1"), "ok", "%s", r.out);
	cr_expect_str_eq(dxh_call_str(&r, "alias1", 0, "stdout"), "in\n");
	dxh_run_free(&r);

	/* Without the config the alias is a host name that does not resolve. */
	dxh_run(&r, "exec", "-w", "alias1", "--ssh-config", "none",
	    "--connect-timeout", "5", "--", "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_neq(dxh_status(&r, "alias1"), "ok", "%s", r.out);
	dxh_run_free(&r);
	free(conf);
	free(dir);
}

Test(sshconf, the_users_config_and_include_are_read_by_default, .timeout = 30)
{
	struct dxh_run r;
	char *dir = sc_cwd(), *ssh, *conf, *home_env, *main_conf;
	const char *env[2] = { NULL, NULL };
	const char *argv[] = { "exec", "-w", "alias2", "--", "echo", "ok", NULL };
	struct dxh_opts o = { .timeout = 30 };

	/* HOME/.ssh/config includes conf.d/ (relative: under ~/.ssh). */
	cr_assert(asprintf(&ssh, "%s/.ssh", dir) > 0);
	cr_assert(mkdir(ssh, 0700) == 0);
	free(ssh);
	cr_assert(asprintf(&ssh, "%s/.ssh/conf.d", dir) > 0);
	cr_assert(mkdir(ssh, 0700) == 0);
	conf = sc_alias_config(ssh, "50-alias.conf", "alias2", NULL);
	main_conf = dxh_write_file(dir, ".ssh/config",
	    "Include conf.d/*.conf\nHost *\n  Port 1\n");
	cr_assert(asprintf(&home_env, "HOME=%s", dir) > 0);
	env[0] = home_env;
	o.env = env;
	dxh_run_argv(&r, argv, &o);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "alias2"), "ok", "%s", r.out);
	dxh_run_free(&r);
	free(home_env);
	free(main_conf);
	free(conf);
	free(ssh);
	free(dir);
}

Test(sshconf, precedence_cli_over_inventory_over_ssh_config, .timeout = 30)
{
	struct dxh_run r;
	char *dir = sc_cwd(), *conf, *inv, *want;

	conf = dxh_write_file(dir, "config",
	    "Host web1\n"
	    "  HostName web1.internal\n"
	    "  Port 2201\n"
	    "  User fromconf\n"
	    "  ConnectTimeout 4\n"
	    "  ServerAliveInterval 9\n"
	    "  IdentitiesOnly yes\n"
	    "  ForwardAgent yes\n");
	inv = dxh_write_file(dir, "drones.json",
	    "{\"defaults\": {\"user\": \"invuser\"},\n"
	    " \"drones\": [{\"name\": \"web1\", \"port\": 2300}]}\n");
	dxh_run(&r, "list", "-i", inv, "--ssh-config", conf, "--explain", "web1",
	    NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_assert(json_is_array(r.json), "%s", r.out);
	cr_assert(asprintf(&want, "%s:2", conf) > 0);
	sc_expect_source(r.json, "host", "ssh_config", want);
	free(want);
	cr_expect_str_eq(json_string_value(json_object_get(sc_setting(r.json,
	    "host"), "value")), "web1.internal");
	sc_expect_source(r.json, "port", "drone", NULL);
	sc_expect_source(r.json, "user", "inventory defaults", NULL);
	cr_assert(asprintf(&want, "%s:5", conf) > 0);
	sc_expect_source(r.json, "connect_timeout", "ssh_config", want);
	free(want);
	cr_assert(asprintf(&want, "%s:6", conf) > 0);
	sc_expect_source(r.json, "keepalive", "ssh_config", want);
	free(want);
	sc_expect_source(r.json, "identities_only", "ssh_config", NULL);
	sc_expect_source(r.json, "server_alive_count_max", "default", NULL);
	/* The option dronex does not honour is shown, marked ignored. */
	{
		json_t *o = sc_setting(r.json, "ForwardAgent");

		cr_assert_not_null(o, "ForwardAgent not listed: %s", r.out);
		cr_expect(json_is_true(json_object_get(o, "ignored")));
		cr_assert(asprintf(&want, "%s:8", conf) > 0);
		cr_expect_str_eq(json_string_value(json_object_get(o, "where")), want);
		free(want);
	}
	dxh_run_free(&r);

	/* -l and --port win over both. */
	dxh_run(&r, "list", "-i", inv, "--ssh-config", conf, "--explain", "web1",
	    "-l", "cliuser", "--port", "2400", NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	sc_expect_source(r.json, "user", "command line", "-l");
	sc_expect_source(r.json, "port", "command line", "--port");
	cr_expect_eq(json_integer_value(json_object_get(sc_setting(r.json, "port"),
	    "value")), 2400);
	dxh_run_free(&r);
	free(inv);
	free(conf);
	free(dir);
}

Test(sshconf, bad_config_is_a_usage_error_naming_file_and_line, .timeout = 30)
{
	static const char *const texts[] = {
		"Host a\n  Port 99999\n",
		"Host a\n  Match host a\n",
	};
	struct dxh_run r;
	char *dir = sc_cwd(), *conf, *want;

	for (size_t i = 0; i < 2; i++) {
		conf = dxh_write_file(dir, "config", texts[i]);
		dxh_run(&r, "exec", "-w", "a", "--ssh-config", conf, "--", "true",
		    NULL);
		cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
		cr_expect_str_eq(r.out, "", "case %zu", i);
		cr_assert(asprintf(&want, "%s:2:", conf) > 0);
		cr_expect(strstr(r.err, want) != NULL, "case %zu: %s", i, r.err);
		free(want);
		dxh_run_free(&r);
		free(conf);
	}
	free(dir);
}


/* Runs argv with SSH_AUTH_SOCK=sock. */
static void
sc_run_agent(struct dxh_run *r, const char *const *argv, const char *sock)
{
	struct dxh_opts o = { .timeout = 30 };
	const char *env[2] = { NULL, NULL };
	char *var;

	cr_assert(asprintf(&var, "SSH_AUTH_SOCK=%s", sock) > 0);
	env[0] = var;
	o.env = env;
	dxh_run_argv(r, argv, &o);
	free(var);
}

/* A config whose alias1 names identity (instead of the suite's key). */
static char *
sc_identity_config(const char *dir, const char *identity, const char *extra)
{
	char *text, *path;

	cr_assert(asprintf(&text,
	    "Host alias1\n"
	    "  HostName 127.0.0.1\n"
	    "  Port %s\n"
	    "  User %s\n"
	    "  UserKnownHostsFile %s\n"
	    "%s%s%s"
	    "%s",
	    dxh_env("DX_TEST_PORT"), dxh_env("DX_TEST_USER"),
	    dxh_env("DX_TEST_KNOWN_HOSTS"), identity ? "  IdentityFile " : "",
	    identity ? identity : "", identity ? "\n" : "",
	    extra ? extra : "") > 0);
	path = dxh_write_file(dir, "config", text);
	free(text);
	return path;
}

Test(sshconf, identity_files_come_before_the_agent, .timeout = 40)
{
	struct dxh_run r;
	char *dir = sc_cwd(), *sock, *conf;
	pid_t agent;

	cr_assert(asprintf(&sock, "%s/agent.sock", dir) > 0);
	agent = fu_agent_start(sock, dxh_env("DX_TEST_KEY"));	/* ed25519 */
	/* ssh_config names the ecdsa key: it is offered first and gets in. */
	conf = sc_identity_config(dir, dxh_env("DX_TEST_KEY_ECDSA"), NULL);
	{
		const char *argv[] = { "exec", "-w", "alias1", "--ssh-config", conf,
		    "--", "echo \"$DX_AUTH_KEY\"", NULL };

		sc_run_agent(&r, argv, sock);
	}
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "alias1", 0, "stdout"), "ecdsa\n",
	    "%s", r.out);
	dxh_run_free(&r);
	free(conf);

	/* A refused identity file, then the agent's key gets in. */
	conf = sc_identity_config(dir, dxh_env("DX_TEST_BADKEY"), NULL);
	{
		const char *argv[] = { "exec", "-w", "alias1", "--ssh-config", conf,
		    "--", "echo \"$DX_AUTH_KEY\"", NULL };

		sc_run_agent(&r, argv, sock);
	}
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "alias1", 0, "stdout"), "ed25519\n",
	    "%s", r.out);
	dxh_run_free(&r);
	free(conf);

	/* IdentitiesOnly yes: the agent is not asked, so nothing gets in. */
	conf = sc_identity_config(dir, dxh_env("DX_TEST_BADKEY"),
	    "  IdentitiesOnly yes\n");
	{
		const char *argv[] = { "exec", "-w", "alias1", "--ssh-config", conf,
		    "--", "echo \"$DX_AUTH_KEY\"", NULL };

		sc_run_agent(&r, argv, sock);
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "alias1"), "auth", "%s", r.out);
	{
		const char *msg = json_string_value(json_object_get(json_object_get(
		    dxh_drone(&r, "alias1"), "error"), "message"));

		cr_expect(msg != NULL && strstr(msg, "agent") == NULL,
		    "the agent was tried: %s", msg);
	}
	dxh_run_free(&r);
	free(conf);

	/*
	 * IdentitiesOnly yes with an encrypted identity file whose key the
	 * agent holds: the agent signs for that file, as with OpenSSH.
	 */
	{
		char cmd[2048], *enc;
		const char *argv[] = { "exec", "-w", "alias1", "--ssh-config", NULL,
		    "--", "echo \"$DX_AUTH_KEY\"", NULL };

		cr_assert(asprintf(&enc, "%s/encrypted_ed25519", dir) > 0);
		snprintf(cmd, sizeof(cmd), "install -m 600 '%s' '%s' && "
		    "cp '%s.pub' '%s.pub' && ssh-keygen -q -p -P '' -N secret "
		    "-f '%s' >/dev/null", dxh_env("DX_TEST_KEY"), enc,
		    dxh_env("DX_TEST_KEY"), enc, enc);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		conf = sc_identity_config(dir, enc, "  IdentitiesOnly yes\n");
		argv[4] = conf;
		sc_run_agent(&r, argv, sock);
		cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
		cr_expect_str_eq(dxh_call_str(&r, "alias1", 0, "stdout"),
		    "ed25519\n", "%s", r.out);
		dxh_run_free(&r);
		free(conf);
		free(enc);
	}
	fu_agent_stop(agent);
	free(sock);
	free(dir);
}

/* An sshd of the test's own with extra sshd_config lines; its port. */
static char *
sc_sshd_start(const char *dir, const char *extra)
{
	char cmd[1024], *env, *path, *p, *e, *port;

	setenv("DX_SSHD_EXTRA_CONFIG", extra, 1);
	snprintf(cmd, sizeof(cmd), "'%s' start '%s' >/dev/null", DX_SSHD_TEST, dir);
	cr_assert_eq(system(cmd), 0, "could not start an sshd: %s", cmd);
	unsetenv("DX_SSHD_EXTRA_CONFIG");
	cr_assert(asprintf(&path, "%s/env", dir) > 0);
	env = dxh_read_file(path);
	cr_assert_not_null(env);
	cr_assert_not_null(p = strstr(env, "DX_TEST_PORT='"));
	p += strlen("DX_TEST_PORT='");
	cr_assert_not_null(e = strchr(p, '\''));
	port = strndup(p, (size_t)(e - p));
	free(env);
	free(path);
	return port;
}

static void
sc_sshd_stop(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' stop '%s'", DX_SSHD_TEST, dir);
	(void)system(cmd);
}

/* A fresh unauthorised ed25519 key in dir/name. */
static char *
sc_keygen(const char *dir, const char *name)
{
	char *path, cmd[1024];

	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t ed25519 -N '' -f '%s' "
	    "</dev/null >/dev/null", path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	return path;
}

Test(sshconf, too_many_authentication_failures_is_said_so, .timeout = 60)
{
	struct dxh_run r;
	char *dir = sc_cwd(), *sshd_dir = dxh_tmpdir(), *port, *text, *conf;
	char *k[4], *kh;
	const char *msg;

	port = sc_sshd_start(sshd_dir, "MaxAuthTries 2");
	for (int i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "bad%d", i);
		k[i] = sc_keygen(dir, name);
	}
	cr_assert(asprintf(&kh, "%s/known_hosts", sshd_dir) > 0);
	cr_assert(asprintf(&text,
	    "Host alias1\n  HostName 127.0.0.1\n  Port %s\n  User %s\n"
	    "  UserKnownHostsFile %s\n  IdentityFile %s\n  IdentityFile %s\n"
	    "  IdentityFile %s\n  IdentityFile %s\n",
	    port, dxh_env("DX_TEST_USER"), kh, k[0], k[1], k[2], k[3]) > 0);
	conf = dxh_write_file(dir, "config", text);
	dxh_run(&r, "exec", "-w", "alias1", "--ssh-config", conf, "--", "true",
	    NULL);
	sc_sshd_stop(sshd_dir);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "alias1"), "auth", "%s", r.out);
	msg = json_string_value(json_object_get(json_object_get(
	    dxh_drone(&r, "alias1"), "error"), "message"));
	cr_assert_not_null(msg, "%s", r.out);
	cr_expect(strstr(msg, "too many authentication failures") != NULL, "%s", msg);
	cr_expect(strstr(msg, "MaxAuthTries") != NULL, "%s", msg);
	cr_expect(strstr(msg, " keys offered") != NULL, "%s", msg);
	dxh_run_free(&r);
	for (int i = 0; i < 4; i++)
		free(k[i]);
	free(kh);
	free(text);
	free(conf);
	free(port);
	free(sshd_dir);
	free(dir);
}

Test(sshconf, hash_known_hosts_writes_lines_openssh_reads, .timeout = 60)
{
	struct dxh_run r;
	char *dir = sc_cwd(), *kh, *conf, *text, *line, cmd[2048];
	const char *port = dxh_env("DX_TEST_PORT");
	int st;

	cr_assert(asprintf(&kh, "%s/new_known_hosts", dir) > 0);
	cr_assert(asprintf(&text,
	    "Host alias1\n  HostName 127.0.0.1\n  Port %s\n  User %s\n"
	    "  IdentityFile %s\n  UserKnownHostsFile %s\n  HashKnownHosts yes\n",
	    port, dxh_env("DX_TEST_USER"), dxh_env("DX_TEST_KEY"), kh) > 0);
	conf = dxh_write_file(dir, "config", text);
	dxh_run(&r, "exec", "-w", "alias1", "--ssh-config", conf,
	    "--host-key-check", "accept-new", "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	dxh_run_free(&r);
	cr_assert_not_null(line = dxh_read_file(kh), "nothing written to %s", kh);
	cr_expect(strncmp(line, "|1|", 3) == 0, "not hashed: %s", line);
	cr_expect(strstr(line, "127.0.0.1") == NULL, "%s", line);
	/* OpenSSH finds it ... */
	snprintf(cmd, sizeof(cmd), "ssh-keygen -F '[127.0.0.1]:%s' -f '%s' "
	    ">/dev/null 2>&1", port, kh);
	st = system(cmd);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ssh-keygen -F did not "
	    "find it: %s", line);
	/* ... and ssh connects with it, strictly. */
	snprintf(cmd, sizeof(cmd), "ssh -F /dev/null -o BatchMode=yes "
	    "-o StrictHostKeyChecking=yes -o UserKnownHostsFile='%s' "
	    "-o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i '%s' "
	    "-p %s %s@127.0.0.1 true </dev/null >/dev/null 2>&1", kh,
	    dxh_env("DX_TEST_KEY"), port, dxh_env("DX_TEST_USER"));
	st = system(cmd);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ssh refused the line "
	    "(exit %d): %s", WEXITSTATUS(st), line);
	/* A second run knows the host: no second line. */
	dxh_run(&r, "exec", "-w", "alias1", "--ssh-config", conf, "--", "true",
	    NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	dxh_run_free(&r);
	free(line);
	cr_assert_not_null(line = dxh_read_file(kh));
	cr_expect(strchr(line, '\n') == strrchr(line, '\n'), "%s", line);
	free(line);
	free(text);
	free(conf);
	free(kh);
	free(dir);
}

Test(sshconf, strict_host_key_checking_no_is_reported_in_the_results, .timeout = 30)
{
	struct dxh_run r;
	char *dir = sc_cwd(), *empty, *text, *conf;

	/* An empty known_hosts: only "off" lets the drone in. */
	empty = dxh_write_file(dir, "empty_known_hosts", "");
	cr_assert(asprintf(&text,
	    "Host alias1\n  HostName 127.0.0.1\n  Port %s\n  User %s\n"
	    "  IdentityFile %s\n  UserKnownHostsFile %s\n"
	    "  GlobalKnownHostsFile %s\n  StrictHostKeyChecking no\n",
	    dxh_env("DX_TEST_PORT"), dxh_env("DX_TEST_USER"),
	    dxh_env("DX_TEST_KEY"), empty, empty) > 0);
	conf = dxh_write_file(dir, "config", text);
	dxh_run(&r, "exec", "-w", "alias1", "--ssh-config", conf, "--", "true",
	    NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&r),
	    "host_key_check")), "off", "%s", r.out);
	dxh_run_free(&r);
	/* The command line wins: strict refuses the unknown key. */
	dxh_run(&r, "exec", "-w", "alias1", "--ssh-config", conf,
	    "--host-key-check", "strict", "--", "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "alias1"), "hostkey_unknown", "%s", r.out);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&r),
	    "host_key_check")), "strict", "%s", r.out);
	dxh_run_free(&r);
	free(text);
	free(conf);
	free(empty);
	free(dir);
}

Test(sshconf, server_alive_count_max_bounds_unanswered_keepalives, .timeout = 40)
{
	struct dxh_proc p;
	struct dxh_run r;
	char *dir = sc_cwd(), *conf;
	const char *msg;
	pid_t sleeper, sshd = -1;
	bool stop_ok;

	cr_assert_eq(dxh_count_procs("sleep 20.613"), 0, "a 'sleep 20.613' is "
	    "already running");
	conf = sc_alias_config(dir, "config", "alias1",
	    "  ServerAliveInterval 1\n  ServerAliveCountMax 1\n");
	{
		const char *av[] = { "exec", "-w", "alias1", "--ssh-config", conf,
		    "--", "sleep 20.613", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	sleeper = fu_session_of("sleep 20.613", 10, &sshd);
	cr_assert(sleeper > 0, "no 'sleep 20.613' under a session of the test sshd");
	while (dxh_now() - p.start < 1.5)
		dxh_pump(&p, 50);
	stop_ok = fu_signal_if(sshd, "sshd: ", SIGSTOP) == 0;
	dxh_finish(&p, &r);
	fu_signal_if(sshd, "sshd: ", SIGKILL);
	fu_signal_if(sshd, "sshd: ", SIGCONT);
	fu_signal_if(sleeper, "sleep 20.613", SIGKILL);
	cr_assert(stop_ok, "could not stop sshd %d", (int)sshd);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "alias1"), "connection_lost", "%s", r.out);
	msg = json_string_value(json_object_get(json_object_get(
	    dxh_drone(&r, "alias1"), "error"), "message"));
	/* One unanswered keepalive, not the default three. */
	cr_expect(msg != NULL && strstr(msg, "no answer to 1 keepalive") != NULL,
	    "%s", msg ? msg : r.out);
	cr_expect_leq(r.wall, 15.0, "took %.2f s", r.wall);
	dxh_run_free(&r);
	free(conf);
	free(dir);
}
