package sandbox

// volumeFields are the rows of the volume sources kubelet fills itself
// (downwardAPI, projected), of hostPath, of emptyDir's sizeLimit and of
// the pod's group fields (fsGroup and friends), which act on volumes.
func volumeFields() []Field {
	const v = "pod.spec.volumes."
	sc := "pod.spec.securityContext."
	t := []Field{
		supported(sc+"fsGroup", "A group every container gets as a supplementary group; kubelet makes volumes group-owned by it (and setgid) so non-root containers can write them.",
			"As kubelet: the group is added to every container's process (before supplementalGroups), and every emptyDir, configMap, secret, downwardAPI and projected volume is chowned to it, group rw (r for the read-only kinds), directories setgid; hostPath is left as it is."),
		supported(sc+"fsGroupChangePolicy", "When kubelet changes the volumes' ownership to fsGroup: Always or OnRootMismatch.",
			"Accepted (Always or OnRootMismatch): podsim's volume kinds are made new for each pod and kubelet passes them no policy, so both walk every file, as on a node; the policy matters for persistent volumes, which podsim has none of."),
		supported(sc+"supplementalGroups", "Groups added to every container's first process, after the image user's own.",
			"Added after the image user's groups and fsGroup, as kubelet and CRI do (checked in /proc/PID/status Groups:)."),
		supported(sc+"supplementalGroupsPolicy", "Merge (the default: the image's /etc/group groups too) or Strict (only the primary group, fsGroup and the listed groups).",
			"Both: Merge adds the image user's /etc/group groups, Strict leaves them out (containerd 2's CRI behaviour; podsim builds the spec itself, so containerd 1.7 is no limit)."),

		supported(v+"emptyDir.sizeLimit", "The most the volume may hold: kubelet evicts a pod whose disk emptyDir grows past it; a Memory emptyDir's tmpfs gets this size.",
			"medium Memory: the tmpfs's size= is the smallest of sizeLimit, the pod's memory limit and the node's memory (kubelet's rule; the kernel answers ENOSPC past it). A disk emptyDir's sizeLimit is enforced as kubelet's eviction manager does it: podsim's node agent measures the volume (allocated blocks, hard links once, as kubelet's du) every 10 s and evicts a pod past it: every container is stopped with kubelet's 1 s grace period (preStop hooks within it), the pod is Failed with reason Evicted and kubelet's message, a Warning event; nothing restarts."),

		supported(v+"hostPath", "A file or directory of the node, mounted into the pod.",
			"Bind-mounted as it is (readOnly honoured); the type is checked before anything of the pod is made, so a failed check leaves nothing behind. fsGroup does not change it, as on a node."),
		supported(v+"hostPath.path", "The path on the node (symlinks followed).", "Must be absolute, without '..'."),
		supported(v+"hostPath.type", "What must be at the path: \"\" (no check), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice.",
			"kubelet's checkType: the *OrCreate types create a 0755 directory or a 0644 file, the others refuse the pod with \"hostPath type check failed: PATH is not a TYPE, it's a ...\" or \"hostPath PATH doesn't exist\"; \"\" makes a missing path a directory, as containerd does."),

		supported(v+"downwardAPI", "Files holding the pod's own fields (labels, annotations, limits), updated by kubelet.",
			"Written on a tmpfs with kubelet's AtomicWriter layout (..data symlink swap), read-only; rewritten when the pod's labels or annotations change ('podsim label', 'podsim annotate', 'podsim apply' with new metadata)."),
		supported(v+"downwardAPI.items", "The files: a path and a fieldRef or resourceFieldRef each.", "Honoured."),
		supported(v+"downwardAPI.defaultMode", "Permission bits of the files (0644 by default).", "Honoured."),
		refused(v+"downwardAPI.defaultUser", "The owner uid of the files (alpha).", "downwardAPI.defaultUser is not supported: the files are owned by root: remove it"),

		supported(v+"projected", "Several sources (configMap, secret, downwardAPI, serviceAccountToken, ...) in one directory.",
			"configMap, secret and downwardAPI sources in one tmpfs directory with kubelet's AtomicWriter layout, read-only, rewritten when a source changes; sources that come from an API server are refused by name."),
		supported(v+"projected.sources", "The sources, each one kind.", "Honoured; a path used twice is refused."),
		supported(v+"projected.defaultMode", "Permission bits of the files (0644 by default).", "Honoured."),
		refused(v+"projected.defaultUser", "The owner uid of the files (alpha).", "projected.defaultUser is not supported: the files are owned by root: remove it"),
		supported(v+"projected.sources.configMap", "A ConfigMap's keys, as a configMap volume shows them.", "As a configMap volume."),
		supported(v+"projected.sources.configMap.name", "The ConfigMap's name.", "Looked up in the pod's namespace before the pod is built."),
		supported(v+"projected.sources.configMap.items", "Which keys to project, to which paths.", "Honoured."),
		supported(v+"projected.sources.configMap.optional", "A missing ConfigMap (or key) is not an error.", "Honoured."),
		supported(v+"projected.sources.secret", "A Secret's keys, as a secret volume shows them.", "As a secret volume (the projected volume is a tmpfs)."),
		supported(v+"projected.sources.secret.name", "The Secret's name.", "Looked up in the pod's namespace before the pod is built."),
		supported(v+"projected.sources.secret.items", "Which keys to project, to which paths.", "Honoured."),
		supported(v+"projected.sources.secret.optional", "A missing Secret (or key) is not an error.", "Honoured."),
		supported(v+"projected.sources.downwardAPI", "Downward API files, as a downwardAPI volume shows them.", "As a downwardAPI volume, updated with the pod's labels and annotations."),
		supported(v+"projected.sources.downwardAPI.items", "The files: a path and a fieldRef or resourceFieldRef each.", "Honoured."),
		refused(v+"projected.sources.serviceAccountToken", "A token for the pod's service account, issued by the API server and refreshed by kubelet.",
			"serviceAccountToken projections are not supported: the token is issued by the API server and podsim has none (no service accounts): remove the source"),
		refused(v+"projected.sources.clusterTrustBundle", "Certificates of a ClusterTrustBundle object (beta).",
			"clusterTrustBundle projections are not supported: ClusterTrustBundles live in the API server and podsim has none: remove the source (or put the certificates in a ConfigMap)"),
		refused(v+"projected.sources.podCertificate", "A key and certificate issued for the pod by a signer through the API server (alpha).",
			"podCertificate projections are not supported: certificates are issued through the API server and podsim has none: remove the source"),
	}
	for _, d := range []string{v + "downwardAPI.items", v + "projected.sources.downwardAPI.items"} {
		t = append(t,
			supported(d+".path", "The relative path of the file in the volume.", "Honoured; absolute paths and '..' are refused."),
			supported(d+".fieldRef", "A field of the pod: metadata.name, namespace, uid, labels, annotations, or one label or annotation.",
				"Honoured; labels and annotations are kubelet's key=\"value\" lines, sorted; fields volumes cannot hold (status.podIP, spec.*) are refused as the API server does."),
			supported(d+".resourceFieldRef", "A container's limit or request (containerName required), divided by divisor.",
				"Honoured as for env: without a limit, the node's capacity; rounded up after the divisor."),
			supported(d+".mode", "Permission bits of this file.", "Honoured."),
			refused(d+".user", "The owner uid of this file (alpha).", "items.user is not supported: the files are owned by root: remove it"),
		)
	}
	for _, k := range []string{"configMap", "secret"} {
		p := v + "projected.sources." + k + ".items"
		t = append(t,
			supported(p+".key", "The key to project.", "Honoured; a missing key keeps the pod from starting unless optional."),
			supported(p+".path", "The relative path of the file in the volume.", "Honoured; absolute paths and '..' are refused."),
			supported(p+".mode", "Permission bits of this file.", "Honoured."),
			refused(p+".user", "The owner uid of this file (alpha).", "items.user is not supported: the files are owned by root: remove it"),
		)
	}
	return t
}
