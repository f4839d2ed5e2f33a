#!/bin/sh
# An external extension that gives up at the first invocation: it reports exit/error and exits.
API="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
HEADERS="$(mktemp)"
curl -sS -D "$HEADERS" -o /dev/null -X POST "$API/register" \
  -H "Lambda-Extension-Name: quitter.sh" -d '{"events": ["INVOKE"]}'
ID=$(grep -i '^Lambda-Extension-Identifier:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
curl -sS -o /dev/null "$API/event/next" -H "Lambda-Extension-Identifier: $ID"
curl -sS -o /dev/null -X POST "$API/exit/error" -H "Lambda-Extension-Identifier: $ID" \
  -H "Lambda-Extension-Function-Error-Type: Extension.Quit"
exit 1
