#!/usr/bin/env bash
# Usage: run-reaper.sh, its standard input a pipe from the agent server.
#
# The agent server writes "+PGID" when a run's process group starts and "-PGID" once it is gone.
# At end-of-file the server is gone, however it ended (a SIGKILL runs none of its own code), and
# every group still listed is killed, so no agent process outlives its server.
set -u
declare -A groups=()
while read -r line; do
  case $line in
    +*) groups[${line#+}]=1 ;;
    -*) unset "groups[${line#-}]" ;;
  esac
done
for group in "${!groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null; done
exit 0
