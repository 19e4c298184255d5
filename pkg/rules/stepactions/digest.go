package stepactions

import (
	"crypto/sha256"
	"fmt"
	"sort"
)

// digest fingerprints the index (a cache key): each StepAction's name,
// path and content.
func digest(v any) string {
	ix, ok := v.(Files)
	if !ok {
		return ""
	}
	var names []string
	for n := range ix {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		for _, f := range ix[n] {
			fmt.Fprintf(h, "%q %q %x\n", n, f.Path, sha256.Sum256(f.Data))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
