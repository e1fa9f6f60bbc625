# The local test cluster (hack/cluster/, README "A real cluster"): upstream
# etcd, kube-apiserver, kube-controller-manager, kubelet and kubectl built
# with the Go module proxy and cached in /var/cache/podsim-cluster (about 6
# minutes on 2 cores the first time, a no-op afterwards), started on
# 127.0.0.1 with the kubelet on a private containerd.
.PHONY: cluster-deps cluster-up cluster-down cluster-test

cluster-deps: check-go
	./hack/cluster/build.sh

cluster-up: build cluster-deps
	@[ "$$(id -u)" -eq 0 ] || { echo "the local cluster needs root: sudo make cluster-up" >&2; exit 1; }
	./hack/cluster/up.sh

cluster-down:
	@[ "$$(id -u)" -eq 0 ] || { echo "the local cluster needs root: sudo make cluster-down" >&2; exit 1; }
	./hack/cluster/down.sh

# Brings the cluster up, runs the article's podtest pod on it (and then every
# scenario with podsim run all --kubeconfig), checks it from
# the host, brings it down and checks nothing is left. Holds the machine's
# integration lock while it runs.
cluster-test: build cluster-deps
	@[ "$$(id -u)" -eq 0 ] || { echo "the cluster test needs root: sudo make cluster-test" >&2; exit 1; }
	PODSIM_CLUSTER=1 PODSIM_BIN=$(CURDIR)/bin/podsim flock -o /tmp/podsim-integration.lock $(GO) test -count=1 -v -timeout 30m -run '^(TestIntegrationCluster|TestIntegrationRunAllKubeconfig)' ./integration/
