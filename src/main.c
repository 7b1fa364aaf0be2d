/*
 * main.c - the dronex binary: everything happens in cli.c, which parses
 * the options and hands the run to cli_<subcommand>.c.
 */
#include "config.h"

#include "cli.h"

int
main(int argc, char **argv)
{
	return dx_cli_main(argc, argv);
}
