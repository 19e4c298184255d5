package revoke

import (
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/pkg/manifest"
)

func TestDeprecateRefusesFlowStyle(t *testing.T) {
	f := manifest.Parse("t.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: hello}\nspec:\n  steps: [{name: s, image: x}]\n"), manifest.DefaultLimits)
	if _, err := Deprecate(f, time.Now(), "m"); err == nil || !strings.Contains(err.Error(), "by hand") {
		t.Errorf("flow-style metadata: %v", err)
	}
}
