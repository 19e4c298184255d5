package bundle

import (
	"fmt"
	"time"

	sigyaml "sigs.k8s.io/yaml"
)

// TrustData is the policy data that lets Conforma (Enterprise Contract)
// trust a pushed bundle, in both forms policies read:
//   - trusted_task_rules (ADR 53, conforma/policy lib/tekton/trusted.rego):
//     an allow rule for the bundle repository limited to this version
//     (matched against the bundle's org.opencontainers.image.version);
//   - task-bundles (the older data-acceptable-bundles form that
//     `ec track bundle` writes): the digest under its version-stream tag,
//     so that a later push of the same version makes this one "out of
//     date" the way Conforma expects.
type TrustData struct {
	TaskBundles      map[string][]BundleRecord `json:"task-bundles"`
	TrustedTaskRules TrustedTaskRules          `json:"trusted_task_rules"`
}

// TrustedTaskRules holds allow rules (deny rules are revocation's business).
type TrustedTaskRules struct {
	Allow []Rule `json:"allow"`
}

// Rule is one trusted_task_rules entry.
type Rule struct {
	Name        string   `json:"name"`
	Pattern     string   `json:"pattern"`
	EffectiveOn string   `json:"effective_on,omitempty"` // YYYY-MM-DD
	Versions    []string `json:"versions,omitempty"`
}

// BundleRecord is one acceptable-bundles entry.
type BundleRecord struct {
	Digest      string `json:"digest"`
	EffectiveOn string `json:"effective_on"` // RFC 3339, midnight UTC
	Tag         string `json:"tag"`
}

// Trust returns the trust data of a push, effective on the day of now.
func Trust(p *Pushed, task string, now time.Time) TrustData {
	day := now.UTC().Format("2006-01-02")
	return TrustData{
		TaskBundles: map[string][]BundleRecord{
			p.Repository: {{Digest: p.Digest, EffectiveOn: day + "T00:00:00Z", Tag: p.Version}},
		},
		TrustedTaskRules: TrustedTaskRules{Allow: []Rule{{
			Name:        fmt.Sprintf("taskgate: %s %s passed the gate", task, p.Version),
			Pattern:     "oci://" + p.Repository,
			EffectiveOn: day,
			// both bounds: Conforma's operators are >=, >, <=, <
			Versions: []string{">=" + p.Version, "<=" + p.Version},
		}}},
	}
}

// YAML renders trust data as a data file policy engines can load.
func (d TrustData) YAML(ref string) ([]byte, error) {
	out, err := sigyaml.Marshal(d)
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf("# Trust data for %s, written by `taskgate bundle push`.\n# Merge it into the policy data (e.g. data-acceptable-bundles) that Conforma reads.\n", ref)
	return append([]byte(header), out...), nil
}
