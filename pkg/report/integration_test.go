package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
)

// One integration summary per submission, in every format; JSON carries
// submissions[].fits.
func TestIntegrationSummaryInEveryFormat(t *testing.T) {
	res := &check.Result{Submissions: []check.SubmissionResult{{
		ID: "partners/scan/0.1", File: "partners/scan/0.1/scan.yaml",
		Integration: &check.Integration{
			Lines: []string{"fits 1 of 2 build pipelines (a check)", "  fits docker-build as image-check after build-image-index", "  does not fit docker-build-oci-ta: workspace source not provided"},
			Fits: []check.Fit{
				{Pipeline: "docker-build", Fits: true, Slot: "image-check", Reason: "after build-image-index"},
				{Pipeline: "docker-build-oci-ta", Fits: false, Slot: "source-check", Reason: "workspace source not provided"},
			},
		},
	}}}
	for _, format := range report.Formats {
		out := render(t, format, res)
		if format == "github" {
			continue // annotations only: findings
		}
		if !strings.Contains(out, "docker-build-oci-ta") || !strings.Contains(out, "workspace source not provided") {
			t.Errorf("%s: no integration summary:\n%s", format, out)
		}
	}
	var js struct {
		Submissions []struct {
			Fits []check.Fit `json:"fits"`
		} `json:"submissions"`
	}
	if err := json.Unmarshal([]byte(render(t, "json", res)), &js); err != nil {
		t.Fatal(err)
	}
	if len(js.Submissions) != 1 || len(js.Submissions[0].Fits) != 2 || !js.Submissions[0].Fits[0].Fits || js.Submissions[0].Fits[1].Fits {
		t.Errorf("json fits: %+v", js)
	}
	text := render(t, "text", res)
	if n := strings.Count(text, "\n"); n != 4 || !strings.HasPrefix(text, "partners/scan/0.1/scan.yaml: integration: fits 1 of 2") {
		t.Errorf("text (%d lines):\n%s", n, text)
	}
}
