# hack/standins.mk — builds podsim's stand-in programs into bin/.
#
# A stand-in is a small static Go program that takes the place of an upstream
# image's program where podsim cannot get the image offline (Elasticsearch,
# its Prometheus exporter, the Vault CLI, the article's myapp). podsim's image
# catalog (sandbox/images) copies bin/<name> into the image, so these must be
# built next to bin/podsim and bin/pause. Each lives in cmd/standins/<name>.
#
# Included from the Makefile (`include hack/standins.mk`); `make standins`
# builds them all. The targets are phony: go build is incremental on its own
# and knows the dependencies better than make.

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)

STANDINS := es-standin es-exporter-standin vault-standin myapp-standin
STANDIN_BINS := $(addprefix bin/,$(STANDINS))

.PHONY: standins $(STANDIN_BINS)

standins: $(STANDIN_BINS)

# Static (CGO_ENABLED=0) so the images need no libraries; stripped.
$(STANDIN_BINS): bin/%:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $@ ./cmd/standins/$*
