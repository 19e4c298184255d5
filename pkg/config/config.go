// Package config reads a catalog repository's .taskgate.yaml: which rules
// are off, which are re-levelled, and the settings rules take.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"taskgate.dev/taskgate/pkg/manifest"
)

// FileName is looked up at the repository root.
const FileName = ".taskgate.yaml"

// Config is the per-repository configuration.
//
//	disable: [layout/readme]
//	severity:
//	  tekton/conventions: info
//	images:
//	  allowedRegistries: [quay.io/konflux-ci, registry.access.redhat.com]
//	sandbox:
//	  egress:
//	    - {task: icr-scan, cidr: 203.0.113.0/24, ports: [443]}
//	waivers:
//	  - {task: hello, versions: ["0.1"], rule: privilege/privileged, reason: "builds images with buildah", expires: 2027-06-30}
//	docBase: https://github.com/acme/taskgate/blob/v1.2.0/docs/rules.md
type Config struct {
	Disable  []string          `yaml:"disable"`
	Severity map[string]string `yaml:"severity"`
	Images   Images            `yaml:"images"`
	Sandbox  Sandbox           `yaml:"sandbox"`
	Waivers  []Waiver          `yaml:"waivers"`
	// Resources bounds what one container of a Task may request.
	Resources Resources `yaml:"resources"`
	// DocBase is where the catalog's readers find taskgate's rule
	// reference (docs/rules.md): reports link each rule's section there.
	DocBase string `yaml:"docBase"`
}

// CheckDocBase accepts an address for the rule reference: an absolute
// http(s) URL without a fragment (each rule adds its own), since a PR
// comment and SARIF resolve no relative link to taskgate's docs.
func CheckDocBase(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: %v", s, err)
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("%q is not an absolute http(s) URL (e.g. https://github.com/ORG/taskgate/blob/main/docs/rules.md)", s)
	case u.Fragment != "" || strings.HasSuffix(s, "#"):
		return fmt.Errorf("%q has a fragment: each rule adds its own (#imagedigest)", s)
	}
	return nil
}

// Sandbox holds what a sandboxed run (`dry-run --run`) may reach: nothing,
// unless a Task needs a partner service and the maintainers allow it here.
type Sandbox struct {
	Egress []Egress `yaml:"egress"`
}

// Egress lets one Task's sandboxed pods reach a network (NetworkPolicy
// speaks addresses, not host names) on some TCP ports.
type Egress struct {
	Task  string `yaml:"task"`
	CIDR  string `yaml:"cidr"`
	Ports []int  `yaml:"ports"`
}

// EgressFor returns the egress the configuration allows a Task.
func (c *Config) EgressFor(task string) []Egress {
	var out []Egress
	for _, e := range c.Sandbox.Egress {
		if e.Task == task {
			out = append(out, e)
		}
	}
	return out
}

func (s Sandbox) validate() error {
	for i, e := range s.Egress {
		where := fmt.Sprintf("%s: sandbox.egress[%d]", FileName, i)
		if e.Task == "" {
			return fmt.Errorf("%s: name the Task it is for (task: <name>): egress is allowed per Task", where)
		}
		if _, _, err := net.ParseCIDR(e.CIDR); err != nil {
			return fmt.Errorf("%s: cidr %q is not an address range (e.g. 203.0.113.0/24; NetworkPolicy takes no host names)", where, e.CIDR)
		}
		if len(e.Ports) == 0 {
			return fmt.Errorf("%s: list the TCP ports (ports: [443]): a whole network is not a partner service", where)
		}
		for _, p := range e.Ports {
			if p < 1 || p > 65535 {
				return fmt.Errorf("%s: port %d is not a TCP port", where, p)
			}
		}
	}
	return nil
}

// Waiver is the maintainers' decision that one rule does not apply to some
// versions of one Task, for a reason and until a date. Only waivers (read
// from the base branch) may switch off a rule a Task cannot skip itself.
type Waiver struct {
	Task     string   `yaml:"task"`     // the task directory (hello), or layout/task (partners/hello)
	Versions []string `yaml:"versions"` // version directories; "*" is every version
	Rule     string   `yaml:"rule"`
	Reason   string   `yaml:"reason"`
	Expires  string   `yaml:"expires"` // YYYY-MM-DD (or RFC 3339): from then on the rule runs again

	Line  int       `yaml:"-"` // where the waiver is written in FileName
	Until time.Time `yaml:"-"` // Expires parsed
}

// Covers says whether the waiver names a submission (layout/task/version).
func (w *Waiver) Covers(layout, task, version string) bool {
	if w.Task != task && w.Task != layout+"/"+task {
		return false
	}
	for _, v := range w.Versions {
		if v == "*" || v == version {
			return true
		}
	}
	return false
}

// Expired says whether the waiver no longer applies at now.
func (w *Waiver) Expired(now time.Time) bool { return !now.Before(w.Until) }

// Resources holds the settings of resources/excessive: the most CPU and
// memory one step, sidecar or stepTemplate may request or be limited to
// (Kubernetes quantities: "4", "500m", "8Gi"); empty means the default.
type Resources struct {
	MaxCPU    string `yaml:"maxCPU"`
	MaxMemory string `yaml:"maxMemory"`
}

// Images holds the settings of the image/* rules.
type Images struct {
	// AllowedRegistries are registry hosts or repository prefixes; empty
	// allows every registry.
	AllowedRegistries []string `yaml:"allowedRegistries"`
}

// MaxBytes bounds the configuration file.
const MaxBytes = 1 << 20

// Load reads root/.taskgate.yaml under the loader's rules (inside the
// repository, a regular file, at most MaxBytes); a missing file is an
// empty Config.
func Load(root string) (*Config, error) {
	data, err := manifest.ReadFile(root, FileName, MaxBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, err.(*manifest.ReadError).Help)
	}
	return Parse(data)
}

// Parse decodes a configuration strictly: a misspelt key is an error, not
// a setting silently ignored.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%s: larger than 1 MiB", FileName)
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %v", FileName, err)
	}
	if err := c.Sandbox.validate(); err != nil {
		return nil, err
	}
	if c.DocBase != "" {
		if err := CheckDocBase(c.DocBase); err != nil {
			return nil, fmt.Errorf("%s: docBase: %v", FileName, err)
		}
	}
	if len(c.Waivers) > 0 {
		if err := c.checkWaivers(data); err != nil {
			return nil, err
		}
	}
	for key, q := range map[string]string{"resources.maxCPU": c.Resources.MaxCPU, "resources.maxMemory": c.Resources.MaxMemory} {
		if _, err := resource.ParseQuantity(q); q != "" && err != nil {
			return nil, fmt.Errorf("%s: %s: %q is not a Kubernetes quantity (e.g. \"4\", \"500m\", \"8Gi\")", FileName, key, q)
		}
	}
	return c, nil
}

// checkWaivers requires every field of every waiver and records where
// each is written. Rule ids are checked against the registry by the
// caller (check.Resolve).
func (c *Config) checkWaivers(data []byte) error {
	var doc struct {
		Waivers []yaml.Node `yaml:"waivers"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %v", FileName, err)
	}
	for i := range c.Waivers {
		w := &c.Waivers[i]
		if i < len(doc.Waivers) {
			w.Line = doc.Waivers[i].Line
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: waivers[%d]: %s (a waiver is {task, versions, rule, reason, expires})", FileName, w.Line, i, fmt.Sprintf(format, args...))
		}
		switch {
		case strings.TrimSpace(w.Task) == "":
			return bad("no task")
		case len(w.Versions) == 0:
			return bad(`no versions (name them, or "*" for every version)`)
		case strings.TrimSpace(w.Rule) == "":
			return bad("no rule")
		case strings.TrimSpace(w.Reason) == "":
			return bad("no reason: reviewers and partners read why the rule does not apply")
		case strings.TrimSpace(w.Expires) == "":
			return bad("no expires date: a waiver is reviewed again when it expires")
		}
		for _, v := range w.Versions {
			if strings.TrimSpace(v) == "" {
				return bad("an empty version")
			}
		}
		t, err := time.Parse(time.DateOnly, w.Expires)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, w.Expires); err != nil {
				return bad("expires %q is not a date (YYYY-MM-DD) or an RFC 3339 time", w.Expires)
			}
		}
		w.Until = t
	}
	return nil
}
