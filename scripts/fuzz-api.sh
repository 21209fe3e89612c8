#!/usr/bin/env bash
# Robustness check as in shared/baselines.md: schemathesis (cached venv) generates requests for
# every operation of our OpenAPI document against a fresh embedded server. Besides "no 5xx" it
# checks that the server accepts what the document calls valid and answers what it promises.
#   scripts/run.sh fuzz:api
# Knobs: MAX_EXAMPLES (30), CHECKS (the three below), PHASES (all four, stateful included),
#        FUZZ_REPORT_DIR (keep schemathesis' report, its JUnit file and the server log there),
#        PYTHON (the interpreter for the venv; CPython 3.11.7 and older can crash inside
#        hypothesis with "AST constructor recursion depth mismatch" when workers run in threads).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
python_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
venv="${THREEPORT_CACHE:-$HOME/.cache/threeport}/schemathesis-4.32-py$python_version"
if [[ ! -x "$venv/bin/st" ]]; then
  echo "fuzz: installing schemathesis 4.32 into $venv" >&2
  "$python" -m venv "$venv" && "$venv/bin/pip" install -q 'schemathesis==4.32.*'
fi
work="$(mktemp -d)"
report_dir="${FUZZ_REPORT_DIR:-$work}"
mkdir -p "$report_dir"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
node bin/threeport.js server --listen "127.0.0.1:$port" --data-dir "$work/data" --log-level warn > "$report_dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
status=0
"$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" \
  --checks "${CHECKS:-not_a_server_error,positive_data_acceptance,response_schema_conformance}" \
  --phases "${PHASES:-examples,coverage,fuzzing,stateful}" \
  --max-examples "${MAX_EXAMPLES:-30}" --workers 2 --no-color \
  --report junit --report-junit-path "$report_dir/junit.xml" > "$report_dir/report.txt" 2>&1 || status=$?
sed -n '/^ ⏭   Examples/,/^ *API Links/p' "$report_dir/report.txt"
sed -n '/=== SUMMARY ===/,$p' "$report_dir/report.txt"
echo "server errors logged: $(grep -c '"level":50' "$report_dir/server.log" || true)"
exit $status
