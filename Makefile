# taskgate: build, test, benchmark. `make test` is the command CI runs.
GO       ?= go
# Fuzz budgets are execution counts: a duration -fuzztime races Go 1.26's fuzz
# coordinator (go.dev/issue/75804) and fails with "context deadline exceeded"
# on a loaded machine. FUZZTIME=3m (or 10000x) overrides every target's.
FUZZ_QUICK ?= 500x
FUZZ_SLOW  ?= 100x
BIN      := bin

.PHONY: all build test vet unit fuzz bench bench-go corpus deps clean

all: build

build:
	$(GO) build -o $(BIN)/taskgate ./cmd/taskgate

# test: static checks, every test, then each fuzz target briefly.
test: vet unit fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...
	$(GO) vet -tags kind ./e2e/kind/...
	$(GO) vet -tags corpus ./...
	cd policytest && $(GO) vet -tags corpus ./...

# unit: every test, on what the repository holds (testdata/, examples/):
# nothing beside the clone is needed and no test skips for want of data.
unit:
	$(GO) test ./...

# corpus: the extra sweep over the real corpus (../shared/corpus, or
# TASKGATE_CORPUS=DIR; shared/corpus/*/SOURCES.md say where each file comes
# from): the tests built with -tags corpus, i.e. every real build pipeline,
# Task and partner PR of build-definitions and the tektoncd catalog, and
# policytest/ (a module of its own, so that OPA stays out of taskgate's
# build), where Conforma's own rego judges the trust data `bundle push`
# writes. Without the corpus it fails, never passes by skipping.
corpus: export TASKGATE_CORPUS := $(abspath $(or $(TASKGATE_CORPUS),../shared/corpus))
corpus:
	@test -d "$$TASKGATE_CORPUS/build-definitions" -a -d "$$TASKGATE_CORPUS/conforma" || { echo "make corpus: no corpus at $$TASKGATE_CORPUS (set TASKGATE_CORPUS=DIR)" >&2; exit 1; }
	$(GO) test -tags corpus -run Corpus ./...
	cd policytest && $(GO) test -tags corpus ./...

fuzz:
	$(GO) test ./pkg/manifest -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/manifest -run '^$$' -fuzz '^FuzzLocate$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/catalog -run '^$$' -fuzz '^FuzzParseOwners$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/catalog -run '^$$' -fuzz '^FuzzParseAliases$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/catalog -run '^$$' -fuzz '^FuzzCodeOwners$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/config -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/check -run '^$$' -fuzz '^FuzzSkip$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/rules -run '^$$' -fuzz '^FuzzScript$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_SLOW))
	$(GO) test ./pkg/cluster -run '^$$' -fuzz '^FuzzTestOutput$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_QUICK))
	$(GO) test ./pkg/pipeline -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_SLOW))

# bench: taskgate as a whole process on the corpus (../shared/corpus):
# the 292 tektoncd/catalog Tasks catlin accepts with plain rules, with
# shellcheck, as the full gate (13 build pipelines), from a warm --cache,
# one Task end to end, and the plain rules and the full gate on ten times
# the Tasks; CPU time and peak RSS, side by side with catlin
# (as ratios) when CATLIN_SRC=DIR (its sources, built here) or a `catlin`
# on PATH is there. BENCH=CMD hands each pair to an external timer
# (CMD --vs 'B' -- A); BENCHFLAGS=-only TEXT,... picks configurations.
# bench-go: the in-process Go benchmarks (pkg/rules).
CATLIN_SRC ?=
BENCH      ?=
BENCHFLAGS ?=
bench: build
	$(if $(CATLIN_SRC),cd $(CATLIN_SRC) && $(GO) build -o $(abspath $(BIN))/catlin ./cmd/catlin)
	$(GO) run ./internal/bench -taskgate $(BIN)/taskgate $(if $(CATLIN_SRC),-catlin $(BIN)/catlin) $(if $(BENCH),-timer '$(BENCH)') $(BENCHFLAGS)

bench-go:
	$(GO) test ./pkg/rules -run '^$$' -bench . -benchmem -count 3

# deps: the Debian packages tests use: shellcheck, a real OCI registry,
# and e2e's real node (containerd, runc, CNI plugins, iptables, iproute2
# for the pod bridge, busybox-static as the base of its images).
deps:
	apt-get update
	apt-get install -y shellcheck docker-registry containerd runc containernetworking-plugins iptables iproute2 busybox-static

clean:
	rm -rf $(BIN)

# docs: regenerate docs/rules.md from the rule registry (a test fails when it is stale).
.PHONY: docs
docs:
	mkdir -p docs
	$(GO) run ./cmd/taskgate rules --format markdown > docs/rules.md.tmp
	mv docs/rules.md.tmp docs/rules.md

# e2e: end-to-end tests on a local cluster without Docker (etcd,
# kube-apiserver, controller-manager, scheduler, a real kubelet on
# Debian's containerd, kwok for API-only tests, Tekton's controller and
# step images, all built from the Go module proxy, see e2e/README.md).
# It needs root and `make deps`. The first run builds and caches the
# binaries (minutes); later runs start in seconds.
# e2e-kind: the same on kind with a real Tekton (needs Docker and network).
.PHONY: e2e e2e-tools e2e-kind
# e2e-tools builds the binaries first (cached by content), so the test
# timeout covers tests only.
e2e-tools:
	$(GO) run ./e2e/localcp/cmd/e2e-tools e2e/tools

e2e: e2e-tools
	$(GO) test -tags e2e -count=1 -timeout 30m -v ./e2e/

e2e-kind:
	e2e/kind/run.sh

# images: the step images as OCI layouts under bin/images/<image>, built
# without a container engine (cmd/imagebuild: the static binary, a non-root
# user, git and shellcheck from this machine's Debian packages with their
# shared libraries; SOURCE_DATE_EPOCH, default 0, fixes every timestamp),
# then run with chroot when root. PUSH=registry/prefix also pushes them.
# image-digests: pins tasks/ to $(REGISTRY)/<image>@<digest of the layout>.
REGISTRY ?= quay.io/taskgate
PUSH     ?=
.PHONY: images image-digests
images:
	$(GO) run ./cmd/imagebuild build --out $(BIN)/images $(if $(PUSH),--push $(PUSH))
	$(GO) run ./cmd/imagebuild verify --out $(BIN)/images

image-digests: images
	$(GO) run ./cmd/imagebuild pin --out $(BIN)/images --registry $(REGISTRY) tasks
