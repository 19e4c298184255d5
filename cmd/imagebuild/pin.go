package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// imageRef matches an `image:` of one of our images, with any registry
// prefix, tag and digest (or none): `image: quay.io/taskgate/taskgate-scan@sha256:…`.
var imageRef = regexp.MustCompile(`(?m)^([ \t]*-?[ \t]*image:[ \t]*)"?([^\s"'@]+/)?([a-z0-9-]+)(:[\w.-]+)?(@sha256:[0-9a-f]{64})?"?[ \t]*$`)

// Pin rewrites, in the YAML files under dirs, every image of ours to
// registry/<name>@<digest>; other images and the rest of each file are
// left byte for byte. It returns the files it changed.
func Pin(digests map[string]string, registry string, dirs ...string) ([]string, error) {
	registry = strings.TrimSuffix(registry, "/")
	if registry == "" || strings.ContainsAny(registry, "@ \t") {
		return nil, fmt.Errorf("registry prefix %q: want e.g. quay.io/taskgate", registry)
	}
	var changed []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml")) {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out := imageRef.ReplaceAllStringFunc(string(data), func(line string) string {
				m := imageRef.FindStringSubmatch(line)
				digest, ours := digests[m[3]]
				if !ours || m[2] == "" { // a bare name is not ours: ours always carry a registry
					return line
				}
				return m[1] + registry + "/" + m[3] + "@" + digest
			})
			if out == string(data) {
				return nil
			}
			changed = append(changed, p)
			return os.WriteFile(p, []byte(out), 0o644)
		})
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}
