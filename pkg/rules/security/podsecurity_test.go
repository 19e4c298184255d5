package security

import (
	"strings"
	"testing"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// restricted evaluates the steps of a Task spec excerpt, with its
// stepTemplate merged as Tekton merges it, against Kubernetes' own Pod
// Security "restricted" policy.
func restricted(t *testing.T, excerpt string) policy.AggregateCheckResult {
	t.Helper()
	var spec v1.TaskSpec
	if err := yaml.UnmarshalStrict([]byte(strings.ReplaceAll(excerpt, "sha256:…", "sha256:"+strings.Repeat("0", 64))), &spec); err != nil {
		t.Fatal(err)
	}
	steps, err := v1.MergeStepsWithStepTemplate(spec.StepTemplate, spec.Steps)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.PodSpec
	for _, s := range steps {
		pod.Containers = append(pod.Containers, corev1.Container{Name: s.Name, Image: s.Image, SecurityContext: s.SecurityContext})
	}
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return policy.AggregateCheckResults(eval.EvaluatePod(api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}, &metav1.ObjectMeta{}, &pod))
}

// What privilege/escalation asks for must be what Pod Security
// "restricted" admits: allowPrivilegeEscalation: false alone is not.
func TestEscalationFixMeetsPodSecurityRestricted(t *testing.T) {
	if r := restricted(t, Escalation.Fixed); !r.Allowed {
		t.Errorf("privilege/escalation's fixed example is refused by Pod Security restricted: %s", r.ForbiddenReason())
	}
	alone := "stepTemplate:\n  securityContext:\n    allowPrivilegeEscalation: false\nsteps:\n  - name: test\n    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:…\n"
	if r := restricted(t, alone); r.Allowed {
		t.Error("Pod Security restricted admits allowPrivilegeEscalation: false alone: the help asks for more than it needs")
	}
	for _, field := range []string{"runAsNonRoot: true", "drop: [ALL]", "RuntimeDefault"} {
		if !strings.Contains(Escalation.Help, field) {
			t.Errorf("help does not ask for %s: %s", field, Escalation.Help)
		}
	}
}
