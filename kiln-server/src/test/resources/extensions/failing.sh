#!/bin/sh
# An external extension that registers, then reports that it cannot initialise.
API="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
HEADERS="$(mktemp)"
curl -sS -D "$HEADERS" -o /dev/null -X POST "$API/register" \
  -H "Lambda-Extension-Name: failing.sh" -d '{"events": ["INVOKE"]}'
ID=$(grep -i '^Lambda-Extension-Identifier:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
curl -sS -o /dev/null -X POST "$API/init/error" -H "Lambda-Extension-Identifier: $ID" \
  -H "Lambda-Extension-Function-Error-Type: Extension.ConfigMissing" \
  -d '{"errorMessage": "no configuration found", "errorType": "Extension.ConfigMissing"}'
