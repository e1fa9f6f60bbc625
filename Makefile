# podsim — build, demo and test targets. See README.md.
#
# sudo resets PATH, so find Go where the Go installer puts it too.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/podsim/podsim/cmd/podsim/app.Version=$(VERSION)
export CGO_ENABLED := 0

.PHONY: all build deps demo test unit integration clean gc check-go

all: build

check-go:
	@$(GO) version >/dev/null 2>&1 || { echo "Go is needed to build podsim: install Go >= 1.22 (go.dev/dl, or 'apt-get install golang-go' on Ubuntu 24.04); the go command fetches the toolchain go.mod asks for" >&2; exit 1; }

build: check-go
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/podsim ./cmd/podsim
	$(GO) build -ldflags '-s -w' -o bin/pause ./cmd/pause

deps:
	./hack/install-deps.sh

# Runs every scenario of the article (the main job).
demo: deps build
	./bin/podsim run all

# Unit tests (any user) then the root-only end-to-end tests.
test: deps build unit integration

unit: check-go
	$(GO) vet ./...
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

integration: build
	@[ "$$(id -u)" -eq 0 ] || { echo "integration tests need root: run 'sudo make test'" >&2; exit 1; }
	PODSIM_BIN=$(CURDIR)/bin/podsim $(GO) test -count=1 -v -timeout 20m ./integration/

# Remove everything podsim made on this host (pods, netns, cgroups, files).
gc: build
	./bin/podsim gc

clean:
	rm -rf bin
