package integration

import (
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"taskgate.dev/taskgate/pkg/rules/stepactions"
)

// named resolves a step's ref: the StepAction of that name in the
// submission's directory, else the first in the repository; nil when the
// step has no ref, a remote one, or one not in the repository.
func named(ix stepactions.Files, st v1.Step, dir string) *v1beta1.StepAction {
	if st.Ref == nil || st.Ref.Resolver != "" || st.Ref.Name == "" {
		return nil
	}
	if fs := ix.Named(st.Ref.Name, dir); len(fs) > 0 {
		return fs[0].StepAction
	}
	return nil
}
