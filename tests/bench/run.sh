#!/usr/bin/env bash
# `make bench` (not part of `make test`): release build; cold starts of every function and of
# two floor binaries under a Runtime API played on loopback; DynamoDB rounds per step; sign-ins
# per second per core against the local stack; access tokens and the authorizer, warm; one
# argon2id verification. Figures, not assertions: README "Performance" holds the last table.
#   RUNS=15 ROUNDS=2 USERS=20 TOKENS=200 bash tests/bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-15}; rounds=${ROUNDS:-2}; users=${USERS:-20}
# One target folder for both workspaces (the floors are bench/Cargo.toml's).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
target=$CARGO_TARGET_DIR
. tests/bench/release-env.sh
start=$(date +%s)
cargo build --release -q --workspace --bins
# The floors are a workspace of their own (bench/Cargo.toml): the crates' defaults, unmixed.
cargo build --release -q --manifest-path bench/Cargo.toml
echo "release build: $(( $(date +%s) - start )) s"
. tests/bench/devserver.sh
echo
python3 tests/bench/coldstart.py "$target/release" "$env_file" "$runs" "$rounds" "$work/coldstart.md"
echo
python3 tests/bench/signin.py "$base" "$env_file" \
  "$(grep -o 'activation link: \S*' "$work/dev.log" | head -1 | cut -d' ' -f3)" \
  "$dev" "$target/release/porterctl" "$users" "$work/people.json"
echo
# The last of them asks for access tokens, and the authorizer checks them and the session.
python3 tests/bench/tokens.py "$target/release" "$env_file" "$base" "$work/people.json" "${TOKENS:-200}"
echo
# The people signin.py made share its password; user0 signs in again, in the Lambda binary.
# Between its blocks of steps it runs password_bench: a ratio compares figures of one minute.
cargo build -q --release -p porter-shared --example password_bench
python3 tests/bench/warm.py "$target/release" "$env_file" user0@demo.test \
  "tangerine orbit kettle 94" 100 "$target/release/examples/password_bench"  # pragma: allowlist secret
echo
"$target/release/examples/password_bench" 30
echo
echo "DynamoDB rounds per step (through a counting proxy in front of moto):"
# A debug build, as `make test` links it: without the static-OpenSSL variables, so that this
# does not rebuild the tests' dependencies.
env -u OPENSSL_STATIC -u OPENSSL_NO_PKG_CONFIG -u OPENSSL_INCLUDE_DIR -u OPENSSL_LIB_DIR \
  cargo test -q -p porter-tests --test round_trips -- --nocapture --test-threads 1 2>&1 \
  | grep -oE '(password step|MFA step|wrong [a-z]+|unknown address|/api/[a-z/]+): [0-9]+ rounds.*'
