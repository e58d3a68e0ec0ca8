#!/usr/bin/env bash
# detect-secrets over the repository and over a test run's logs (folder given as $1).
# The repository's findings are audited in .secrets.baseline (test vectors, fixtures, names
# of settings, all marked false positives); anything new fails. The logs must have none.
set -euo pipefail
cd "$(dirname "$0")/.."
logs="${1:-}"
# Rescan the tracked files into a copy of the baseline (line numbers move as code changes;
# audited findings keep their verdict); any finding without a verdict is new.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp .secrets.baseline "$work/baseline"
detect-secrets scan --baseline "$work/baseline" --exclude-files '^\.secrets\.baseline$'
new=$(python3 -c '
import json, sys
results = json.load(open(sys.argv[1]))["results"]
for path, hits in results.items():
    for h in hits:
        if h.get("is_secret") is not False:
            print(path + ":" + str(h["line_number"]) + ": " + h["type"])
' "$work/baseline")
if [ -n "$new" ]; then
  echo "possible secrets not in the audited baseline (.secrets.baseline):"; echo "$new"
  echo "If one is a fixture, mark its line with a 'pragma: allowlist secret' comment."
  exit 1
fi
echo "secrets: repository clean against the audited baseline"
if [ -n "$logs" ]; then
  found=$(detect-secrets scan --all-files "$logs" | python3 -c '
import json, sys
results = json.load(sys.stdin)["results"]
for path, hits in results.items():
    for h in hits:
        print(path + ":" + str(h["line_number"]) + ": " + h["type"])
')
  if [ -n "$found" ]; then
    echo "secrets found in the test logs:"; echo "$found"; exit 1
  fi
  echo "secrets: $(find "$logs" -type f | wc -l) log files clean"
fi
