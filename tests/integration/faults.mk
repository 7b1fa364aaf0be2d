# Integration tests of faults, scale and signals (issue: faults, scale and
# speed); same harness as local.mk.
