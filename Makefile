# ccsync — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO      ?= go
BIN     := bin/ccsync
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# make run: the in-process sandbox's last twelve months into ./ccsync.duckdb.
FROM    ?= $(shell date -u -d '12 months ago' +%F)
TO      ?= $(shell date -u -d 'yesterday' +%F)
DUCKDB  ?= ./ccsync.duckdb

.PHONY: all build run test bench lint clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/ccsync

## run: backfill the CrowdChange and Donately sandboxes' last twelve months and sync (walk) the
## Crowdtilt sandbox into $(DUCKDB), then the first two sources' status and an analyst query over
## each source.
run: build
	./$(BIN) --sandbox --sandbox-faults 0.03 --log-format text --duckdb $(DUCKDB) backfill --from $(FROM) --to $(TO)
	./$(BIN) --source donately --sandbox --sandbox-faults 0.03 --log-format text --duckdb $(DUCKDB) backfill --from $(FROM) --to $(TO)
	./$(BIN) --source crowdtilt --sandbox --sandbox-faults 0.03 --log-format text --duckdb $(DUCKDB) sync
	./$(BIN) --duckdb $(DUCKDB) --log-level warn status
	./$(BIN) --source donately --duckdb $(DUCKDB) --log-level warn status
	@echo; echo "Revenue per campaign per month (scripts/queries/revenue_per_campaign_month.sql):"
	./$(BIN) --duckdb $(DUCKDB) --log-level warn query -- "$$(cat scripts/queries/revenue_per_campaign_month.sql)"
	@echo; echo "Donately donations per currency and status (scripts/queries/donately_by_currency_status.sql):"
	./$(BIN) --duckdb $(DUCKDB) --log-level warn query -- "$$(cat scripts/queries/donately_by_currency_status.sql)"
	@echo; echo "Crowdtilt payments per status (scripts/queries/crowdtilt_by_status.sql):"
	./$(BIN) --duckdb $(DUCKDB) --log-level warn query -- "$$(cat scripts/queries/crowdtilt_by_status.sql)"
	@echo; echo "All sources: donations per source, kind and status (scripts/queries/model_by_source_status.sql):"
	./$(BIN) --duckdb $(DUCKDB) --log-level warn query -- "$$(cat scripts/queries/model_by_source_status.sql)"

## test: go vet, then every test with the race detector, in random order. GOGC=400 trades memory
## (the cmd tests peak at 1.4 GB) for less garbage collection in the race-instrumented tests;
## atexit_sleep_ms=0 stops every race-instrumented process (each test binary, and each ccsync a test
## starts) from sleeping a second before it exits; gold, where installed, links the test binaries
## that embed DuckDB in two thirds of the time of the default linker.
TEST_LDFLAGS := $(if $(shell command -v ld.gold),-ldflags=-extldflags=-fuse-ld=gold)
test:
	$(GO) vet ./...
	GOGC=400 GORACE=atexit_sleep_ms=0 $(GO) test -race -shuffle=on $(TEST_LDFLAGS) -timeout 12m ./...

## bench: one table, side by side in one run: the floor (json.Valid), each stage on the same bytes,
## the whole run from a sandbox served by another process at two sizes (CPU/tx, tx/s, peak RSS,
## file size) and the DuckDB peer (scripts/bench.sh; about two minutes).
bench: build
	scripts/bench.sh

## lint: formatting, vet, and shellcheck on the scripts.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	@if command -v shellcheck >/dev/null; then shellcheck scripts/*.sh .ci/run; else echo "shellcheck not installed (apt-get install shellcheck)"; exit 1; fi

clean:
	rm -rf bin
