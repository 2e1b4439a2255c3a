#!/usr/bin/env bash
# The README's walk-through, run for real: seed the demo, serve it, sign in as the demo
# reviewer and claim a case with curl. Fails loudly if any step does not do what the README says.
set -euo pipefail
cd "$(dirname "$0")/.."
# The test command built the server with the whole workspace already (IDENTDESK_SERVER_BIN);
# building it alone would compile its dependencies again with other features.
server="${IDENTDESK_SERVER_BIN:-}"
if [ -z "$server" ]; then
  cargo build --locked -q -p identdesk-server
  server="${CARGO_TARGET_DIR:-target}/debug/identdesk-server"
fi
data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT

"$server" --data-dir "$data" demo --applicants 80 > "$data/demo.txt"
password=$(awk '$2 == "reviewer@demo.identdesk.test" { print $3 }' "$data/demo.txt")
[ -n "$password" ] || { echo "demo printed no reviewer password"; cat "$data/demo.txt"; exit 1; }
"$server" --data-dir "$data" serve --listen "127.0.0.1:$port" > "$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null && break; sleep 0.2; done

# The lines below are the README's, with the password filled in.
TOKEN=$(curl -s http://127.0.0.1:$port/api/v1/auth/login -H 'content-type: application/json' \
  -d '{"email":"reviewer@demo.identdesk.test","password":"'"$password"'"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
case=$(curl -s -X POST http://127.0.0.1:$port/api/v1/cases/claim -H "authorization: Bearer $TOKEN")
echo "$case" | grep -q '"state":"claimed"' || { echo "claim did not return a claimed case: $case"; exit 1; }
echo "$case" | grep -q '"kind":"review"' || { echo "the reviewer got a case that is not a review: $case"; exit 1; }
echo "walk-through: 1 passed, 0 failed"
