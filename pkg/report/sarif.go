package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"runtime/debug"

	"taskgate.dev/taskgate/pkg/check"
)

// SARIFSchema is the OASIS schema the output follows (a copy is in testdata).
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// The subset of SARIF 2.1.0 taskgate writes: plain structs, so that the
// output holds only what we mean (no empty arrays or -1 defaults).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		ColumnKind  string            `json:"columnKind"`
		Results     []sarifResult     `json:"results"`
		// Properties (a SARIF property bag) carry the waivers in effect
		// (rules that did not run, so no result says so) and each
		// submission's integration verdict per build pipeline.
		Properties *sarifRunProperties `json:"properties,omitempty"`
	}
	sarifRunProperties struct {
		Waivers     []sarifWaiver      `json:"waivers,omitempty"`
		Integration []sarifIntegration `json:"integration,omitempty"`
	}
	sarifWaiver struct {
		Submission string `json:"submission"`
		Waived
	}
	sarifIntegration struct {
		Submission string      `json:"submission"`
		Fits       []check.Fit `json:"fits"`
	}
	// sarifInvocation says whether the analysis ran in full: each check
	// that did not run on a submission is a notification, about the
	// configuration (disabled, waived, skipped by the Task) or about the
	// run (what it needs is absent, input refused, not finished).
	sarifInvocation struct {
		ExecutionSuccessful            bool                `json:"executionSuccessful"`
		ToolExecutionNotifications     []sarifNotification `json:"toolExecutionNotifications,omitempty"`
		ToolConfigurationNotifications []sarifNotification `json:"toolConfigurationNotifications,omitempty"`
	}
	sarifNotification struct {
		Level          string          `json:"level"`
		Message        sarifText       `json:"message"`
		AssociatedRule sarifRuleRef    `json:"associatedRule"`
		Locations      []sarifLocation `json:"locations,omitempty"`
		Properties     sarifNotRun     `json:"properties"`
	}
	sarifRuleRef struct {
		ID    string `json:"id"`
		Index int    `json:"index"`
	}
	sarifNotRun struct {
		Submission string       `json:"submission"`
		NotRun     check.NotRun `json:"notRun,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string      `json:"id"`
		ShortDescription     sarifText   `json:"shortDescription"`
		FullDescription      sarifText   `json:"fullDescription"`
		Help                 *sarifText  `json:"help,omitempty"`
		HelpURI              string      `json:"helpUri,omitempty"`
		DefaultConfiguration sarifConfig `json:"defaultConfiguration"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations"`
		// GitHub matches alerts across uploads by these; only its
		// upload-sarif action computes them, a REST upload (the report
		// step's) must bring its own or every run duplicates the alerts.
		PartialFingerprints map[string]string `json:"partialFingerprints"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
	}
)

// SARIF writes one SARIF 2.1.0 run: the checks as rules, the findings as
// results located relative to the repository root (%SRCROOT%), and the
// checks that did not run as notifications of its invocation, which is
// successful only when none lacked what it needs or failed to finish.
// Rules link their help at o.DocBase; without one the URIs are left out
// (SARIF wants them absolute) and each rule carries its help text.
func SARIF(w io.Writer, res *check.Result, o Options) error {
	driver := sarifDriver{Name: "taskgate", Version: Version(), InformationURI: o.DocBase, Rules: []sarifRule{}}
	index := map[string]int{}
	addRule := func(id string, c *check.Check) {
		index[id] = len(driver.Rules)
		r := sarifRule{ID: id, ShortDescription: sarifText{Text: id}, FullDescription: sarifText{Text: id}, HelpURI: o.RuleURL(id),
			DefaultConfiguration: sarifConfig{Level: "warning"}} // SARIF's own default
		if c != nil {
			if c.Doc != "" {
				r.ShortDescription.Text, r.FullDescription.Text = c.Doc, c.Doc
			}
			if c.Help != "" {
				r.FullDescription.Text += ". How to fix: " + c.Help
			}
			if c.Help != "" {
				r.Help = &sarifText{Text: c.Help}
			}
			r.DefaultConfiguration.Level = sarifLevel(c.Severity)
		}
		driver.Rules = append(driver.Rules, r)
	}
	for _, c := range res.Checks {
		if _, dup := index[c.ID]; !dup {
			addRule(c.ID, c)
		}
	}
	results := []sarifResult{}
	seen := map[string]int{}
	for _, f := range res.Findings() {
		// A finding of a rule the result does not list still needs a rule
		// to point at: never drop a finding.
		if _, ok := index[f.Rule]; !ok {
			addRule(f.Rule, check.Lookup(f.Rule))
		}
		text := f.Message
		if text == "" {
			text = f.Rule
		}
		if f.Help != "" {
			text += "\nhelp: " + f.Help
		}
		results = append(results, sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			Message: sarifText{Text: text},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: fileURI(f.File), URIBaseID: "%SRCROOT%"},
				Region:           &sarifRegion{StartLine: max(f.Line, 1), StartColumn: max(f.Column, 1)},
			}}},
			PartialFingerprints: map[string]string{FingerprintKey: fingerprint(f, seen)},
		})
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	for _, n := range notRuns(res, true) {
		if _, ok := index[n.Status.Check]; !ok {
			addRule(n.Status.Check, check.Lookup(n.Status.Check))
		}
		note := sarifNotification{Level: "note",
			Message:        sarifText{Text: fmt.Sprintf("%s did not run on %s (%s): %s", n.Status.Check, n.Submission, notRunLabel(n.Status), n.Status.Skipped)},
			AssociatedRule: sarifRuleRef{ID: n.Status.Check, Index: index[n.Status.Check]},
			Properties:     sarifNotRun{Submission: n.Submission, NotRun: n.Status.NotRun},
		}
		if n.File != "" {
			note.Locations = []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(n.File), URIBaseID: "%SRCROOT%"}}}}
		}
		switch n.Status.NotRun {
		case check.Disabled, check.Waived, check.TaskSkipped, check.NeedsCluster:
			inv.ToolConfigurationNotifications = append(inv.ToolConfigurationNotifications, note)
			continue
		case check.Unfinished, check.Refused:
			note.Level = "error"
		default:
			note.Level = "warning"
		}
		inv.ExecutionSuccessful = false
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, note)
	}
	run := sarifRun{
		Tool:        sarifTool{Driver: driver},
		Invocations: []sarifInvocation{inv},
		// yaml.v3 counts columns in characters, not UTF-16 units (SARIF's default).
		ColumnKind: "unicodeCodePoints",
		Results:    results,
	}
	for _, w := range Waivers(res) {
		if run.Properties == nil {
			run.Properties = &sarifRunProperties{}
		}
		run.Properties.Waivers = append(run.Properties.Waivers, sarifWaiver{Submission: w.Submission, Waived: w})
	}
	for _, sub := range res.Submissions {
		if sub.Integration == nil {
			continue
		}
		if run.Properties == nil {
			run.Properties = &sarifRunProperties{}
		}
		run.Properties.Integration = append(run.Properties.Integration, sarifIntegration{Submission: sub.ID, Fits: sub.Integration.Fits})
	}
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// FingerprintKey names taskgate's partial fingerprint; the /v1 changes
// when what it hashes does.
const FingerprintKey = "taskgate/v1"

// fingerprint identifies a finding by what does not move with its line:
// the rule, the file and the message, plus which occurrence of that
// triple it is in the file (the Nth of the same finding stays the Nth when
// lines above it move, as GitHub's own primaryLocationLineHash counts).
func fingerprint(f check.Finding, seen map[string]int) string {
	sum := sha256.Sum256([]byte(f.Rule + "\x00" + f.File + "\x00" + f.Message))
	h := hex.EncodeToString(sum[:16])
	seen[h]++
	return fmt.Sprintf("%s:%d", h, seen[h])
}

// Version is taskgate's version as the build knows it: the module
// version of a released build, else the VCS revision, else "devel".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return "devel"
}

func sarifLevel(s check.Severity) string {
	switch s {
	case check.Error:
		return "error"
	case check.Warning:
		return "warning"
	}
	return "note"
}

// fileURI turns a repository-relative path into a relative URI reference
// (spaces, `%` and `#` escaped; a colon in the first segment cannot make
// it look like a scheme).
func fileURI(file string) string {
	return (&url.URL{Path: filepath.ToSlash(file)}).String()
}
