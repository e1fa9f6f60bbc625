# podsim — build, demo and test targets. See README.md.
#
# sudo resets PATH, so find Go where the Go installer puts it too.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/podsim/podsim/cmd/podsim/app.Version=$(VERSION)
export CGO_ENABLED := 0

.PHONY: all build deps test-deps demo test unit integration clean gc check-go gvisor

all: build

include hack/standins.mk

check-go:
	@$(GO) version >/dev/null 2>&1 || { echo "Go is needed to build podsim: install Go >= 1.22 (go.dev/dl, or 'apt-get install golang-go' on Ubuntu 24.04); the go command fetches the toolchain go.mod asks for" >&2; exit 1; }

build: check-go standins gvisor
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/podsim ./cmd/podsim
	$(GO) build -ldflags '-s -w' -o bin/pause ./cmd/pause
	$(GO) build -ldflags '-s -w' -o bin/podsim-runsc ./cmd/podsim-runsc

# gVisor's runsc and containerd-shim-runsc-v1 for runtimeClassName: gvisor,
# built from gVisor's sources (Go module proxy) into bin/gvisor/; cached, so
# only the first build takes ~3 minutes. See hack/gvisor/build.sh.
gvisor: check-go
	GO=$(GO) ./hack/gvisor/build.sh

deps:
	./hack/install-deps.sh

# What the tests need besides podsim's own dependencies: crictl, for the
# integration test that compares a podsim pod with a CRI pod (podsim compare).
test-deps:
	PODSIM_BENCH_SKIP_PODMAN=1 ./hack/bench/install-reference.sh

# Runs every scenario of the article (the main job).
demo: deps build
	./bin/podsim run all

# Unit tests (any user) then the root-only end-to-end tests.
test: deps test-deps build unit integration

unit: check-go
	$(GO) vet ./...
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

integration: build
	@[ "$$(id -u)" -eq 0 ] || { echo "integration tests need root: run 'sudo make test'" >&2; exit 1; }
	@# One integration run at a time per machine: they share the bridge, the cgroup tree and containerd.
	PODSIM_BIN=$(CURDIR)/bin/podsim flock -o /tmp/podsim-integration.lock $(GO) test -count=1 -v -timeout 30m ./integration/

# make vm-test: the integration tests in a cgroup v2 VM (QEMU); see hack/vm/.
include hack/vm/vm.mk

# make cluster-up / cluster-down / cluster-test: a real single-node cluster; see hack/cluster/.
include hack/cluster/cluster.mk

# Remove everything podsim made on this host (pods, netns, cgroups, files).
gc: build
	./bin/podsim gc

clean:
	rm -rf bin

# Measure podsim against containerd's CRI (crictl), podman and plain runc on
# this machine (root; installs crictl and podman): docs/performance.md.
# make bench BENCH_ARGS="--runs 20 --scale 100"; CI: hack/bench/run.sh --ci
.PHONY: bench
bench: build
	./hack/bench/run.sh $(BENCH_ARGS)
