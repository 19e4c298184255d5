package security

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
)

// The privilege rules judge the effective securityContext of every
// container (a step merged with the stepTemplate as Tekton merges it), the
// Task's volumes and what scripts do with container engines.

// Privileged finds privileged containers.
var Privileged = &check.Check{
	ID:       "privilege/privileged",
	Doc:      "`privileged: true` in steps, stepTemplate, sidecars or StepActions; `podman/docker run --privileged` in scripts (warning)",
	Severity: check.Error,
	Help:     "remove `privileged: true`: a privileged container owns the node. Build images with rootless buildah (`--storage-driver=vfs`) or on a remote builder instead",
	Bad: `steps:
  - name: build
    image: quay.io/buildah/stable@sha256:…
    securityContext:
      privileged: true`,
	Fixed: `steps:
  - name: build
    image: quay.io/buildah/stable@sha256:…
    securityContext:
      allowPrivilegeEscalation: false`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		t := loadedOf(pass)
		if t == nil {
			return nil
		}
		var g group
		for _, c := range t.running() {
			if sc := c.eff.SecurityContext; sc != nil && isTrue(sc.Privileged) {
				f, p, inh := t.origin(c, "securityContext.privileged")
				g.add(f, p, inh, c.label(), 0, "", "runs privileged (privileged: true): it has every capability and the node's devices")
			}
		}
		out := g.findings()
		out = append(out, t.engineFlags(func(flag string) string {
			if flag == "--privileged" || flag == "--privileged=true" {
				return "runs a privileged container (" + flag + ")"
			}
			return ""
		})...)
		// once for the family: the StepAction's securityContext and mounts
		return append(out, t.unresolvedInfos("securityContext and volume mounts")...)
	},
}

// Escalation finds containers that may gain privileges.
var Escalation = &check.Check{
	ID:       "privilege/escalation",
	Doc:      "`allowPrivilegeEscalation: true`; unset (the Pod Security restricted profile requires false) is a warning",
	Severity: check.Error,
	Help:     "set `securityContext.allowPrivilegeEscalation: false` in spec.stepTemplate (it covers every step); Pod Security \"restricted\" also needs `runAsNonRoot: true`, `capabilities: {drop: [ALL]}` and `seccompProfile: {type: RuntimeDefault}` there",
	Bad: `stepTemplate:
  securityContext:
    allowPrivilegeEscalation: true
steps:
  - name: test
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:…`,
	Fixed: `stepTemplate:
  securityContext:
    allowPrivilegeEscalation: false
    runAsNonRoot: true
    capabilities: {drop: [ALL]}
    seccompProfile: {type: RuntimeDefault}
steps:
  - name: test
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:…`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		t := loadedOf(pass)
		if t == nil {
			return nil
		}
		var g group
		var unsetSteps []string
		for _, c := range t.running() {
			sc := c.eff.SecurityContext
			switch {
			case sc != nil && isTrue(sc.AllowPrivilegeEscalation):
				f, p, inh := t.origin(c, "securityContext.allowPrivilegeEscalation")
				g.add(f, p, inh, c.label(), 0, "", "allows privilege escalation (allowPrivilegeEscalation: true): setuid binaries can become root")
			case sc != nil && (sc.AllowPrivilegeEscalation != nil || isTrue(sc.Privileged)):
				// false, or privileged (reported by privilege/privileged)
			case c.role == "sidecar" || c.role == "StepAction" && c.viaStep == "":
				// no stepTemplate reaches these
				where := c.path
				if c.file.Node(c.path+".securityContext") != nil {
					where += ".securityContext"
				}
				g.add(c.file, where, false, c.label(), check.Warning, "", "leaves allowPrivilegeEscalation unset: the Pod Security restricted profile requires false")
			default:
				unsetSteps = append(unsetSteps, c.label())
			}
		}
		out := g.findings()
		if len(unsetSteps) > 0 {
			where := "spec.steps"
			if t.file.Node("spec.stepTemplate") != nil {
				where = "spec.stepTemplate"
			}
			f := at(t.file, where, "allowPrivilegeEscalation is unset for %s: the Pod Security restricted profile requires false", strings.Join(unsetSteps, ", "))
			f.Severity = check.Warning
			out = append(out, f.WithHelp("add `securityContext: {allowPrivilegeEscalation: false}` to spec.stepTemplate: Tekton merges it into every step"))
		}
		return out
	},
}

// Root finds containers that run as root.
var Root = &check.Check{
	ID:       "privilege/root",
	Doc:      "`runAsUser: 0`, `runAsNonRoot: false`; `sudo` in scripts (warning)",
	Severity: check.Error,
	Help:     "run as a non-root user: drop `runAsUser: 0` / `runAsNonRoot: false` (or set `runAsNonRoot: true` and a non-zero runAsUser) and use an image that works as non-root",
	Bad: `steps:
  - name: push
    image: quay.io/konflux-ci/buildah-task@sha256:…
    securityContext:
      runAsUser: 0`,
	Fixed: `steps:
  - name: push
    image: quay.io/konflux-ci/buildah-task@sha256:…
    securityContext:
      runAsNonRoot: true
      runAsUser: 1000`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		t := loadedOf(pass)
		if t == nil {
			return nil
		}
		var g group
		for _, c := range t.running() {
			sc := c.eff.SecurityContext
			if sc == nil {
				continue
			}
			if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
				f, p, inh := t.origin(c, "securityContext.runAsUser")
				g.add(f, p, inh, c.label(), 0, "", "runs as root (runAsUser: 0)")
			}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
				f, p, inh := t.origin(c, "securityContext.runAsNonRoot")
				g.add(f, p, inh, c.label(), 0, "", "allows running as root (runAsNonRoot: false)")
			}
		}
		out := g.findings()
		for _, c := range t.containers {
			sc := c.parsed()
			sc.calls(func(call *syntax.CallExpr, args []string) {
				if path.Base(args[0]) == "sudo" {
					f := scriptAt(c, int(call.Pos().Line()), int(call.Pos().Col()), "%s runs `sudo` in its script", c.label())
					f.Severity = check.Warning
					out = append(out, f.WithHelp("do not rely on sudo: give the step the user it needs, or do the work in the image build"))
				}
			})
		}
		return out
	},
}

// allowedCaps is what the Pod Security restricted profile lets a
// container add.
var allowedCaps = map[string]bool{"NET_BIND_SERVICE": true}

// Capabilities finds added Linux capabilities.
var Capabilities = &check.Check{
	ID:       "privilege/capabilities",
	Doc:      "capabilities added beyond the Pod Security restricted set (only NET_BIND_SERVICE)",
	Severity: check.Error,
	Help:     "remove `securityContext.capabilities.add`; only NET_BIND_SERVICE is allowed (add `drop: [ALL]`)",
	Bad: `steps:
  - name: build
    image: quay.io/konflux-ci/buildah-task@sha256:…
    securityContext:
      capabilities:
        add: [SETFCAP]`,
	Fixed: `steps:
  - name: build
    image: quay.io/konflux-ci/buildah-task@sha256:…
    securityContext:
      capabilities:
        drop: [ALL]`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		t := loadedOf(pass)
		if t == nil {
			return nil
		}
		var g group
		for _, c := range t.running() {
			sc := c.eff.SecurityContext
			if sc == nil || sc.Capabilities == nil {
				continue
			}
			var extra []string
			for _, cp := range sc.Capabilities.Add {
				if n := strings.TrimPrefix(strings.ToUpper(string(cp)), "CAP_"); !allowedCaps[n] {
					extra = append(extra, string(cp))
				}
			}
			if len(extra) > 0 {
				f, p, inh := t.origin(c, "securityContext.capabilities.add")
				g.add(f, p, inh, c.label(), 0, "", "adds capabilities "+strings.Join(extra, ", ")+" (the restricted profile allows only NET_BIND_SERVICE)")
			}
		}
		return g.findings()
	},
}

// engineSockets are the container engines' API sockets: whoever reaches
// one runs containers on the node as root.
var engineSockets = []string{"docker.sock", "podman.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock"}

var socketRe = regexp.MustCompile(`(?:` + strings.ReplaceAll(strings.Join(engineSockets, "|"), ".", `\.`) + `)\b`)

// socketIn names the engine socket s mentions ("podman.socket", the
// systemd unit, is not one).
func socketIn(s string) string {
	return socketRe.FindString(s)
}

// Host finds access to the node: hostPath volumes, host ports,
// container-engine sockets, host namespaces requested from scripts.
var Host = &check.Check{
	ID:       "privilege/host",
	Doc:      "hostPath volumes, host ports, container-engine sockets (docker/podman/containerd/crio) in volumes, mounts or scripts, host namespaces in `podman/docker run`",
	Severity: check.Error,
	Help:     "do not reach into the node: use emptyDir or workspaces instead of hostPath, and build without the node's container engine (rootless buildah)",
	Bad: `volumes:
  - name: docker
    hostPath:
      path: /var/run/docker.sock`,
	Fixed: `volumes:
  - name: storage
    emptyDir: {}`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		t := loadedOf(pass)
		if t == nil {
			return nil
		}
		var out []check.Finding
		hostVols := map[string]bool{}
		if t.spec != nil {
			for i, v := range t.spec.Volumes {
				if v.HostPath == nil {
					continue
				}
				hostVols[v.Name] = true
				what := "mounts the node's " + v.HostPath.Path
				if k := socketIn(v.HostPath.Path); k != "" {
					what += " (the container engine's socket " + k + ": root on the node)"
				}
				out = append(out, at(t.file, fmt.Sprintf("spec.volumes[%d].hostPath", i), "volume %q is a hostPath volume: it %s", v.Name, what))
			}
		}
		for _, c := range t.containers {
			for i, m := range c.raw.VolumeMounts {
				if k := socketIn(m.MountPath + " " + m.SubPath); k != "" && !hostVols[m.Name] {
					f := at(c.file, fmt.Sprintf("%s.volumeMounts[%d].mountPath", c.path, i), "%s mounts a container-engine socket (%s) from volume %q", c.label(), k, m.Name)
					f.Severity = check.Warning
					out = append(out, f)
				}
			}
			for i, p := range c.ports {
				if p.HostPort != 0 {
					out = append(out, at(c.file, fmt.Sprintf("%s.ports[%d].hostPort", c.path, i), "%s binds host port %d on the node", c.label(), p.HostPort))
				}
			}
			out = append(out, socketMentions(c)...)
		}
		out = append(out, t.engineFlags(func(flag string) string {
			k, v, ok := strings.Cut(flag, "=")
			switch k {
			case "--network", "--net", "--pid", "--ipc", "--uts", "--userns", "--cgroupns":
				if ok && v == "host" {
					return "shares the node's namespace (" + flag + ")"
				}
			}
			return ""
		})...)
		return out
	},
}

// socketMentions reports each script line that names an engine socket.
func socketMentions(c *container) []check.Finding {
	var out []check.Finding
	for i, line := range strings.Split(c.script, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if k := socketIn(line); k != "" {
			f := scriptAt(c, i+1, strings.Index(line, k)+1, "%s uses the container-engine socket %s in its script", c.label(), k)
			f.Severity = check.Warning
			out = append(out, f.WithHelp("do not drive the node's container engine: build with rootless buildah, or use a sidecar engine only you can reach"))
		}
	}
	return out
}

// engines are the CLIs whose flags engineFlags judges.
var engines = map[string]bool{"podman": true, "docker": true, "nerdctl": true}

// engineFlags reports (as warnings) the flags of container-engine
// commands in scripts that judge() names, e.g. `podman run --privileged`,
// also when the engine runs behind ssh or sudo.
func (t *task) engineFlags(judge func(flag string) string) []check.Finding {
	var out []check.Finding
	for _, c := range t.containers {
		sc := c.parsed()
		sc.calls(func(call *syntax.CallExpr, args []string) {
			engine := false
			for i, a := range args {
				if engines[path.Base(a)] {
					engine = true
					continue
				}
				if !engine {
					continue
				}
				if what := judge(a); what != "" {
					w := call.Args[i]
					f := scriptAt(c, int(w.Pos().Line()), int(w.Pos().Col()), "%s %s in its script", c.label(), what)
					f.Severity = check.Warning
					out = append(out, f.WithHelp("run the inner container unprivileged, without the node's namespaces; if it must be privileged, the Task cannot join the shared catalog"))
				}
			}
		})
	}
	return out
}

func isTrue(b *bool) bool { return b != nil && *b }
