#!/usr/bin/env bash
# The time of one password check (argon2id, OWASP parameters) on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run -q -p porter-shared --example password_bench -- "${1:-30}"
