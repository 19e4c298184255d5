package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"taskgate.dev/taskgate/pkg/manifest"
)

// digestContract fingerprints the build pipelines as the checks see them
// (a cache key): where they were read, what was not taken, and the
// content of every pipeline and of every Task file they resolve to.
func digestContract(v any) string {
	l, ok := v.(*loaded)
	if !ok {
		return ""
	}
	h := sha256.New()
	put := func(label string, v any) {
		data, _ := json.Marshal(v)
		fmt.Fprintf(h, "%s %d\n%s\n", label, len(data), data)
	}
	if l.err != nil {
		put("error", l.err.Error())
	}
	c := l.contract
	if c == nil {
		return hex.EncodeToString(h.Sum(nil))
	}
	put("where", []string{c.Dir, c.Root})
	put("ignored", c.Ignored)
	tasks := map[string]bool{}
	for _, b := range c.Pipelines {
		sum := sha256.Sum256(b.File.Data)
		put("pipeline", []string{b.Name, b.File.Path, hex.EncodeToString(sum[:])})
		put("tasks", b.Tasks)
		for _, t := range b.Tasks {
			if t.Path != "" {
				tasks[t.Path] = true
			}
		}
	}
	var paths []string
	for p := range tasks {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := manifest.ReadFile(c.Root, p, manifest.DefaultLimits.MaxFileBytes)
		sum := sha256.Sum256(data)
		put("task", []string{p, hex.EncodeToString(sum[:]), fmt.Sprint(err)})
	}
	return hex.EncodeToString(h.Sum(nil))
}
