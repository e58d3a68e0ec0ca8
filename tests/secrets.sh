#!/usr/bin/env bash
# detect-secrets over the repository and over a test run's logs (folder given as $1).
# The repository's findings are audited in .secrets.baseline (test vectors, fixtures, names
# of settings, all marked false positives); anything new fails. The logs must have none.
set -euo pipefail
cd "$(dirname "$0")/.."
logs="${1:-}"
git ls-files -z | xargs -0 detect-secrets-hook --baseline .secrets.baseline
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
