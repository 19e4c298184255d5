package security

import (
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
)

// The build pipelines run partner Tasks in namespaces that may not hold
// the partner's credentials: such a Task must still start (credentials
// optional) and succeed, reporting SKIPPED (it skips cleanly).

// NotOptional finds credentials a TaskRun cannot start without.
var NotOptional = &check.Check{
	ID:       "credentials/not-optional",
	Doc:      "secret volumes, secretKeyRef/secretRef env and credential-like workspaces that are not optional",
	Severity: check.Error,
	Help:     "mark the credential optional (`optional: true`) and skip cleanly when it is missing: the build pipelines run the Task where the secret may not exist, and a missing required secret keeps the pod from starting",
	Bad: `volumes:
  - name: token
    secret:
      secretName: scanner-token`,
	Fixed: `volumes:
  - name: token
    secret:
      secretName: scanner-token
      optional: true`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		t := loadedOf(pass)
		if t == nil {
			return nil
		}
		var out []check.Finding
		if t.spec != nil {
			for i, v := range t.spec.Volumes {
				p := fmt.Sprintf("spec.volumes[%d]", i)
				if v.Secret != nil && !isTrue(v.Secret.Optional) {
					out = append(out, optionalAt(t, p+".secret", "secret volume %q (secret %q) is not optional", v.Name, v.Secret.SecretName))
				}
				if v.Projected != nil {
					for j, src := range v.Projected.Sources {
						if src.Secret != nil && !isTrue(src.Secret.Optional) {
							out = append(out, optionalAt(t, fmt.Sprintf("%s.projected.sources[%d].secret", p, j), "projected volume %q takes secret %q, not optional", v.Name, src.Secret.Name))
						}
					}
				}
			}
			for i, w := range t.spec.Workspaces {
				why, strong := credentialWorkspace(w)
				if why == "" || w.Optional {
					continue
				}
				f := at(t.file, fmt.Sprintf("spec.workspaces[%d]", i), "workspace %q looks like a credential (%s) but is not optional", w.Name, why)
				if !strong {
					f.Severity = check.Warning
				}
				out = append(out, f.WithHelp("add `optional: true` to the workspace and test `$(workspaces."+w.Name+".bound)` before using it: the build pipelines cannot provide a partner's credentials"))
			}
		}
		var g group
		for _, c := range t.containers {
			for i, e := range c.raw.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !isTrue(e.ValueFrom.SecretKeyRef.Optional) {
					r := e.ValueFrom.SecretKeyRef
					p := fmt.Sprintf("%s.env[%d].valueFrom.secretKeyRef", c.path, i)
					if c.file.Node(p+".optional") != nil {
						p += ".optional"
					}
					g.add(c.file, p, false, c.label(), 0, "", fmt.Sprintf("reads env %s from secret %q key %q without optional: true", e.Name, r.Name, r.Key))
				}
			}
			for i, e := range c.raw.EnvFrom {
				if e.SecretRef != nil && !isTrue(e.SecretRef.Optional) {
					g.add(c.file, fmt.Sprintf("%s.envFrom[%d].secretRef", c.path, i), false, c.label(), 0, "", fmt.Sprintf("takes its env from secret %q without optional: true", e.SecretRef.Name))
				}
			}
		}
		return append(out, g.findings()...)
	},
}

// optionalAt points at `optional: false` when written, else at the source.
func optionalAt(t *task, p, format string, args ...any) check.Finding {
	if t.file.Node(p+".optional") != nil {
		p += ".optional"
	}
	return at(t.file, p, format, args...)
}

var (
	credName = regexp.MustCompile(`(?i)secret|cred|token|auth|docker-?config|ssh|kube|netrc|passw`)
	credDesc = regexp.MustCompile(`(?i)\b(secrets?|credentials?|tokens?|auth|authenticat\w*|dockerconfig\w*|docker config|ssh|kubeconfig|\.?netrc|passwords?|private key)\b`)
)

// credentialWorkspace says why a workspace looks like it holds
// credentials; strong when its name says so (not only its description).
func credentialWorkspace(w v1.WorkspaceDeclaration) (why string, strong bool) {
	if m := credName.FindString(w.Name); m != "" {
		return fmt.Sprintf("its name contains %q", m), true
	}
	if m := credDesc.FindString(w.Description); m != "" {
		return fmt.Sprintf("its description mentions %q", m), false
	}
	return "", false
}

// NoSkip finds scripts that use a credential before making sure it is there.
var NoSkip = &check.Check{
	ID:       "credentials/no-skip",
	Doc:      "a script uses a credential (secret mount, credential workspace, secret env) without a guard that skips cleanly (exit 0) when it is missing",
	Severity: check.Error,
	Help:     "test the credential before its first use and `exit 0` (reporting SKIPPED) when it is missing, or use it only inside the branch where the test succeeded",
	Bad: `volumes:
  - {name: token, secret: {secretName: scanner-token, optional: true}}
steps:
  - name: scan
    image: quay.io/org/scanner@sha256:…
    volumeMounts: [{name: token, mountPath: /etc/token}]
    script: |
      scanner --token "$(cat /etc/token/value)"`,
	Fixed: `volumes:
  - {name: token, secret: {secretName: scanner-token, optional: true}}
steps:
  - name: scan
    image: quay.io/org/scanner@sha256:…
    volumeMounts: [{name: token, mountPath: /etc/token}]
    script: |
      if [ ! -f /etc/token/value ]; then
        echo "no scanner token: skipping"; exit 0
      fi
      scanner --token "$(cat /etc/token/value)"`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		t := loadedOf(pass)
		if t == nil {
			return nil
		}
		var out []check.Finding
		for _, c := range t.running() {
			creds := t.credsOf(c)
			if len(creds) == 0 {
				continue
			}
			out = append(out, argUses(c, creds)...)
			out = append(out, scriptUses(c, creds)...)
		}
		return append(out, t.unresolvedInfos("use of credentials")...)
	},
}

// cred is one credential a container can reach, and the names it goes by
// in a script.
type cred struct {
	what  string          // `secret volume "ssh" (mounted at /ssh)`
	paths []string        // mount paths, `$(workspaces.x.path)`
	vars  map[string]bool // env or shell variables holding it or its path
	flags map[string]bool // variables holding `$(workspaces.x.bound)`
	bound string          // `$(workspaces.x.bound)`
	guard string          // an example guard for the help
	// dir: the paths are a secret volume's directory, which exists (empty)
	// when an optional secret is missing: only files under it are uses.
	dir bool
}

// usedIn: text uses the credential's paths.
func (c *cred) usedIn(text string) bool {
	if !c.dir {
		return hasPath(text, c.paths)
	}
	for _, p := range c.paths {
		for i := 0; ; {
			j := strings.Index(text[i:], p+"/")
			if j < 0 {
				break
			}
			j += i
			end := j + len(p) + 1
			// a name or a variable ($KEY) after the directory: a file in it
			if (j == 0 || !pathChar(text[j-1])) && end < len(text) && (pathChar(text[end]) && text[end] != '/' || text[end] == '$') {
				return true
			}
			i = j + 1
		}
	}
	return false
}

func (t *task) credsOf(c *container) []*cred {
	var out []*cred
	if t.spec != nil {
		secretVols := map[string]string{}
		for _, v := range t.spec.Volumes {
			switch {
			case v.Secret != nil:
				secretVols[v.Name] = v.Secret.SecretName
			case v.Projected != nil:
				for _, src := range v.Projected.Sources {
					if src.Secret != nil {
						secretVols[v.Name] = src.Secret.Name
					}
				}
			}
		}
		for _, m := range c.eff.VolumeMounts {
			mp := strings.TrimSuffix(m.MountPath, "/")
			if _, ok := secretVols[m.Name]; !ok || mp == "" {
				continue
			}
			probe := mp
			if m.SubPath == "" {
				probe += "/<key>"
			}
			out = append(out, &cred{what: fmt.Sprintf("secret volume %q (mounted at %s)", m.Name, mp), paths: []string{mp}, dir: m.SubPath == "",
				guard: fmt.Sprintf("if [ ! -f %s ]; then echo \"no credentials: skipping\"; exit 0; fi", probe)})
		}
		for _, w := range t.spec.Workspaces {
			if why, _ := credentialWorkspace(w); why == "" {
				continue
			}
			mp := w.MountPath
			if mp == "" {
				mp = "/workspace/" + w.Name
			}
			bound := "$(workspaces." + w.Name + ".bound)"
			out = append(out, &cred{what: fmt.Sprintf("workspace %q", w.Name), paths: []string{"$(workspaces." + w.Name + ".path)", strings.TrimSuffix(mp, "/")},
				bound: bound, guard: fmt.Sprintf("if [ \"%s\" != \"true\" ]; then echo \"no credentials: skipping\"; exit 0; fi", bound)})
		}
	}
	for _, e := range c.eff.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			out = append(out, &cred{what: fmt.Sprintf("env %s (secret %q)", e.Name, e.ValueFrom.SecretKeyRef.Name), vars: map[string]bool{e.Name: true},
				guard: fmt.Sprintf("if [ -z \"${%s:-}\" ]; then echo \"no credentials: skipping\"; exit 0; fi", e.Name)})
		}
	}
	// env vars set to a credential's path or bound flag go by its name too
	for _, cr := range out {
		if cr.vars == nil {
			cr.vars = map[string]bool{}
		}
		cr.flags = map[string]bool{}
		for _, e := range c.eff.Env {
			switch {
			case e.ValueFrom != nil:
			case cr.bound != "" && strings.Contains(e.Value, cr.bound):
				cr.flags[e.Name] = true
			case hasPath(e.Value, cr.paths):
				cr.vars[e.Name] = true
			}
		}
	}
	return out
}

// hasPath: text names one of the paths, on path boundaries.
func hasPath(text string, paths []string) bool {
	for _, p := range paths {
		for i := 0; ; {
			j := strings.Index(text[i:], p)
			if j < 0 {
				break
			}
			j += i
			end := j + len(p)
			before := j == 0 || !pathChar(text[j-1]) || strings.HasPrefix(p, "$(")
			after := end == len(text) || !pathChar(text[end]) || text[end] == '/' || strings.HasPrefix(p, "$(")
			if before && after {
				return true
			}
			i = j + 1
		}
	}
	return false
}

func pathChar(b byte) bool {
	return b == '/' || b == '.' || b == '-' || b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// argUses: a step without a script cannot skip, so a credential in its
// command or args is used unguarded.
func argUses(c *container, creds []*cred) []check.Finding {
	if c.script != "" {
		return nil
	}
	var out []check.Finding
	for _, cr := range creds {
		// the first mention of each credential
	fields:
		for _, field := range []struct {
			name string
			vals []string
		}{{"command", c.raw.Command}, {"args", c.raw.Args}} {
			for i, a := range field.vals {
				if cr.usedIn(a) || kubeVarIn(a, cr.vars) {
					f := at(c.file, fmt.Sprintf("%s.%s[%d]", c.path, field.name, i), "%s passes %s in its %s: a step without a script cannot skip cleanly when it is missing", c.label(), cr.what, field.name)
					out = append(out, f.WithHelp("use a script that tests the credential and exits 0 when it is missing: "+cr.guard))
					break fields
				}
			}
		}
	}
	return out
}

// kubeVarIn: Kubernetes expands `$(VAR)` in command and args.
func kubeVarIn(s string, vars map[string]bool) bool {
	for v := range vars {
		if strings.Contains(s, "$("+v+")") {
			return true
		}
	}
	return false
}

// scriptUses reports, per credential, the first use in the script that
// no guard covers.
func scriptUses(c *container, creds []*cred) []check.Finding {
	if c.script == "" {
		return nil
	}
	sc := c.parsed()
	if sc.file == nil {
		why := "it is not a shell script"
		if sc.shell {
			why = "it does not parse as shell (see script/syntax)"
		}
		var used []string
		first, guard := 0, ""
		for _, cr := range creds {
			if line := textUse(c.script, cr); line > 0 {
				used = append(used, cr.what)
				if first == 0 || line < first {
					first, guard = line, cr.guard
				}
			}
		}
		if first == 0 {
			return nil
		}
		f := scriptAt(c, first, 1, "%s uses %s, and the gate cannot verify it skips cleanly when missing: %s", c.label(), strings.Join(used, ", "), why)
		f.Severity = check.Warning
		return []check.Finding{f.WithHelp("make sure the script exits 0 (reporting SKIPPED) when a credential is missing, e.g. in a shell step before it: " + guard)}
	}
	a := &analysis{sc: sc, creds: creds, first: map[*cred]syntax.Pos{}}
	g := a.list(sc.file.Stmts, guards{})
	for i := 0; i < len(a.funcs); i++ {
		// functions run when called, normally after the guards at the top
		a.stmt(a.funcs[i].Body, g)
	}
	var out []check.Finding
	for _, cr := range creds {
		pos, ok := a.first[cr]
		if !ok {
			continue
		}
		f := scriptAt(c, int(pos.Line()), int(pos.Col()), "%s uses %s here (script line %d) without a guard that skips cleanly (exit 0) when it is missing", c.label(), cr.what, pos.Line())
		out = append(out, f.WithHelp("test it before the first use and exit 0 when it is missing, e.g. `"+cr.guard+"`, or use it only inside the branch of that test"))
	}
	return out
}

// textUse finds the line of a credential in a script the gate cannot parse.
func textUse(src string, cr *cred) int {
	var words []*regexp.Regexp
	for v := range cr.vars {
		words = append(words, regexp.MustCompile(`\b`+regexp.QuoteMeta(v)+`\b`))
	}
	for i, l := range strings.Split(src, "\n") {
		if cr.usedIn(l) {
			return i + 1
		}
		for _, w := range words {
			if w.MatchString(l) {
				return i + 1
			}
		}
	}
	return 0
}
