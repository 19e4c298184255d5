package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"

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
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string      `json:"id"`
		ShortDescription     sarifText   `json:"shortDescription"`
		Help                 *sarifText  `json:"help,omitempty"`
		HelpURI              string      `json:"helpUri"`
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
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
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
// results located relative to the repository root (%SRCROOT%).
func SARIF(w io.Writer, res *check.Result) error {
	driver := sarifDriver{Name: "taskgate", InformationURI: check.DocBase, Rules: []sarifRule{}}
	index := map[string]int{}
	addRule := func(id string, c *check.Check) {
		index[id] = len(driver.Rules)
		r := sarifRule{ID: id, ShortDescription: sarifText{Text: id}, HelpURI: check.DocURL(id),
			DefaultConfiguration: sarifConfig{Level: "warning"}} // SARIF's own default
		if c != nil {
			if c.Doc != "" {
				r.ShortDescription.Text = c.Doc
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
				Region:           sarifRegion{StartLine: max(f.Line, 1), StartColumn: max(f.Column, 1)},
			}}},
		})
	}
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{{
		Tool: sarifTool{Driver: driver},
		// yaml.v3 counts columns in characters, not UTF-16 units (SARIF's default).
		ColumnKind: "unicodeCodePoints",
		Results:    results,
	}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
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
