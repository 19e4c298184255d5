package check

import (
	"fmt"
	"sort"
	"sync"
)

var (
	regMu    sync.Mutex
	registry = map[string]*Check{}
)

// Register adds checks to the registry; an id registered twice panics at
// start-up (a programming error, caught by every test).
func Register(cs ...*Check) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, c := range cs {
		if c.ID == "" || c.Run == nil || c.Severity == 0 {
			panic(fmt.Sprintf("check %q: ID, Severity and Run are required", c.ID))
		}
		if _, dup := registry[c.ID]; dup {
			panic("check registered twice: " + c.ID)
		}
		registry[c.ID] = c
	}
}

// All returns the registered checks sorted by id.
func All() []*Check {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]*Check, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the registered check with an id, or nil.
func Lookup(id string) *Check {
	regMu.Lock()
	defer regMu.Unlock()
	return registry[id]
}
