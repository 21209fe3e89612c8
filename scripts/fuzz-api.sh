#!/usr/bin/env bash
# Robustness check as in shared/baselines.md: schemathesis (cached venv) generates requests for
# every operation of our OpenAPI document against a fresh embedded server and reports any 5xx.
#   scripts/run.sh fuzz:api            (MAX_EXAMPLES=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${THREEPORT_CACHE:-$HOME/.cache/threeport}/schemathesis-4"
if [[ ! -x "$venv/bin/st" ]]; then
  echo "fuzz: installing schemathesis into $venv" >&2
  python3 -m venv "$venv" && "$venv/bin/pip" install -q 'schemathesis==4.*'
fi
work="$(mktemp -d)"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
node bin/threeport.js server --listen "127.0.0.1:$port" --data-dir "$work/data" --log-level warn > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
status=0
"$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" --checks not_a_server_error \
  --max-examples "${MAX_EXAMPLES:-10}" --workers 2 --no-color > "$work/report.txt" 2>&1 || status=$?
sed -n '/=== SUMMARY ===/,$p' "$work/report.txt"
grep -A12 '^_____' "$work/report.txt" | head -60 || true
echo "server errors logged: $(grep -c '"level":50' "$work/server.log" || true)"
exit $status
