# imgresize: the two commands a newcomer needs are `make demo` and `make test`.
# Every target installs what it needs through scripts/setup.sh (pinned, idempotent).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

.PHONY: help setup build release demo test lint unit e2e iac bench bench-quick load cost fuzz backfill clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## Install every pinned tool the project uses (second run: seconds)
	bash scripts/setup.sh all

build: ## Build both Lambda zips (arm64, x86_64) with cargo-lambda
	bash scripts/build.sh

release: ## Both zips as dist/imgresize-<version>-<arch>.zip with SHA256SUMS, for consumers of the module
	bash scripts/release.sh

demo: ## Upload photos and POST to the API on a local AWS emulator: the whole flow with the real function (no account needed)
	bash scripts/demo.sh

test: ## Everything a contributor keeps green: fmt, clippy, build, all test suites, IaC checks, bench smoke
	bash scripts/test.sh

lint: ## cargo fmt --check and clippy -D warnings
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

unit: ## Rust unit, corpus and S3-handler tests
	cargo test --workspace

e2e: ## The whole chain on the emulator (upload/API → EventBridge → Step Functions → the real function), the backfill and the template suites
	bash scripts/build.sh x86_64
	IMGRESIZE_REQUIRE_BUILD=1 cargo test -p imgresize-tests --test chain --test backfill --test 'e2e*'

iac: ## Offline checks of the Terraform module
	bash tests/iac/setup.sh
	bash tests/iac/run.sh

bench: ## Benchmark against Pillow, Pillow-SIMD, pyvips, sharp and the libjpeg-turbo floor (ARGS=--quick)
	bash scripts/build.sh x86_64
	bash bench/bench.sh $(ARGS)

bench-quick: ## One image, few runs: checks the benchmark runs
	$(MAKE) bench ARGS=--quick

load: ## 1000 requests on the real bootstrap x4 against the emulator's S3 (REQUESTS=1000); feeds bench/report.md
	bash scripts/build.sh x86_64
	IMGRESIZE_REQUIRE_BUILD=1 IMGRESIZE_LOAD_REQUESTS=$(or $(REQUESTS),1000) \
		cargo test -p imgresize-tests --test load -- --nocapture

cost: ## Dollars per million images (STANDARD/EXPRESS, arm64/x86_64, 1 or 3 outputs) from bench/report.md, bench/prices.json and the module's defaults (ARGS=--help)
	@python3 scripts/cost.py $(ARGS)
backfill: ## Resize every object already in a deployed stack's originals bucket (TF_DIR=<where terraform apply ran>)
	bash scripts/backfill.sh

fuzz: ## Run every fuzz target (SECONDS=600 each)
	bash scripts/fuzz.sh $(SECONDS)

clean: ## Remove build outputs and local state (keeps the installed tools)
	cargo clean
	rm -rf demo-out .localstack bench/out dist
