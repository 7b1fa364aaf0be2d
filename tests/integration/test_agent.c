/* test_agent.c - placeholder, filled below */
#include <criterion/criterion.h>
