# podsim's VM targets, included by the Makefile. See hack/vm/run-vm-test.sh.
#
#   make vm-test    integration tests in a pure cgroup v2 Debian 12 VM (QEMU;
#                   KVM when it works, else TCG); the image is built once
#                   with debootstrap and cached in $(VM_CACHE)
#   make vm-image   only build (or find) the cached image
#   make vm-deps    host packages: debootstrap, QEMU, vagrant (hack/vm/host-deps.sh)
#   make vm-lint    shellcheck hack/vm/*.sh; vagrant validate -p (skipped with
#                   a note only if apt has no vagrant package)
#   make vm-clean   remove the image cache

VM_CACHE ?= /var/cache/podsim-vm
export PODSIM_VM_CACHE := $(VM_CACHE)

.PHONY: vm-test vm-image vm-deps vm-lint vm-clean integration-binary

vm-deps:
	./hack/vm/host-deps.sh

vm-image: vm-deps
	./hack/vm/build-image.sh

# The integration tests compiled on the host, run in the VM with PODSIM_BIN.
integration-binary: check-go
	$(GO) test -c -o bin/integration.test ./integration

vm-test: vm-deps build integration-binary
	./hack/vm/run-vm-test.sh

vm-lint: vm-deps
	./hack/vm/lint.sh

vm-clean:
	@case "$(VM_CACHE)" in ""|/) echo "refusing to remove VM_CACHE='$(VM_CACHE)'" >&2; exit 1;; esac
	rm -rf "$(VM_CACHE)"
