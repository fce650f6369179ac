-- luacheck for vharness scenarios (scenarios/, bench/, tests/): scripts/check-style.
--
-- Scenarios run in vharness's Lua 5.4 state: the standard libraries, and the
-- API from `local vh = require "vharness"` (the harness preloads the module and
-- defines no globals of its own, so a scenario that uses `vh` without requiring
-- it is reported as an undefined global). luacheck does not look inside a
-- required module; `vharness check SCENARIO.lua` checks the calls into it
-- (unknown fields, bad durations, patterns and netem specs).
std = "lua54"

-- vharness replaces os.exit with an error: a scenario ends by returning, or
-- fails with error() or vh.check(), never by leaving without a verdict.
not_globals = { "os.exit" }

-- The house's column limit (.clang-format).
max_line_length = 100

-- Scenarios that are broken on purpose, for the tests that expect the error.
exclude_files = {
  "tests/integration/scenarios/syntax_error.lua", -- does not parse (it_exit_codes)
}
