#!/usr/bin/env bash
# Check License, measured: the warm latency of POST /api/license/check (key opened, client
# assertion signed, metadata + token + entitlements fetched from the platform stand-in,
# entitlements stored) through the release dev server. Bounded: N checks.
#   bash tests/bench/license.sh [N]      (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-30}
. tests/bench/devserver.sh
python3 tests/bench/license.py "$base" "$env_file" "$(grep -o 'activation link: \S*' "$work/dev.log" | head -1 | cut -d' ' -f3)" "$n"
