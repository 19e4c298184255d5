package secret

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// AsParam finds params that carry a credential's value: a param's value is
// plain text in the TaskRun, the PipelineRun and often the logs, and a
// default puts the credential in git.
var AsParam = &check.Check{
	ID:       "secret/as-param",
	Doc:      "a credential passed as a plain param (with or without a default); params naming a Secret are fine",
	Severity: check.Error,
	Help:     "take the credential from a Secret (an env `valueFrom.secretKeyRef`, a secret volume or a workspace, optional so the Task can skip without it); a param may name the Secret, never hold its value",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: scan-upload
spec:
  params:
    - name: server-password
      description: Password for the scan server
      default: admin
  steps:
    - name: upload
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      env:
        - name: SERVER_PASSWORD
          value: $(params.server-password)
      script: |
        curl -u "scanner:$SERVER_PASSWORD" -T report.json https://scan.example.com/upload
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: scan-upload
spec:
  params:
    - name: server-secret-name
      description: Name of the Secret holding the scan server's password (key "password")
      default: scan-server-credentials
  steps:
    - name: upload
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      env:
        - name: SERVER_PASSWORD
          valueFrom:
            secretKeyRef:
              name: $(params.server-secret-name)
              key: password
              optional: true
      script: |
        curl -u "scanner:$SERVER_PASSWORD" -T report.json https://scan.example.com/upload
`,
	Run: func(pass *check.Pass) []check.Finding { return asParam(pass.Submission) },
}

// credentialWords in a param's name say it holds a credential.
var credentialWords = map[string]bool{
	"password": true, "passwd": true, "passphrase": true, "pass": true,
	"token": true, "secret": true, "secrets": true, "credential": true, "credentials": true, "creds": true,
	"apikey": true, "privatekey": true, "accesskey": true, "secretkey": true, "license": true,
}

// credentialPairs are two-word names of credentials: api-key, private_key, clientKeyData.
var credentialPairs = map[string]bool{"api key": true, "private key": true, "access key": true, "secret key": true, "client key": true, "ssh key": true, "license key": true}

// referenceWords end the names of params that point at a credential
// instead of holding it: GITHUB_TOKEN_SECRET_NAME, private-key-path,
// token-url, rox_token_file.
var referenceWords = map[string]bool{
	"name": true, "names": true, "path": true, "file": true, "dir": true, "directory": true,
	"url": true, "uri": true, "endpoint": true, "ref": true, "configmap": true, "type": true,
	"mount": true, "enabled": true, "expiration": true, "minutes": true, "seconds": true, "ttl": true,
	"header": true, "length": true, "audience": true, "issuer": true, "id": true, "env": true, "var": true,
}

// keyOfSecret: `<credential>-key` names a key of a Secret (orka-token-secret-key,
// SONAR_PASSWORD_KEY), except the credentials that are keys themselves.
var keyOfSecret = map[string]bool{"secret": true, "password": true, "passwd": true, "token": true, "username": true,
	"user": true, "login": true, "email": true, "creds": true, "credentials": true, "url": true, "auth": true}

// secretValues precede "secret" in names of credentials (an OAuth client
// secret), not of Secret objects.
var secretValues = map[string]bool{"client": true, "app": true, "consumer": true}

var (
	// a description naming a credential: "Authentication credentials to use"
	credentialText = regexp.MustCompile(`(?i)\b(password|passphrase|api[ _-]?key|(access|bearer|auth|authentication|oauth|api) token|credentials?|private key|license key|secret key)\b`)
	// "the credentials secret" is a Secret, not a credential
	secretMention = regexp.MustCompile(`(?i)\bcredentials?[ -]secrets?\b`)
	// a description of a param that names a Secret (or a key or file in one)
	referenceText = regexp.MustCompile(`(?i)\bname of\b|\bsecret[ -]?name\b|\bname of the key\b|\bkey (in|of|within) the\b|\bpath (to|of)\b|\b(secret|file|configmap|config map) (that|which|with|containing|holding|where)\b|\bsecret containing\b|\bkubernetes secret\b|\bk8s secret\b|\bsecret in the namespace\b`)
	// well-known default passwords
	weakDefaults = map[string]bool{"admin": true, "administrator": true, "changeme": true, "change-me": true, "changeit": true,
		"password": true, "passw0rd": true, "p@ssw0rd": true, "secret": true, "root": true, "toor": true, "test": true,
		"guest": true, "default": true, "letmein": true, "123456": true, "12345678": true, "qwerty": true}
)

func asParam(s *catalog.Submission) []check.Finding {
	m := s.Manifest
	if m == nil || m.Root == nil {
		return nil
	}
	params := mapValue(mapValue(m.Root, "spec"), "params")
	if params == nil || params.Kind != yaml.SequenceNode {
		return nil
	}
	asRef, asValue := paramUses(m.Root)
	var out []check.Finding
	for _, p := range params.Content {
		nameNode := mapValue(p, "name")
		if nameNode == nil {
			continue
		}
		name := nameNode.Value
		desc, def := "", ""
		if d := mapValue(p, "description"); d != nil {
			desc = d.Value
		}
		defNode := mapValue(p, "default")
		if defNode != nil && defNode.Kind == yaml.ScalarNode {
			def = defNode.Value
		}
		if !isCredential(name, desc, def) || (asRef[name] && !asValue[name]) {
			continue
		}
		help := fmt.Sprintf("take the credential from a Secret instead of param %q: e.g. in the step that uses it\n  env:\n    - name: %s\n      valueFrom:\n        secretKeyRef: {name: %s-credentials, key: %s, optional: true}\nand skip cleanly (exit 0) when the variable is empty; a param may name the Secret, never hold its value",
			name, envName(name), m.Name, lastWord(name))
		var f check.Finding
		switch {
		case weakDefaults[strings.ToLower(strings.TrimSpace(def))]:
			f = check.AtNode(m.Path, defNode, "param %q holds a credential and defaults to %q, a well-known default password: anyone who reads the Task can use it", name, def)
			help += "; remove the default"
		case strings.TrimSpace(def) != "":
			f = check.AtNode(m.Path, defNode, "param %q holds a credential and its default writes one into the manifest (%s)", name, Redact(def))
			help += "; remove the default and revoke the credential it holds"
		default:
			f = check.AtNode(m.Path, nameNode, "param %q holds a credential: a param's value is plain text in the TaskRun, the PipelineRun and their logs", name)
		}
		out = append(out, f.WithHelp(help))
	}
	return out
}

// isCredential judges a param by its name, description and default.
func isCredential(name, desc, def string) bool {
	switch strings.ToLower(strings.TrimSpace(def)) {
	case "true", "false", "yes", "no": // a switch, not a credential
		return false
	}
	words := splitName(name)
	if len(words) == 0 {
		return false
	}
	last, prev := words[len(words)-1], ""
	if len(words) > 1 {
		prev = words[len(words)-2]
	}
	switch {
	case referenceWords[last]:
		return false
	case last == "key" && keyOfSecret[prev]: // GITHUB_TOKEN_SECRET_KEY: a key of a Secret
		return false
	case (last == "secret" || last == "secrets") && prev != "" && !secretValues[prev]:
		return false // pull-secret, ENTITLEMENT_SECRET: a Secret's name
	}
	byName := false
	for i, w := range words {
		if credentialWords[w] || (i > 0 && credentialPairs[words[i-1]+" "+w]) {
			byName = true
			break
		}
	}
	// the regexps last: they take ~20 µs on a description of prose
	if !byName && !(mayHold(desc, credentialTextWords) && credentialText.MatchString(secretMention.ReplaceAllString(desc, ""))) {
		return false
	}
	return !referenceText.MatchString(desc)
}

// credentialTextWords are the words one of which every match of
// credentialText holds.
var credentialTextWords = []string{"pass", "api", "token", "credential", "key"}

// mayHold says whether text may match a case-insensitive regexp every
// match of which holds one of words (lower case): false only when ASCII
// text holds none of them (Unicode case folding is left to the regexp).
func mayHold(text string, words []string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return true
		}
	}
	lower := strings.ToLower(text)
	for _, w := range words {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

func lastWord(name string) string {
	words := splitName(name)
	return words[len(words)-1]
}

// splitName splits a param name into lower-case words at separators and
// camelCase boundaries: iCR-Password → i cr password, clientKeyData →
// client key data.
func splitName(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

var paramRef = regexp.MustCompile(`\$\(params(?:\.([^.\[\]()\s]+)|\[["']([^"']+)["']\])`)

// paramUses records where each param is used: as the name or key of a
// Secret (secretName, secretKeyRef, secretRef: the right practice), or as
// a value anywhere else (env values, scripts, args).
func paramUses(root *yaml.Node) (asRef, asValue map[string]bool) {
	asRef, asValue = map[string]bool{}, map[string]bool{}
	var walk func(n *yaml.Node, inSecret bool, key string)
	walk = func(n *yaml.Node, inSecret bool, key string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if k == "params" && key == "spec" {
					continue // defaults of other params are no use
				}
				walk(n.Content[i+1], inSecret || k == "secret" || k == "secretKeyRef" || k == "secretRef" || k == "secretName", k)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, inSecret, key)
			}
		case yaml.ScalarNode:
			for _, m := range paramRef.FindAllStringSubmatch(n.Value, -1) {
				if inSecret {
					asRef[m[1]+m[2]] = true
				} else {
					asValue[m[1]+m[2]] = true
				}
			}
		}
	}
	walk(root, false, "")
	return asRef, asValue
}

var notEnvChar = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// envName turns a param name into an environment variable name.
func envName(name string) string {
	v := strings.ToUpper(notEnvChar.ReplaceAllString(name, "_"))
	if v == "" || (v[0] >= '0' && v[0] <= '9') {
		v = "P_" + v
	}
	return v
}

// mapValue finds a key in a mapping node, through aliases.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
