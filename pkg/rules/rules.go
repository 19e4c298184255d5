// Package rules is the one place where every check is registered.
package rules

import (
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/cluster"
	"taskgate.dev/taskgate/pkg/rules/execution"
	"taskgate.dev/taskgate/pkg/rules/integration"
	"taskgate.dev/taskgate/pkg/rules/lint"
	"taskgate.dev/taskgate/pkg/rules/owners"
	"taskgate.dev/taskgate/pkg/rules/refs"
	"taskgate.dev/taskgate/pkg/rules/resources"
	"taskgate.dev/taskgate/pkg/rules/revoke"
	"taskgate.dev/taskgate/pkg/rules/script"
	"taskgate.dev/taskgate/pkg/rules/secret"
	"taskgate.dev/taskgate/pkg/rules/security"
	"taskgate.dev/taskgate/pkg/rules/supply"
	"taskgate.dev/taskgate/pkg/rules/workspace"
)

func init() {
	check.Register(check.SkipCheck, check.WaiverCheck)
	check.Register(lint.Checks...)
	check.Register(owners.Checks...)
	check.Register(revoke.Checks...)
	check.Register(integration.Checks...)
	check.Register(script.Checks...)
	check.Register(secret.Checks...)
	check.Register(security.Checks...)
	check.Register(supply.Checks...)
	check.Register(execution.Checks...)
	check.Register(refs.Checks...)
	check.Register(resources.Checks...)
	check.Register(workspace.Checks...)
	check.Register(cluster.Checks...) // judge only with a cluster (taskgate dry-run)
}
