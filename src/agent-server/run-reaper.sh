#!/usr/bin/env bash
# Usage: run-reaper.sh, its standard input a pipe from the agent server.
#
# The agent server writes "+PGID" when a run's process group starts and "-PGID" once it is gone.
# At end-of-file the server is gone, however it ended (a SIGKILL runs none of its own code), and
# every group still listed is killed, so no agent process outlives its server.
set -u
declare -A groups=()
while read -r line; do
  # Only a process-group id: a whole number above 1, as digits. Anything else is ignored: a line
  # that expands as code, and "+1" (kill -- -1 would signal every process this user may signal).
  [[ $line =~ ^([+-])([1-9][0-9]{0,9})$ ]] || continue
  id=${BASH_REMATCH[2]}
  ((id > 1)) || continue
  if [[ ${BASH_REMATCH[1]} == + ]]; then groups[$id]=1; else unset 'groups[$id]'; fi
done
for group in "${!groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null; done
exit 0
