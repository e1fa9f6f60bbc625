# kubeconfig FILE CERTNAME: a kubeconfig for $APISERVER_URL with the client
# certificate $PKI/CERTNAME.crt (sourced; needs lib.sh).
kubeconfig() {
  local file="$1" who="$2"
  cat > "$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: podsim-cluster
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $who
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$who.crt")
    client-key-data: $(base64 -w0 "$PKI/$who.key")
contexts:
- name: podsim-cluster
  context:
    cluster: podsim-cluster
    user: $who
    namespace: default
current-context: podsim-cluster
KC
  chmod 600 "$file"
}
