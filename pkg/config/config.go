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
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
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
type Config struct {
	Disable  []string          `yaml:"disable"`
	Severity map[string]string `yaml:"severity"`
	Images   Images            `yaml:"images"`
	Sandbox  Sandbox           `yaml:"sandbox"`
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

// Images holds the settings of the image/* rules.
type Images struct {
	// AllowedRegistries are registry hosts or repository prefixes; empty
	// allows every registry.
	AllowedRegistries []string `yaml:"allowedRegistries"`
}

// Load reads root/.taskgate.yaml; a missing file is an empty Config.
func Load(root string) (*Config, error) {
	data, err := os.ReadFile(filepath.Join(root, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse decodes a configuration strictly: a misspelt key is an error, not
// a setting silently ignored.
func Parse(data []byte) (*Config, error) {
	if len(data) > 1<<20 {
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
	return c, nil
}
