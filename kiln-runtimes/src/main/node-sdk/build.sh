#!/usr/bin/env bash
# Bundles the AWS SDK for JavaScript v3 for Kiln's Node.js runtimes, as Lambda's carry it: npm
# installs exactly the versions locked in package-lock.json (from the npm registry, or npm's own
# cache when it has them) and the result is zipped into the runtimes' resources. Kiln unpacks it
# at /var/runtime/node_modules, which is on every Node.js instance's NODE_PATH.
#
# usage: build.sh ZIP WORKDIR [SRC]    (run by Maven in kiln-runtimes' generate-resources phase)
#
# SRC is the directory of package.json and package-lock.json, this script's own by default: one
# per SDK bundle (node18/ holds the last versions that support Node.js 18, for nodejs18.x and
# nodejs20.x; this directory's, for nodejs22.x). The version goes beside ZIP, as ZIP without .zip
# plus .version.
#
# Without npm the build goes on and the Node.js runtimes come without the SDK; Kiln says so when
# it starts, and the test suite in CI fails on it.
set -euo pipefail

zip="$1"
work="$2"
src="${3:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
version="${zip%.zip}.version"

if [ -f "$zip" ] && [ -f "$version" ] \
  && [ "$zip" -nt "$src/package-lock.json" ] && [ "$zip" -nt "$src/package.json" ]; then
  exit 0 # up to date
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "[kiln] WARNING: npm was not found: the Node.js runtimes are built WITHOUT the AWS SDK for JavaScript (apt-get install npm)" >&2
  rm -f "$zip" "$version"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "[kiln] python3 is needed to bundle the Node.js runtimes' SDK (apt-get install python3)" >&2
  exit 1
fi

rm -rf "$work"
mkdir -p "$work" "$(dirname "$zip")"
cp "$src/package.json" "$src/package-lock.json" "$src/.npmrc" "$work/"
echo "[kiln] bundling the AWS SDK for JavaScript v3 for the Node.js runtimes (npm ci)" >&2
(cd "$work" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund >&2)

# a zip with the entries in a fixed order, so that the same lock file gives the same zip
python3 - "$work" "$zip.tmp" <<'PY'
import os, sys, zipfile
work, out = sys.argv[1], sys.argv[2]
root = os.path.join(work, "node_modules")
paths = []
for d, dirs, files in os.walk(root):
    dirs.sort()
    for f in sorted(files):
        paths.append(os.path.join(d, f))
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for p in paths:
        info = zipfile.ZipInfo(os.path.relpath(p, root), date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(p, "rb") as f:
            z.writestr(info, f.read())
PY
# the version of the SDK, which Kiln names when it lists its runtimes
(cd "$work" && node -p "require('@aws-sdk/client-lambda/package.json').version") > "$version"
mv "$zip.tmp" "$zip"
