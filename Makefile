# jobctl's everyday tasks. `make demo` needs only Go: the demo store is an
# embedded SQLite file.

GO       ?= go
BIN      := bin/jobctl
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/jobctl/jobctl/internal/cli.Version=$(VERSION)
DEMO_DIR ?= .demo
DEMO_DB  := $(DEMO_DIR)/jobs.db

.PHONY: build demo test bench clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/jobctl

# A fresh demo store, seeded and shown. JOBCTL_DATABASE_URL outranks
# DATABASE_URL, so the demo never touches another store.
demo: export JOBCTL_DATABASE_URL = sqlite:$(DEMO_DB)
demo: build
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	mkdir -p $(DEMO_DIR)
	$(BIN) demo
	@printf '\n== Newest jobs ==\n'
	@$(BIN) list --limit 15
	@printf '\n== Dead letter queue, last 7 days ==\n'
	@$(BIN) list --status dead --since 7d
	@printf '\n== The guide'"'"'s example job ==\n'
	@$(BIN) show job_12345abc

# Every test, never from the cache (-count=1), Postgres suites included:
# they use JOBCTL_TEST_DATABASE_URL, by default the local test database,
# and fail rather than skip when it cannot be reached.
test: export JOBCTL_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...

# Prints throughput, latency, memory and query-plan figures measured with
# the built binary against Postgres (BENCH_DATABASE_URL, default the local
# test database; throwaway schemas) and SQLite. BENCH_FLAGS='-only list
# -rows 200000' runs a part alone; see go run ./bench -h.
bench: build
	$(GO) run ./bench -bin $(BIN) $(BENCH_FLAGS)

# Only the files the demo made, in case DEMO_DIR names a directory in use.
clean:
	rm -rf bin
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	rmdir $(DEMO_DIR) 2>/dev/null || true
