# Stepwise: `make run` and `make test` work on a bare machine (see README).
SHELL := /bin/bash
# wasm-opt from npm binaryen (Debian's is too old for release builds).
export PATH := $(CURDIR)/scripts/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CHROMIUM ?= /usr/bin/chromium
# cargo-leptos builds the server with these; giving plain cargo (tests,
# clippy) the same keeps one set of artifacts in target/ instead of
# rebuilding everything when switching between them.
export RUSTFLAGS := --cfg erase_components
export LEPTOS_OUTPUT_NAME := stepwise
export LEPTOS_SITE_ROOT := target/site
export LEPTOS_SITE_PKG_DIR := pkg
export LEPTOS_SITE_ADDR := 127.0.0.1:3000
export LEPTOS_RELOAD_PORT := 3001
export LEPTOS_HASH_FILES := true
export LEPTOS_HASH_FILE_NAME := hash.txt
export LEPTOS_JS_MINIFY := false
# CI builds once from nothing: incremental caches would only cost disk
# (gigabytes) and never be reused.
ifdef CI
export CARGO_INCREMENTAL := 0
endif

.PHONY: setup build build-release run test test-rust test-e2e lint fmt bench profile bench-pg bench-ui clean-data sim

setup:
	@scripts/setup.sh

build: setup
	cargo leptos build

## Release: file names carry their content's hash, and every file is also
## stored brotli- and gzip-compressed, so a browser downloads ~1/4 of it once.
build-release: setup
	cargo leptos build --release --precompress

## Build (release) and serve on http://127.0.0.1:3000 with ./data/stepwise.db.
## The example workflow calls the server's own stand-in ledger (--demo) on
## the address it listens on (--demo lets its steps call that address).
run: build-release
	LEPTOS_SITE_ROOT=target/site ./target/release/stepwise serve --demo

## The deterministic simulation alone: `make sim SEEDS=20000` runs more
## scenarios than `make test` does (2,000); `make sim SEED=123` replays one
## and prints its operations.
sim:
	SIM_SEEDS=$(or $(SEEDS),2000) $(if $(SEED),SIM_SEED=$(SEED)) cargo test -p server --test integration --locked sim::simulation -- --nocapture

## Every Rust test, the lints, and the Playwright suite.
test: setup lint test-rust test-e2e

## Under a throwaway PostgreSQL cluster (scripts/pg.sh), which the tests
## find in STEPWISE_TEST_PG_URL: every test on SQLite, then the store's unit
## tests and the integration suite (engine, API, binary) again with every
## test's database on PostgreSQL: one test body, two databases.
test-rust:
	scripts/pg.sh run -- bash -c 'cargo test --workspace --locked && \
	  STEPWISE_TEST_BACKEND=postgres cargo test --locked --workspace --lib && \
	  STEPWISE_TEST_BACKEND=postgres cargo test --locked -p server --test integration'

test-e2e: build
	cd end2end && npx playwright test

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --locked -- -D warnings

## Engine benchmarks through the REST API of a release build (JSON lines).
bench:
	cargo build --release --locked -p server --bin stepwise --example bench
	./target/release/examples/bench ./target/release/stepwise

## Where linear-20's time goes: perf (Debian's linux-perf) over the
## profiling build (release code with line tables), by thread and library.
profile:
	cargo build --profile profiling --locked -p server --bin stepwise --example bench
	perf record -F 999 -o target/perf.data -- ./target/profiling/examples/bench ./target/profiling/stepwise linear-20
	perf report -i target/perf.data --sort comm,dso --stdio | grep -v '^#' | head -20

## The same workloads on a throwaway PostgreSQL cluster (scripts/pg.sh).
## One process, then three sharing the database (linear-20 and fanout-10).
bench-pg:
	cargo build --release --locked -p server --bin stepwise --example bench
	scripts/pg.sh run -- bash -c 'export BENCH_PG_URL=$$STEPWISE_TEST_PG_URL; \
	  ./target/release/examples/bench ./target/release/stepwise $(WORKLOAD) && \
	  for w in linear-20 fanout-10; do BENCH_PROCESSES=3 ./target/release/examples/bench ./target/release/stepwise $$w; done'

## Designer benchmark (Playwright + Chromium on a release build): one JSON line.
bench-ui: build-release
	cd end2end && STEPWISE_BIN=$(CURDIR)/target/release/stepwise npx playwright test --config playwright.bench.config.ts

fmt:
	cargo fmt --all

clean-data:
	rm -rf data
