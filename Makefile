# taskgate: build, test, benchmark. `make test` is the command CI runs.
GO       ?= go
FUZZTIME ?= 5s
BIN      := bin

.PHONY: all build test vet unit fuzz bench deps clean

all: build

build:
	$(GO) build -o $(BIN)/taskgate ./cmd/taskgate

# test: static checks, every test, then each fuzz target briefly.
test: vet unit fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test ./...

fuzz:
	$(GO) test ./pkg/manifest -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/manifest -run '^$$' -fuzz '^FuzzLocate$$' -fuzztime $(FUZZTIME)

# bench: the whole corpus (../shared/corpus) and one Task end to end.
bench:
	$(GO) test ./pkg/rules -run '^$$' -bench . -benchmem -count 3

# deps: the Debian packages tests use (shellcheck, a real OCI registry).
deps:
	apt-get update
	apt-get install -y shellcheck docker-registry

clean:
	rm -rf $(BIN)

# docs: regenerate docs/rules.md from the rule registry (a test fails when it is stale).
.PHONY: docs
docs:
	mkdir -p docs
	$(GO) run ./cmd/taskgate rules --format markdown > docs/rules.md.tmp
	mv docs/rules.md.tmp docs/rules.md
