package catalog

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path"

	"taskgate.dev/taskgate/pkg/manifest"
)

// Digest fingerprints everything a loaded submission was read from: its
// place, its files and their content, the task directory's OWNERS and
// README.md, and what was refused while reading them. Two submissions
// with the same digest look the same to every check.
func (s *Submission) Digest() []byte {
	h := sha256.New()
	meta, _ := json.Marshal(struct {
		Layout, Name, Version, Dir, TaskPath string
		Manifest, Readme                     string
		Refused, ReadmeBlank                 bool
		Files                                []string
		Problems                             any
	}{s.Layout, s.Name, s.Version, s.Dir, s.TaskPath, manifestPath(s), s.Readme, s.Refused, s.ReadmeBlank, s.Files, s.Problems})
	fmt.Fprintf(h, "submission %d\n%s\n", len(meta), meta)
	if s.Repo == nil {
		return h.Sum(nil)
	}
	files := append([]string(nil), s.Files...)
	taskDir := path.Join(s.Layout, s.Name)
	files = append(files, path.Join(taskDir, "OWNERS"), path.Join(taskDir, "README.md"))
	for _, f := range files {
		if f == "" {
			continue
		}
		sum := "absent"
		if !s.Refused && s.Repo.exists(f) {
			data, err := readLimited(s.Repo, f)
			if err != nil {
				sum = "refused: " + err.Error()
			} else {
				sum = fmt.Sprintf("%x", sha256.Sum256(data))
			}
		}
		fmt.Fprintf(h, "file %q %s\n", f, sum)
	}
	return h.Sum(nil)
}

func manifestPath(s *Submission) string {
	if s.Manifest == nil {
		return ""
	}
	return s.Manifest.Path
}

// readLimited reads a repository file under the loader's rules.
func readLimited(r *Repo, rel string) ([]byte, error) {
	return manifest.ReadFile(r.Root, rel, r.Limits.MaxFileBytes)
}
