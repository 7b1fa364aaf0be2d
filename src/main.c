/*
 * main.c - the dronex binary: everything happens in cli.c.
 */
#include "config.h"

#include "cli.h"

int
main(int argc, char **argv)
{
	return dx_cli_main(argc, argv);
}
