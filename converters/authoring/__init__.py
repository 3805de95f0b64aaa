"""Authoring: `dac new` (a rule with its test stubs), `dac show` (what a rule compiles to) and
the checks `dac validate` adds for an unfinished change (test cases, TODOs, lock, README)."""
