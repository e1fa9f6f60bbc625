#!/usr/bin/env bash
# Makes the local cluster's certificates with openssl, in $CLUSTER_STATE/pki:
# one CA, the apiserver's serving certificate (127.0.0.1 and the Service
# names), a client certificate per component and a service-account key pair.
# Nothing here is trusted anywhere else; cluster-down deletes it all.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$PKI"
cd "$PKI"
[ -s ca.crt ] && [ -s admin.crt ] && exit 0

openssl_q() { openssl "$@" 2>/dev/null; }
openssl_q genrsa -out ca.key 2048
openssl_q req -x509 -new -key ca.key -days 30 -subj "/CN=podsim-cluster-ca" -out ca.crt

# cert NAME SUBJECT [SAN]
cert() {
  local name="$1" subj="$2" san="${3:-}" ext
  openssl_q genrsa -out "$name.key" 2048
  openssl_q req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  ext="$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$san"
    else echo "extendedKeyUsage=clientAuth"; fi
  } > "$ext"
  openssl_q x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile "$ext" -out "$name.crt"
  rm -f "$name.csr" "$ext"
}
cert apiserver "/CN=kube-apiserver" \
  "IP:127.0.0.1,IP:${SERVICE_CIDR%.0/*}.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert controller-manager "/CN=system:kube-controller-manager"
cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
openssl_q genrsa -out sa.key 2048
openssl_q rsa -in sa.key -pubout -out sa.pub
cert admin "/O=system:masters/CN=podsim-cluster-admin"
chmod 600 ./*.key
