#!/usr/bin/env bash
# `make deploy-check`: the template validates and lints, `sam build` builds every function as
# Lambda runs it (cargo-lambda, arm64, provided.al2023), and every `bootstrap` exists and fits
# its size budget. Prints the build time and each function's size.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0
# Budgets in MiB for the arm64 bootstrap, ~10 % above the last `sam build` (see README,
# Deploy): web has no AWS client; the functions that verify security keys or read PEM keys
# link OpenSSL, which arm64 builds compile in (vendored), ~3.5 MiB. mfa-enroll also checks
# phone numbers (the `phonenumber` crate: every country's numbering plan and the regex engine
# that reads it): 15.6 MiB at the last `sam build`, ~3 MiB of it that crate.
budget() {
  case "$1" in
    WebFunction) echo 3 ;;
    MfaEnrollFunction) echo 17 ;;
    LoginFunction|AccountFunction|ApiManagementFunction|CheckLicenseFunction) echo 14 ;;
    *) echo 11 ;;
  esac
}

sam validate --lint
# DEPLOY_CHECK_REUSE=1 checks the sizes of the last build without building again.
if [ -z "${DEPLOY_CHECK_REUSE:-}" ] || [ ! -d .aws-sam/build ]; then
  start=$(date +%s)
  sam build --build-dir .aws-sam/build
  echo "sam build: $(( $(date +%s) - start )) s"
fi

failed=0
for fn in $(python3 - <<'PY'
import re
t = open("template.yaml").read()
print(" ".join(re.findall(r"^  ([A-Za-z0-9]+Function):\n    Type: AWS::Serverless::Function", t, re.M)))
PY
); do
  bin=".aws-sam/build/$fn/bootstrap"
  if [ ! -f "$bin" ]; then echo "MISSING $bin"; failed=1; continue; fi
  arch=$(file -b "$bin" | grep -o 'ARM aarch64' || true)
  size=$(stat -c %s "$bin")
  mib=$(python3 -c "print(f'{$size/1048576:.1f}')")
  limit=$(budget "$fn")
  status=ok
  if [ -z "$arch" ]; then status="not arm64"; failed=1; fi
  if [ "$size" -gt $(( limit * 1048576 )) ]; then status="over its ${limit} MiB budget"; failed=1; fi
  printf '%-26s %6s MiB  %s\n' "$fn" "$mib" "$status"
done
exit "$failed"
