#!/bin/sh
# An external extension over curl that counts invocations: it records each INVOKE's request id in
# /tmp (shared with the function), takes a second over its init, and on SHUTDOWN writes how many
# invocations it saw to a file of its own in $EXTENSION_REPORT_DIR when the function sets it.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
touch /tmp/counter-started
HEADERS="$(mktemp)"
curl -sS -D "$HEADERS" -o /tmp/counter-registration.json -X POST "$API/register" \
  -H "Lambda-Extension-Name: counter.sh" -H "Lambda-Extension-Accept-Feature: accountId" \
  -d '{"events": ["INVOKE", "SHUTDOWN"]}'
ID=$(grep -i '^Lambda-Extension-Identifier:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
rm -f "$HEADERS"
sleep 1
COUNT=0
while true; do
  EVENT=$(curl -sS "$API/event/next" -H "Lambda-Extension-Identifier: $ID")
  case "$EVENT" in
    *'"SHUTDOWN"'*)
      echo "counter: shutting down after $COUNT invocations"
      if [ -n "${EXTENSION_REPORT_DIR:-}" ]; then
        echo "$COUNT $EVENT" > "$EXTENSION_REPORT_DIR/shutdown-$$"
      fi
      exit 0
      ;;
    *'"INVOKE"'*)
      COUNT=$((COUNT + 1))
      REQUEST_ID=$(echo "$EVENT" | sed 's/.*"requestId":"\([^"]*\)".*/\1/')
      echo "$EVENT" > "/tmp/invoke-$REQUEST_ID"
      ;;
  esac
done
