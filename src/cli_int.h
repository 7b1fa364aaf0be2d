/*
 * cli_int.h - what the parts of the command line share: cli.c parses the
 * options and resolves the selection into targets, cli_exec.c runs
 * "exec", cli_list.c runs "list".  Not library code.  Each subcommand owns
 * its cli_opts (cli_opts_release()), its inventory and the index and
 * target arrays cli_resolve() hands it (cli_targets_free()).
 */
#ifndef DX_CLI_INT_H
#define DX_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"
#include "output.h"
#include "ssh_exec.h"
#include "target.h"

#define CLI_MAX_SETS		256	/* -w and -x, each */
#define CLI_MAX_LABELS		64
#define CLI_MAX_IDENTITIES	32
/* --stdin bytes are held in memory and sent to every drone. */
#define CLI_MAX_STDIN		((size_t)64 << 20)
/* Option codes (short letters and the long-only codes) stay below this. */
#define CLI_OPT_CODES		512

struct cli_opts {
	const char	*inventory;
	bool		 inventory_given;
	const char	*drones[CLI_MAX_SETS];
	size_t		 ndrones;
	const char	*exclude[CLI_MAX_SETS];
	size_t		 nexclude;
	const char	*labels[CLI_MAX_LABELS];
	size_t		 nlabels;
	unsigned	 shard_k, shard_n;	/* shard_n 0: no shard */
	char		 shard[32];		/* "K/N", or "" */
	const char	*user;			/* -l, or NULL */
	int		 port;			/* --port, or 0 */
	char		*identities[CLI_MAX_IDENTITIES]; /* expanded, owned */
	size_t		 nidentities;
	const char	*stdin_path;		/* --stdin, or NULL */
	const char	*ssh_config;		/* --ssh-config, or NULL */
	const char	*exec_only;		/* first option list cannot use */
	const char	*list_only;		/* first option exec cannot use */
	const char	*explain;		/* --explain NAME, or NULL */
	bool		 names;			/* list --names: one a line */
	bool		 label_list;		/* list --labels: one a line */
	size_t		 fanout;
	bool		 fanout_given;
	int64_t		 connect_ms;
	bool		 connect_given;
	int64_t		 timeout_ms;
	int64_t		 deadline_ms;
	size_t		 max_output;
	enum dx_hostkey_policy hostkey;
	bool		 hostkey_given;
	int		 retries;
	int64_t		 retry_delay_ms;
	size_t		 max_failures;
	bool		 fail_fast;
	int		 keepalive_s;
	bool		 keepalive_given;
	enum dx_format	 format;
	bool		 pretty;
	bool		 quiet;
	int		 progress;	/* -1: when stderr is a terminal */
	char		*command;	/* words after the options, joined */
	const char	*spool;		/* submit: --spool DIR, or NULL */
	int		 priority;	/* submit: --priority P (default 0) */
	bool		 given[CLI_OPT_CODES]; /* by option code: cli_given() */
};

void	cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses argv; 0, 1 when --help/--version was handled, -1 (printed). */
int	cli_parse(int argc, char **argv, struct cli_opts *);
void	cli_opts_release(struct cli_opts *);
/* True if the option with this long name ("timeout") was given. */
bool	cli_given(const struct cli_opts *, const char *longname);
/*
 * Loads the inventory (or makes the ad-hoc one), resolves the selection
 * and one target per selected drone, the options as its highest source:
 * fills *idx (inventory indexes) and *targets (targets[i] for
 * drones[idx[i]]), n of each.  Nothing is written into the inventory.
 * 0, or -1 (printed) with nothing to free but inv.
 */
int	cli_resolve(const struct cli_opts *, struct dx_inventory *, size_t **idx,
	    struct dx_target **targets, size_t *n);
/*
 * ssh_config as the options say (--ssh-config FILE|none, else the user's
 * and the system's files): the one place every subcommand loads it.
 */
int	cli_sshconf_load(const struct cli_opts *, struct dx_sshconf **,
	    struct dx_err *);
/*
 * cli_resolve(), and for a sharded run (--shard) the run's digest in run
 * (16 hex digits, the document's "run"; untouched without a shard or when
 * run is NULL).
 */
int	cli_resolve_run(const struct cli_opts *, struct dx_inventory *,
	    size_t **idx, struct dx_target **targets, size_t *n, char run[17]);
/*
 * cli_resolve() without the loading and the printing: resolves o's
 * selection (-w, -x, -g, --shard) against an inventory already loaded and
 * one target per selected drone (ssh_config and o's connection options on
 * top).  Fills
 * as cli_resolve(); 0, or -1 with err set and nothing to free.  serve
 * resolves each request with it.
 */
int	cli_select(const struct cli_opts *, const struct dx_inventory *,
	    size_t **idx, struct dx_target **targets, size_t *n, struct dx_err *);
/* Releases and frees n targets (NULL: nothing). */
void	cli_targets_free(struct dx_target *, size_t n);
int	cli_exec(int argc, char **argv);
/* --stdin FILE|- read whole into *data (the caller frees it); 0, or -1 (printed). */
int	cli_read_stdin(const char *path, char **data, size_t *len);
int	cli_list(int argc, char **argv);
int	cli_merge(int argc, char **argv);
/* submit, wait, abort, status, pause, resume, resize, priority. */
int	cli_spool(int argc, char **argv);
int	cli_serve(int argc, char **argv);	/* cli_serve.c */

#endif
