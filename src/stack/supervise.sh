#!/usr/bin/env bash
# Usage: supervise.sh STOP_SIGNAL COMMAND [ARGS...]
#
# Runs COMMAND and stops it with STOP_SIGNAL when this script receives TERM/INT/HUP, or when its
# standard input reaches end-of-file. Lifeline starts every server through this script with a
# pipe as stdin, so when the Node process that owns the stack dies, even by SIGKILL, the pipe
# closes and the server is stopped instead of being left behind.
set -u
sig=$1
shift
exec 3<&0
"$@" </dev/null &
child=$!
stop() { kill -s "$sig" "$child" 2>/dev/null; }
trap stop TERM INT HUP
{ while read -r -u 3 _; do :; done; stop; } &
watcher=$!
status=0
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$status"
