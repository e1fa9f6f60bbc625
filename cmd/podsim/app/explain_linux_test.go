package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		code int
		want []string
	}{
		{"pod.spec.securityContext.fsGroup", 0, []string{"FIELD:    pod.spec.securityContext.fsGroup", "STATUS:   supported", "KUBERNETES:", "PODSIM:", "setgid"}},
		{"pod.spec.securityContext", 0, []string{"FIELDS:", "runAsNonRoot", "fsGroup"}},
		{"deploy.spec.template.spec.hostname", 0, []string{"FIELD:    pod.spec.hostname", "supported"}},
		{"pod.spec.schedulingGates", 0, []string{"FIELD:    pod.spec.schedulingGates", "refused"}},
		{"svc.spec.type", 0, []string{"except when set to ClusterIP"}},
		{"pod.spec.runAsNonRoot", 1, []string{`field "pod.spec.runAsNonRoot" is not known`, `did you mean "pod.spec.securityContext.runAsNonRoot"`}},
	} {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"explain", tc.arg}, nil, &out, &errOut)
		if code != tc.code {
			t.Errorf("explain %s: exit %d, want %d: %s", tc.arg, code, tc.code, errOut.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String()+errOut.String(), w) {
				t.Errorf("explain %s: output lacks %q:\n%s%s", tc.arg, w, out.String(), errOut.String())
			}
		}
	}
}
