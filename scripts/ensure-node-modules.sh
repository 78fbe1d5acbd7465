#!/usr/bin/env bash
# Installs the npm packages when node_modules is missing or older than the lock file, so that
# `npm start` and `npm test` work on a fresh clone without a separate install step.
set -euo pipefail
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  echo "lifeline: installing npm packages..."
  # `npm ci` installs exactly the lock and never rewrites it, so the tree stays clean. The lock
  # lists the native builds of every platform (@swc/core's optional packages), as npm ci needs.
  npm ci --no-audit --no-fund
fi
