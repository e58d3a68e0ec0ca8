# Porter: `make dev` runs it, `make test` tests it. Everything stays on this machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 3000
MOTO_PORT ?= 5005
VENV := .venv
BROWSER := tests/browser
IDP := infra/idp

export CARGO_TARGET_DIR ?= $(CURDIR)/target
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Every process started from here talks to moto on loopback with dummy credentials; without
# these the AWS SDK would look for real credentials and endpoints off this machine.
export AWS_ACCESS_KEY_ID := test
export AWS_SECRET_ACCESS_KEY := test
export AWS_REGION := us-east-1
export AWS_DEFAULT_REGION := us-east-1
export AWS_EC2_METADATA_DISABLED := true
export AWS_ENDPOINT_URL := http://127.0.0.1:$(MOTO_PORT)
export SAM_CLI_TELEMETRY := 0
# The functions without security keys: built alone (as sam build builds each function), they
# compile porter-shared without its `webauthn` feature, which a workspace build never does.
SOLO := $(addprefix -p ,$(filter-out login mfa-enroll account,$(notdir $(wildcard functions/*))))

.PHONY: help dev test venv node idp deps lint fmt bench release sizes screenshots deploy-check

help:
	@echo "make dev    run Porter at http://localhost:$(PORT) (moto, table, demo tenant, outbox)"
	@echo "make test   unit, integration, browser, cargo-lambda and template checks"
	@echo "make lint   rustfmt and clippy (-D warnings)"
	@echo "make deps   Debian packages the build and tests need (chromium, oathtool, libssl-dev); needs root"
	@echo "make sizes  release build and the size of each function binary"
	@echo "make screenshots  a PNG of every page in both themes, into screenshots/"
	@echo "make deploy-check  sam validate --lint, sam build (arm64), bootstrap sizes against budgets"
	@echo "make bench  cold starts against floor binaries, sign-ins per second, DynamoDB rounds (release)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node: $(BROWSER)/node_modules/.installed
$(BROWSER)/node_modules/.installed: $(BROWSER)/package-lock.json
	cd $(BROWSER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The local OpenID providers (npm oidc-provider) that `make dev` and the browser tests run.
idp: $(IDP)/node_modules/.installed
$(IDP)/node_modules/.installed: $(IDP)/package-lock.json
	cd $(IDP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps:
	@missing=(); \
	command -v chromium >/dev/null || missing+=(chromium); \
	command -v oathtool >/dev/null || missing+=(oathtool); \
	dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev); \
	command -v pkg-config >/dev/null || missing+=(pkg-config); \
	if [ $${#missing[@]} -gt 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}" >/dev/null; \
	fi

dev: venv idp
	cargo build -p porter-dev -p porterctl
	$(CARGO_TARGET_DIR)/debug/porter-dev --port $(PORT) --moto-port $(MOTO_PORT)

# The test run's output, scanned for secrets at the end.
LOGS := .porter/test-logs

test: venv node idp
	@# The Debian packages: installed here when running as root, else named exactly.
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps; \
	 else for c in chromium oathtool pkg-config; do command -v $$c >/dev/null || \
	   { echo "$$c is missing: run 'sudo make deps' (it installs chromium, oathtool, libssl-dev, pkg-config)"; exit 1; }; done; fi
	cargo fmt --all --check
	cargo build --workspace --bins
	cargo check -q $(SOLO)
	rm -rf $(LOGS) && mkdir -p $(LOGS)
	set -o pipefail; cargo test --workspace 2>&1 | tee $(LOGS)/cargo-test.log
	set -o pipefail; cd $(BROWSER) && PORTER_BIN_DIR=$(CARGO_TARGET_DIR)/debug node --test 2>&1 | tee $(CURDIR)/$(LOGS)/browser.log
	set -o pipefail; PORTER_LOG_DIR=$(LOGS) bash tests/cargo-lambda.sh 2>&1 | tee $(LOGS)/cargo-lambda.log
	bash tests/api-fuzz.sh
	cfn-lint template.yaml
	sam validate --lint
	bash tests/secrets.sh $(LOGS)

# Figures, not a test: release build, cold starts of every function against two floor
# binaries (Runtime API played on loopback), sign-ins per second per core, one argon2id check,
# DynamoDB rounds per step. README "Performance" holds the last run.
bench: venv idp
	bash tests/bench/run.sh

# sam validate --lint, sam build (arm64) and every bootstrap present and within its budget.
deploy-check: venv
	bash tests/deploy-check.sh

# A PNG of every page, light and dark, desktop and phone width, into screenshots/.
screenshots: node idp
	cargo build -p porter-dev -p porterctl
	cd $(BROWSER) && PORTER_BIN_DIR=$(CARGO_TARGET_DIR)/debug node screenshots.mjs

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --all-targets $(SOLO) -- -D warnings

fmt:
	cargo fmt --all

# Release binaries as Lambda runs them would be `cargo lambda build --release --arm64`;
# this measures the native release build with the same profile.
sizes:
	. tests/bench/release-env.sh && cargo build --release --workspace --bins && \
	  cargo build --release --manifest-path bench/Cargo.toml
	@for b in web login activate me mfa-enroll setup invite-user users configure-sso login-callback \
	  api-management check-license account account-password token oauth2 authorizer solutions mailer organizations \
	  floor-hello floor-dynamodb porterctl porter-dev; do \
	  printf '%-12s %s\n' $$b "$$(du -h $(CARGO_TARGET_DIR)/release/$$b | cut -f1)"; done
