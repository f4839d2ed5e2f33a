#!/bin/sh
# A custom runtime in the shell, as AWS's tutorial writes one: the Runtime API over curl.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  curl -sS -o /dev/null -X POST "$API/invocation/$REQUEST_ID/response" \
    -d "{\"handler\":\"$_HANDLER\",\"shell\":true,\"event\":$EVENT}"
done
