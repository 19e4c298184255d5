package secret

import (
	"reflect"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
)

func TestIsCredential(t *testing.T) {
	for _, c := range []struct {
		name, desc, def string
		want            bool
	}{
		{"password", "", "", true},
		{"DB_PASS", "", "", true},
		{"iCR-Password", "The Password for the iCR Server", "admin", true},
		{"iCR-License", "The license required to use the iCR to scan the source code.", "", true},
		{"api-key", "", "", true},
		{"API_KEY", "", "", true},
		{"apikey", "", "", true},
		{"private-key", "", "", true},
		{"clientKeyData", "contains PEM-encoded data from a client key file for TLS", "", true},
		{"GITHUB_TOKEN", "", "", true},
		{"access-token", "", "", true},
		{"client-secret", "", "", true},
		{"credentials", "", "", true},
		{"AUTHENTICATION", "Authentication credentials to use for the IQ Server", "", true},
		{"PROXY_USER", "Credentials to use for the proxy. Default: none", "", true}, // user:password

		// params naming a Secret (or a key, file or path in one) are the right practice
		{"SECRET_NAME", "", "", false},
		{"secret-name", "", "", false},
		{"docker-config-secret", "", "", false},
		{"pull-secret", "", "", false},
		{"GITHUB_TOKEN_SECRET_NAME", "", "", false},
		{"GITHUB_TOKEN_SECRET_KEY", "", "", false},
		{"SONAR_PASSWORD_KEY", "", "", false},
		{"token-path", "", "", false},
		{"private-key-path", "", "", false},
		{"rox_token_file", "Path to the API Token file", "", false},
		{"token-url", "", "", false},
		{"rox_api_token", "Name of secret containing the RHACS StackRox API token with CI permissions.", "rox-api-token", false},
		{"ENTITLEMENT_SECRET", "Name of secret which contains the entitlement certificates", "etc-pki-entitlement", false},
		{"ACTIVATION_KEY", "Name of secret which contains subscription activation key", "activation-key", false},
		{"orka-token-secret-key", "The name of the key in the Orka token secret, which holds the authentication token.", "token", false},
		{"shared-secret", "secret in the namespace which contains private key for the GitHub App", "infra-deployments-pr-creator", false},
		{"tenancyOcid", "OCI tenancy OCID (optional if provided via credentials secret).", "", false},
		{"ssh-key", "Specifies whether the SSH credentials secret contains an SSH key, as opposed to a password", "false", false},
		{"token_expiration_minutes", "", "", false},
		{"gpu-passthrough", "", "", false},
		{"AUTH_TYPE", "The type of authentication to use.", "Bearer", false},
		{"caTrustConfigMapKey", "", "", false},
		{"username", "", "", false},
		{"IMAGE", "Reference of the image", "", false},
	} {
		if got := isCredential(c.name, c.desc, c.def); got != c.want {
			t.Errorf("isCredential(%q, %q, %q) = %v, want %v", c.name, c.desc, c.def, got, c.want)
		}
	}
}

func TestAsParam(t *testing.T) {
	s := sub(t, `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
spec:
  params:
    - name: api-token
      description: token for the API
      default: "s3cr3t-Pa55word-xyz"
    - name: db-password
      default: changeme
    - name: registry-password
    - name: token-secret
      description: the Secret to use
    - name: sonar-token
      description: the token
  steps:
    - name: s
      image: x
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef:
              name: $(params.sonar-token)
              key: token
      script: echo "$API_TOKEN"
`)
	fs := check.Apply(AsParam, s)
	// a default is reported where it is written, a param without one at its name;
	// sonar-token is only ever a Secret's name: the right practice
	if got := at(t, AsParam, fs); !reflect.DeepEqual(got, []string{"9:16", "11:16", "12:13"}) {
		t.Fatalf("got %v: %v", got, fs)
	}
	if !strings.Contains(fs[0].Message, "(s3cr…)") || strings.Contains(fs[0].Message+fs[0].Help, "Pa55word") {
		t.Errorf("the default is not redacted: %s", fs[0].Message)
	}
	if !strings.Contains(fs[1].Message, `defaults to "changeme", a well-known default password`) {
		t.Errorf("weak default: %s", fs[1].Message)
	}
	if !strings.Contains(fs[2].Help, "    - name: REGISTRY_PASSWORD\n      valueFrom:\n        secretKeyRef: {name: t-credentials, key: password, optional: true}") {
		t.Errorf("help: %s", fs[2].Help)
	}
}

// testdata's failing partner PR takes its scanner's license as a param,
// and leaks nothing.
func TestLicenseScanPR(t *testing.T) {
	s := ruletest.TestdataSub(t, "build-definitions/_pull-requests/pr-1", "partners/license-scan/0.1")
	if got := at(t, AsParam, check.Apply(AsParam, s)); !reflect.DeepEqual(got, []string{"16:11"}) {
		t.Errorf("license-scan: secret/as-param at %v, want 16:11", got)
	}
	if fs := check.Apply(Leaked, s); len(fs) != 0 {
		t.Errorf("license-scan: secret/leaked: %v", fs)
	}
}

// The word test before credentialText lets through every text the regexp
// matches: each of its alternatives, in any case, in prose; only ASCII
// text without any of the words is kept from the regexp.
func TestMayHoldLetsCredentialTextThrough(t *testing.T) {
	for _, phrase := range []string{"password", "passphrase", "api key", "api_key", "api-key", "apikey",
		"access token", "bearer token", "auth token", "authentication token", "oauth token", "api token",
		"credential", "credentials", "private key", "license key", "secret key"} {
		for _, text := range []string{phrase, strings.ToUpper(phrase), "The " + strings.ToUpper(phrase[:1]) + phrase[1:] + " to log in with."} {
			if !credentialText.MatchString(text) {
				t.Fatalf("%q: credentialText does not match it: the list is stale", text)
			}
			if !mayHold(text, credentialTextWords) {
				t.Errorf("%q: credentialText matches it, the word test keeps it out", text)
			}
		}
	}
	if mayHold("The URL of the registry to push to.", credentialTextWords) {
		t.Error("a description without any of the words goes to the regexp")
	}
	if !mayHold("the paſſword", credentialTextWords) {
		t.Error("non-ASCII text is kept from the regexp (which folds ſ to s)")
	}
}
