// Package security holds the rules that judge what a Task may do once it
// runs: privileges (privilege/*), the images it runs (image/*) and how it
// treats credentials (credentials/*).
package security

import "taskgate.dev/taskgate/pkg/check"

// Checks are the security rules, in catalog order.
var Checks = []*check.Check{
	Privileged, Escalation, Root, Capabilities, Host,
	Unpinned, Registry, Digest,
	NotOptional, NoSkip,
}
