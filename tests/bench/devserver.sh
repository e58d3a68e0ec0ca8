# Sourced by the benchmarks: builds the release dev server and starts it on a free localhost
# port with the environment every process here gets (loopback only, dummy credentials).
# Sets `base`, `work` (a temporary folder, removed on exit) and `env_file`.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=http://127.0.0.1:9 RUST_LOG=warn
target=${CARGO_TARGET_DIR:-target}
. "$(dirname "${BASH_SOURCE[0]}")/release-env.sh"
cargo build --release -q -p porter-dev
work=$(mktemp -d)
env_file="$work/env"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$target/release/porter-dev" --port "$port" --moto-port 0 --env-file "$env_file" </dev/null >"$work/dev.log" 2>&1 &
dev=$!
trap 'kill -INT $dev 2>/dev/null; wait $dev 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do grep -q "Press Ctrl-C" "$work/dev.log" && break; sleep 0.2; done
grep -q "Press Ctrl-C" "$work/dev.log" || { cat "$work/dev.log"; exit 1; }
base="http://localhost:$port"
