#!/usr/bin/env bash
# The project's front door on a fresh machine: brings its own Node.js, npm dependencies and the
# tptctl bundle (all cached), then runs:
#   scripts/run.sh start [flags]        the control plane on its embedded defaults: API, relay and every
#                                       controller in one process, PGlite data dir, in-process bus
#   scripts/run.sh test [vitest args]   typecheck, lint, bring up the test bed (cached builds), run every test
#   scripts/run.sh tptctl [args]        the command line
#   scripts/run.sh <npm-script> [args]  any npm script with the project's toolchain (bench:api, testbed…)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

command="${1:-}"; shift || true
case "$command" in
  start) exec node bin/threeport.js all-in-one "$@" ;;
  server) exec node bin/threeport.js server "$@" ;;
  tptctl) exec node bin/tptctl.js "$@" ;;
  test)
    npm run --silent typecheck
    npm run --silent lint
    exec npx vitest run "$@"
    ;;
  ""|-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) exec npm run --silent "$command" -- "$@" ;;
esac
