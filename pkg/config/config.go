// Package config reads a catalog repository's .taskgate.yaml: which rules
// are off, which are re-levelled, and the settings rules take.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
type Config struct {
	Disable  []string          `yaml:"disable"`
	Severity map[string]string `yaml:"severity"`
	Images   Images            `yaml:"images"`
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
	return c, nil
}
