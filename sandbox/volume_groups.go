package sandbox

import (
	corev1 "k8s.io/api/core/v1"
)

// podFSGroup is the pod's securityContext.fsGroup, or nil.
func podFSGroup(pod *corev1.Pod) *int64 {
	if pod.Spec.SecurityContext == nil {
		return nil
	}
	return pod.Spec.SecurityContext.FSGroup
}

// podSupplementalGroups are the groups kubelet adds to every container's
// process (determineEffectiveSecurityContext): fsGroup first, then
// supplementalGroups. CRI puts them after the groups of the image's user.
func podSupplementalGroups(podSC *corev1.PodSecurityContext) []uint32 {
	if podSC == nil {
		return nil
	}
	var out []uint32
	if podSC.FSGroup != nil {
		out = append(out, uint32(*podSC.FSGroup))
	}
	for _, g := range podSC.SupplementalGroups {
		out = append(out, uint32(g))
	}
	return out
}

// strictSupplementalGroups reports supplementalGroupsPolicy Strict: the
// process gets only its primary group and the pod's groups, none of the
// image's /etc/group (Merge, the default, adds those).
func strictSupplementalGroups(podSC *corev1.PodSecurityContext) bool {
	return podSC != nil && podSC.SupplementalGroupsPolicy != nil && *podSC.SupplementalGroupsPolicy == corev1.SupplementalGroupsPolicyStrict
}
