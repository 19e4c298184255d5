package bundle

import (
	"fmt"
	"time"

	sigyaml "sigs.k8s.io/yaml"
)

// TrustData is the policy data that lets Conforma (Enterprise Contract)
// trust a pushed bundle, in the two forms conforma/policy's
// lib/tekton/trusted.rego reads:
//   - trusted_tasks, the legacy map `ec track bundle` writes and every
//     Conforma release reads today: oci://<repository>:<tag> → [{ref:
//     <digest>, effective_on}], under both tags the push wrote;
//   - rule_data.trusted_task_rules (ADR 53), what its next releases read:
//     allow groups of rules matching the repository and this version
//     (checked against the bundle's org.opencontainers.image.version).
//     Conforma reads them only where the policy sets
//     rule_data.trusted_task_rules_enabled: true, and then judges every
//     Task by rules alone; that switch is the policy owner's, not ours.
type TrustData struct {
	TrustedTasks map[string][]TrustedTask `json:"trusted_tasks"`
	RuleData     RuleData                 `json:"rule_data"`
}

// TrustedTask is one legacy trusted_tasks record (the schema Conforma
// validates: ref required, nothing beyond ref, effective_on, expires_on).
type TrustedTask struct {
	Ref         string `json:"ref"`
	EffectiveOn string `json:"effective_on"` // RFC 3339
}

// RuleData holds the rule_data keys of the trust data.
type RuleData struct {
	TrustedTaskRules TrustedTaskRules `json:"trusted_task_rules"`
}

// TrustedTaskRules holds named groups of allow rules (deny rules are
// revocation's business).
type TrustedTaskRules struct {
	Allow map[string][]Rule `json:"allow"`
}

// Rule is one trusted_task_rules entry.
type Rule struct {
	Name        string   `json:"name"`
	Pattern     string   `json:"pattern"`
	EffectiveOn string   `json:"effective_on"` // RFC 3339 date-time
	Versions    []string `json:"versions"`
}

// Trust returns the trust data of a push, effective from now (truncated to
// the second: Conforma compares it with its own clock).
func Trust(p *Pushed, task string, now time.Time) TrustData {
	since := now.UTC().Truncate(time.Second).Format(time.RFC3339)
	record := []TrustedTask{{Ref: p.Digest, EffectiveOn: since}}
	tasks := map[string][]TrustedTask{"oci://" + p.Repository + ":" + p.Version: record}
	if p.Immutable != "" {
		tasks["oci://"+p.Repository+":"+p.Immutable] = record
	}
	group := fmt.Sprintf("taskgate %s %s", task, p.Version)
	return TrustData{
		TrustedTasks: tasks,
		RuleData: RuleData{TrustedTaskRules: TrustedTaskRules{Allow: map[string][]Rule{group: {{
			Name:        fmt.Sprintf("%s %s passed the gate", task, p.Version),
			Pattern:     "oci://" + p.Repository,
			EffectiveOn: since,
			// both bounds: Conforma's operators are >=, >, <=, <
			Versions: []string{">=" + p.Version, "<=" + p.Version},
		}}}}},
	}
}

// YAML renders trust data as a data file policy engines can load.
func (d TrustData) YAML(ref string) ([]byte, error) {
	out, err := sigyaml.Marshal(d)
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf("# Trust data for %s, written by `taskgate bundle push`.\n"+
		"# Merge trusted_tasks into the policy data Conforma reads (as `ec track bundle` does, newest\n"+
		"# first); rule_data.trusted_task_rules applies once the policy sets trusted_task_rules_enabled.\n", ref)
	return append([]byte(header), out...), nil
}
