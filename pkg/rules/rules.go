// Package rules is the one place where every check is registered.
package rules

import (
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/rules/lint"
)

func init() {
	check.Register(check.SkipCheck)
	check.Register(lint.Checks...)
}
