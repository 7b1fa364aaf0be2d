/*
 * test_request.c - serve requests (request.h): a full request survives
 * dump and parse, and every refusal names the request and the field.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "request.h"

static void
parse_ok(struct dx_request *r, const char *json)
{
	struct dx_err err = { 0 };

	cr_assert_eq(dx_request_parse(r, json, strlen(json), "request T", &err), 0,
	    "%s: %s", json, err.msg);
}

Test(request, minimal_is_every_drone_no_calls)
{
	struct dx_request r;

	parse_ok(&r, "{\"dronex_request\": 1}");
	cr_assert_eq(r.ndrones, 0);
	cr_assert_eq(r.ncalls, 0);
	cr_assert_eq(r.priority, 0);
	cr_assert_null(r.shard);
	cr_assert(!r.opts.timeout_given && !r.opts.stdin_given && !r.opts.port_given);
	dx_request_release(&r);
	dx_request_release(&r);	/* a no-op the second time */
}

Test(request, every_field_round_trips)
{
	static const char doc[] =
	    "{\"dronex_request\": 1,"
	    " \"selection\": {\"drones\": [\"web-[01-05]\", \"db-1\"],"
	    "   \"exclude\": [\"web-03\"], \"labels\": [\"prod\", \"eu\"],"
	    "   \"shard\": \"2/4\"},"
	    " \"calls\": [\"uptime\", {\"base64\": \"ZWNobyD/\"}],"
	    " \"options\": {\"timeout\": 2.5, \"connect_timeout\": 10,"
	    "   \"deadline\": 60, \"retries\": 2, \"retry_delay\": 0,"
	    "   \"max_failures\": 3, \"fail_fast\": true, \"max_output\": 4096,"
	    "   \"host_key_check\": \"accept-new\", \"user\": \"deploy\","
	    "   \"port\": 2222, \"stdin_base64\": \"aGkK\"},"
	    " \"priority\": -7}";
	struct dx_request r, back;
	struct dx_err err = { 0 };
	char *text, *again;

	parse_ok(&r, doc);
	cr_assert_eq(r.ndrones, 2);
	cr_assert_str_eq(r.drones[0], "web-[01-05]");
	cr_assert_eq(r.nexclude, 1);
	cr_assert_eq(r.nlabels, 2);
	cr_assert_str_eq(r.shard, "2/4");
	cr_assert_eq(r.shard_k, 2);
	cr_assert_eq(r.shard_n, 4);
	cr_assert_eq(r.ncalls, 2);
	cr_assert_str_eq(r.calls[0], "uptime");
	cr_assert_str_eq(r.calls[1], "echo \xff");
	cr_assert_eq(r.opts.timeout_ms, 2500);
	cr_assert_eq(r.opts.connect_timeout_ms, 10000);
	cr_assert_eq(r.opts.deadline_ms, 60000);
	cr_assert_eq(r.opts.retries, 2);
	cr_assert(r.opts.retry_delay_given);
	cr_assert_eq(r.opts.retry_delay_ms, 0);
	cr_assert_eq(r.opts.max_failures, 3);
	cr_assert(r.opts.fail_fast_given && r.opts.fail_fast);
	cr_assert_eq(r.opts.max_output, 4096);
	cr_assert_eq(r.opts.host_key_check, DX_HKC_ACCEPT_NEW);
	cr_assert_str_eq(r.opts.user, "deploy");
	cr_assert_eq(r.opts.port, 2222);
	cr_assert_eq(r.opts.stdin_len, 3);
	cr_assert_eq(memcmp(r.opts.stdin_data, "hi\n", 3), 0);
	cr_assert_eq(r.priority, -7);

	cr_assert_not_null(text = dx_request_dump(&r, &err), "%s", err.msg);
	cr_assert(strchr(text, '\n') == NULL);
	parse_ok(&back, text);
	cr_assert_not_null(again = dx_request_dump(&back, &err));
	cr_assert_str_eq(text, again, "dump(parse(dump(r))) == dump(r)");
	cr_assert_str_eq(back.calls[1], "echo \xff");
	cr_assert_eq(back.opts.timeout_ms, 2500);
	cr_assert_eq(back.priority, -7);
	cr_assert_eq(back.opts.stdin_len, 3);
	free(text);
	free(again);
	dx_request_release(&back);
	dx_request_release(&r);
}

Test(request, dump_of_an_empty_request_is_minimal)
{
	struct dx_request r;
	struct dx_err err = { 0 };
	char *text;

	dx_request_init(&r);
	cr_assert_not_null(text = dx_request_dump(&r, &err));
	cr_assert_str_eq(text, "{\"dronex_request\":1}");
	free(text);
}

Test(request, dump_refuses_what_parse_would)
{
	struct dx_request r;
	struct dx_err err = { 0 };
	char *call = "";

	dx_request_init(&r);
	r.calls = &call;
	r.ncalls = 1;
	cr_assert_null(dx_request_dump(&r, &err));
	cr_assert(strstr(err.msg, "calls[0]") != NULL, "%s", err.msg);
}

Test(request, refusals_name_the_request_and_the_field)
{
	static const struct {
		const char	*json;
		const char	*want;
	} cases[] = {
		{ "[1]", "request T: expected a JSON object" },
		{ "{\"dronex_request\": 1", "request T: not valid JSON: line 1" },
		{ "{}", "field 'dronex_request': is missing" },
		{ "{\"dronex_request\": 2}", "field 'dronex_request': version 2 is not "
		  "supported" },
		{ "{\"dronex_request\": \"1\"}", "field 'dronex_request': expected" },
		{ "{\"dronex_request\": 1, \"dronex_request\": 1}", "not valid JSON" },
		{ "{\"dronex_request\": 1, \"command\": \"x\"}",
		  "field 'command': unknown field" },
		{ "{\"dronex_request\": 1, \"selection\": []}",
		  "field 'selection': expected an object" },
		{ "{\"dronex_request\": 1, \"selection\": {\"hosts\": []}}",
		  "field 'selection.hosts': unknown field" },
		{ "{\"dronex_request\": 1, \"selection\": {\"drones\": \"web\"}}",
		  "field 'selection.drones': expected an array of strings" },
		{ "{\"dronex_request\": 1, \"selection\": {\"drones\": [\"a\", 3]}}",
		  "field 'selection.drones[1]': expected a string" },
		{ "{\"dronex_request\": 1, \"selection\": {\"exclude\": [\"\"]}}",
		  "field 'selection.exclude[0]': is empty" },
		{ "{\"dronex_request\": 1, \"selection\": {\"drones\": [\"^/etc/x\"]}}",
		  "field 'selection.drones[0]': ^FILE is not allowed" },
		{ "{\"dronex_request\": 1, \"selection\": {\"labels\": [\"a\\u0000b\"]}}",
		  "field 'selection.labels[0]': holds a NUL byte" },
		{ "{\"dronex_request\": 1, \"selection\": {\"shard\": \"3/2\"}}",
		  "field 'selection.shard': '3/2' is not K/N" },
		{ "{\"dronex_request\": 1, \"selection\": {\"shard\": \"auto\"}}",
		  "field 'selection.shard': 'auto' is not K/N" },
		{ "{\"dronex_request\": 1, \"selection\": {\"shard\": 2}}",
		  "field 'selection.shard': expected a string" },
		{ "{\"dronex_request\": 1, \"calls\": \"uptime\"}",
		  "field 'calls': expected an array" },
		{ "{\"dronex_request\": 1, \"calls\": [\"a\", 1]}",
		  "field 'calls[1]': expected a string or" },
		{ "{\"dronex_request\": 1, \"calls\": [\"\"]}", "field 'calls[0]': is empty" },
		{ "{\"dronex_request\": 1, \"calls\": [{\"base64\": \"!!\"}]}",
		  "field 'calls[0].base64': is not valid base64" },
		{ "{\"dronex_request\": 1, \"calls\": [{\"base64\": \"YQBi\"}]}",
		  "field 'calls[0].base64': holds a NUL byte" },
		{ "{\"dronex_request\": 1, \"calls\": [{\"b64\": \"YQ==\"}]}",
		  "field 'calls[0]': expected a string or" },
		{ "{\"dronex_request\": 1, \"options\": 1}",
		  "field 'options': expected an object" },
		{ "{\"dronex_request\": 1, \"options\": {\"timeout\": \"5\"}}",
		  "field 'options.timeout': expected a number" },
		{ "{\"dronex_request\": 1, \"options\": {\"timeout\": 0}}",
		  "field 'options.timeout': expected a number of seconds greater than 0" },
		{ "{\"dronex_request\": 1, \"options\": {\"connect_timeout\": -1}}",
		  "field 'options.connect_timeout': expected a number of seconds" },
		{ "{\"dronex_request\": 1, \"options\": {\"deadline\": 1e12}}",
		  "field 'options.deadline': expected a number of seconds" },
		{ "{\"dronex_request\": 1, \"options\": {\"retry_delay\": -0.5}}",
		  "field 'options.retry_delay': expected a number of seconds from 0" },
		{ "{\"dronex_request\": 1, \"options\": {\"retries\": 1.5}}",
		  "field 'options.retries': expected a whole number" },
		{ "{\"dronex_request\": 1, \"options\": {\"retries\": 101}}",
		  "field 'options.retries': expected a whole number from 0 to 100" },
		{ "{\"dronex_request\": 1, \"options\": {\"max_failures\": 0}}",
		  "field 'options.max_failures': expected a whole number from 1" },
		{ "{\"dronex_request\": 1, \"options\": {\"max_output\": -1}}",
		  "field 'options.max_output': expected a whole number from 0" },
		{ "{\"dronex_request\": 1, \"options\": {\"fail_fast\": 1}}",
		  "field 'options.fail_fast': expected true or false" },
		{ "{\"dronex_request\": 1, \"options\": {\"host_key_check\": \"yes\"}}",
		  "field 'options.host_key_check': 'yes' is not strict" },
		{ "{\"dronex_request\": 1, \"options\": {\"user\": 7}}",
		  "field 'options.user': expected a string" },
		{ "{\"dronex_request\": 1, \"options\": {\"user\": \"a b\"}}",
		  "field 'options.user': " },
		{ "{\"dronex_request\": 1, \"options\": {\"port\": 0}}",
		  "field 'options.port': expected a whole number from 1 to 65535" },
		{ "{\"dronex_request\": 1, \"options\": {\"stdin_base64\": \"@@\"}}",
		  "field 'options.stdin_base64': is not valid base64" },
		{ "{\"dronex_request\": 1, \"options\": {\"fanout\": 5}}",
		  "field 'options.fanout': unknown field" },
		{ "{\"dronex_request\": 1, \"priority\": \"high\"}",
		  "field 'priority': expected a whole number" },
		{ "{\"dronex_request\": 1, \"priority\": 99999999999}",
		  "field 'priority': expected a whole number from" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dx_request r;
		struct dx_err err = { 0 };

		cr_assert_eq(dx_request_parse(&r, cases[i].json, strlen(cases[i].json),
		    "request T", &err), -1, "accepted: %s", cases[i].json);
		cr_assert_eq(err.kind, DX_USAGE, "%s", cases[i].json);
		cr_assert(strncmp(err.msg, "request T: ", 11) == 0, "%s", err.msg);
		cr_assert(strstr(err.msg, cases[i].want) != NULL,
		    "%s:\n  got  %s\n  want %s", cases[i].json, err.msg, cases[i].want);
		/* A failed parse leaves nothing to free. */
		cr_assert_eq(r.ncalls, 0);
		cr_assert_null(r.drones);
	}
}

Test(request, the_contract_example_message)
{
	static const char doc[] = "{\"dronex_request\": 1, \"options\": "
	    "{\"timeout\": \"soon\"}}";
	struct dx_request r;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_request_parse(&r, doc, sizeof(doc) - 1,
	    "request 20261202T013300.123456Z-0000012345-0001", &err), -1);
	cr_assert_str_eq(err.msg, "request 20261202T013300.123456Z-0000012345-0001: "
	    "field 'options.timeout': expected a number");
}
