package secret

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// InEnv finds secrets handed to a step as environment variables.
var InEnv = &check.Check{
	ID:       "secret/in-env",
	Doc:      "a Secret's value passed as an env variable (`valueFrom.secretKeyRef`) where a file mount works",
	Severity: check.Info,
	Help:     "mount the Secret as an optional volume (or a workspace) and read the file where it is needed: every process of the step inherits its env, `env`/`set -x` print it, and /proc/<pid>/environ exposes it",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: upload
spec:
  steps:
    - name: upload
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef:
              name: upload-token
              key: token
              optional: true
      script: |
        [ -n "$TOKEN" ] || { echo "no token: skipped"; exit 0; }
        curl -sS -H "Authorization: Bearer $TOKEN" -T report.json https://upload.example.com/
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: upload
spec:
  volumes:
    - name: upload-token
      secret:
        secretName: upload-token
        optional: true
  steps:
    - name: upload
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      volumeMounts:
        - name: upload-token
          mountPath: /etc/upload
          readOnly: true
      script: |
        [ -s /etc/upload/token ] || { echo "no token: skipped"; exit 0; }
        curl -sS -H @<(printf 'Authorization: Bearer %s\n' "$(cat /etc/upload/token)") -T report.json https://upload.example.com/
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		var out []check.Finding
		for _, c := range envHolders(m) {
			for i, e := range c.env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				out = append(out, check.At(m, fmt.Sprintf("%s.env[%d].valueFrom.secretKeyRef", c.path, i), "%s reads Secret %q key %q into env %s: the value is in the environment of every process of the step", c.what, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key, e.Name))
			}
		}
		return out
	},
}

type envHolder struct {
	what, path string
	env        []corev1.EnvVar
}

func envHolders(m *manifest.File) []envHolder {
	var out []envHolder
	switch {
	case m == nil:
	case m.Task != nil:
		spec := m.Task.Spec
		if t := spec.StepTemplate; t != nil {
			out = append(out, envHolder{"the stepTemplate", "spec.stepTemplate", t.Env})
		}
		for i, st := range spec.Steps {
			out = append(out, envHolder{fmt.Sprintf("step %q", st.Name), fmt.Sprintf("spec.steps[%d]", i), st.Env})
		}
		for i, sc := range spec.Sidecars {
			out = append(out, envHolder{fmt.Sprintf("sidecar %q", sc.Name), fmt.Sprintf("spec.sidecars[%d]", i), sc.Env})
		}
	case m.StepAction != nil:
		out = append(out, envHolder{"the StepAction", "spec", m.StepAction.Spec.Env})
	}
	return out
}
