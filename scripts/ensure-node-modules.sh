#!/usr/bin/env bash
# Installs the npm packages when node_modules is missing or older than the lock file, so that
# `npm start` and `npm test` work on a fresh clone without a separate install step.
set -euo pipefail
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  echo "lifeline: installing npm packages..."
  # `npm install`, not `npm ci`: the lock file holds only the platform builds of native packages
  # (@swc/core) that the registry served when it was written, and `npm ci` refuses such a lock.
  # With the lock present, `npm install` installs exactly its versions all the same.
  npm install --no-audit --no-fund
fi
