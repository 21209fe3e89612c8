#!/usr/bin/env bash
# The project's front door on a fresh machine: brings its own Node.js and npm dependencies,
# then runs the control plane or the test suite.
#   scripts/run.sh server [flags]   the control plane on its embedded defaults (PGlite + in-process bus)
#   scripts/run.sh test [vitest args]   typecheck, bring up the test bed (cached builds), run every test
#   scripts/run.sh <npm-script> [args]  any npm script with the project's toolchain (bench:api, testbed…)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

command="${1:-}"; shift || true
case "$command" in
  server) exec node bin/threeport.js server "$@" ;;
  test)
    npm run --silent typecheck
    exec npx vitest run "$@"
    ;;
  ""|-h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) exec npm run --silent "$command" -- "$@" ;;
esac
