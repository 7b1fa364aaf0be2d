/*
 * test_list.c - "dronex list" shows each drone's effective settings (the
 * built-in defaults included: connect_timeout 10 where the inventory says
 * nothing), and "dronex list --explain NAME" each setting of one drone
 * with its value, its source and where that source gave it (SPEC 3, 6).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

/* Line 2, column 39 is the defaults' port (2222). */
static const char li_text[] =
    "{\"drones\": [{\"name\": \"a\", \"host\": \"127.0.0.1\"},\n"
    " {\"name\": \"b\"}], \"defaults\": {\"port\": 2222,\n"
    "  \"user\": \"deploy\"}}\n";

static char *
li_write(char **dir)
{
	*dir = dxh_tmpdir();
	return dxh_write_file(*dir, "drones.json", li_text);
}

/* The --explain object for setting, or NULL. */
static json_t *
li_setting(json_t *arr, const char *setting)
{
	json_t *o;
	size_t i;

	json_array_foreach(arr, i, o)
		if (strcmp(json_string_value(json_object_get(o, "setting")), setting) == 0)
			return o;
	return NULL;
}

Test(list, shows_the_effective_values_defaults_included, .timeout = 30)
{
	struct dxh_run r;
	char *dir, *path = li_write(&dir);
	json_t *d;
	const char *kh;

	dxh_run(&r, "list", "-i", path, NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_assert(json_is_array(r.json) && json_array_size(r.json) == 2, "%s", r.out);
	d = json_array_get(r.json, 1);
	cr_expect_str_eq(json_string_value(json_object_get(d, "name")), "b");
	cr_expect_str_eq(json_string_value(json_object_get(d, "host")), "b");
	cr_expect_eq(json_integer_value(json_object_get(d, "port")), 2222);
	cr_expect_str_eq(json_string_value(json_object_get(d, "user")), "deploy");
	/* The timeout in force, not null. */
	cr_expect(json_is_number(json_object_get(d, "connect_timeout")), "%s", r.out);
	cr_expect(json_number_value(json_object_get(d, "connect_timeout")) == 10.0,
	    "%s", r.out);
	kh = json_string_value(json_object_get(d, "known_hosts"));
	cr_assert_not_null(kh, "%s", r.out);
	cr_expect(strlen(kh) > 17 && strcmp(kh + strlen(kh) - 17, "/.ssh/known_hosts") == 0,
	    "known_hosts %s", kh);
	cr_expect(json_is_null(json_object_get(d, "identity")), "%s", r.out);
	cr_expect(json_is_null(json_object_get(d, "jump")), "%s", r.out);
	/* Every field list printed before is still there. */
	cr_expect(json_is_array(json_object_get(d, "labels")));
	cr_expect(json_is_array(json_object_get(d, "calls")));
	cr_expect(json_is_integer(json_object_get(d, "priority")));
	cr_expect(json_object_get(d, "vars") != NULL);
	dxh_run_free(&r);
	/* -l and --port show as the values in force, the file unchanged. */
	dxh_run(&r, "list", "-i", path, "-l", "root", "--port", "2022", NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	d = json_array_get(r.json, 0);
	cr_expect_str_eq(json_string_value(json_object_get(d, "user")), "root");
	cr_expect_eq(json_integer_value(json_object_get(d, "port")), 2022);
	dxh_run_free(&r);
	free(path);
	free(dir);
}

Test(list, explain_names_each_settings_value_and_source, .timeout = 30)
{
	static const char *const settings[] = {
		"host", "port", "user", "identity", "known_hosts",
		"global_known_hosts", "host_key_check", "connect_timeout",
		"keepalive", "jump", "identities_only", "hash_known_hosts",
		"server_alive_count_max",
	};
	struct dxh_run r;
	char *dir, *path = li_write(&dir), *want;
	json_t *o;
	size_t i;

	/* No ssh_config: the machine's own must not add ignored options. */
	dxh_run(&r, "list", "-i", path, "--explain", "b", "-l", "root",
	    "--ssh-config", "none", NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_assert(json_is_array(r.json), "%s", r.out);
	cr_expect_eq(json_array_size(r.json), 13, "%s", r.out);
	for (i = 0; i < 13; i++) {
		o = json_array_get(r.json, i);
		cr_expect_str_eq(json_string_value(json_object_get(o, "setting")),
		    settings[i]);
		cr_expect(json_object_get(o, "value") != NULL, "%s", settings[i]);
		cr_expect(json_is_string(json_object_get(o, "source")), "%s", settings[i]);
		cr_expect(json_object_get(o, "where") != NULL, "%s", settings[i]);
	}
	o = li_setting(r.json, "port");
	cr_expect_eq(json_integer_value(json_object_get(o, "value")), 2222);
	cr_expect_str_eq(json_string_value(json_object_get(o, "source")),
	    "inventory defaults");
	cr_assert(asprintf(&want, "%s:2:39", path) > 0);
	cr_expect_str_eq(json_string_value(json_object_get(o, "where")), want);
	free(want);
	o = li_setting(r.json, "user");
	cr_expect_str_eq(json_string_value(json_object_get(o, "value")), "root");
	cr_expect_str_eq(json_string_value(json_object_get(o, "source")), "command line");
	cr_expect_str_eq(json_string_value(json_object_get(o, "where")), "-l");
	o = li_setting(r.json, "host");
	cr_expect_str_eq(json_string_value(json_object_get(o, "value")), "b");
	cr_expect_str_eq(json_string_value(json_object_get(o, "source")), "default");
	cr_expect(json_is_null(json_object_get(o, "where")));
	o = li_setting(r.json, "connect_timeout");
	cr_expect(json_number_value(json_object_get(o, "value")) == 10.0, "%s", r.out);
	o = li_setting(r.json, "known_hosts");
	cr_expect_eq(json_array_size(json_object_get(o, "value")), 2, "%s", r.out);
	dxh_run_free(&r);

	/* The drone's own host, with its position. */
	dxh_run(&r, "list", "-i", path, "--explain", "a", "--pretty", NULL);
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_gt(dxh_count_lines(r.out, ""), 10, "not indented: %s", r.out);
	o = li_setting(r.json, "host");
	cr_expect_str_eq(json_string_value(json_object_get(o, "source")), "drone");
	cr_assert(asprintf(&want, "%s:1:35", path) > 0);
	cr_expect_str_eq(json_string_value(json_object_get(o, "where")), want);
	free(want);
	dxh_run_free(&r);
	free(path);
	free(dir);
}

Test(list, explain_of_a_drone_not_selected_is_a_usage_error, .timeout = 30)
{
	static const char *const cases[][6] = {
		{ "list", "--explain", "zz", NULL },
		{ "list", "-x", "b", "--explain", "b", NULL },
		{ "exec", "--explain", "a", "--", "true", NULL },
	};
	struct dxh_run r;
	char *dir, *path = li_write(&dir);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[10];
		struct dxh_opts o = { .timeout = 20 };
		size_t n = 0;

		argv[n++] = cases[i][0];
		argv[n++] = "-i";
		argv[n++] = path;
		for (size_t k = 1; cases[i][k] != NULL; k++)
			argv[n++] = cases[i][k];
		argv[n] = NULL;
		dxh_run_argv(&r, argv, &o);
		cr_expect_eq(r.status, 2, "case %zu: exit %d, stderr: %s", i, r.status,
		    r.err);
		cr_expect_eq(r.outlen, 0, "case %zu: stdout: %s", i, r.out);
		cr_expect_eq(dxh_count_lines(r.err, "dronex: "), 1, "case %zu: %s", i,
		    r.err);
		cr_expect(strstr(r.err, "--explain") != NULL, "case %zu: %s", i, r.err);
		if (i < 2)
			cr_expect(strstr(r.err, cases[i][i == 0 ? 2 : 4]) != NULL,
			    "case %zu: the name is not given: %s", i, r.err);
		dxh_run_free(&r);
	}
	free(path);
	free(dir);
}
