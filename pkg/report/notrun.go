package report

import (
	"fmt"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
)

// notRunLabels say in a few words why a check did not run; the status's
// reason says the rest.
var notRunLabels = map[check.NotRun]string{
	check.Disabled:     "disabled",
	check.Waived:       "waived",
	check.TaskSkipped:  "skipped by the Task",
	check.Unavailable:  "not available",
	check.NeedsCluster: "run by another command",
	check.Refused:      "input refused",
	check.Unfinished:   "not finished",
}

// notRunLabel names the kind of a status that did not run.
func notRunLabel(st check.Status) string {
	if l := notRunLabels[st.NotRun]; l != "" {
		return l
	}
	return "not run"
}

// notRun is one check that did not run on one submission.
type notRun struct {
	Submission, File string
	Status           check.Status
}

// notRuns lists the checks that did not run, by submission then rule.
// Waivers are left out when withWaived is false: the formats that list
// the waivers in effect already say so, with the expiry.
func notRuns(res *check.Result, withWaived bool) []notRun {
	var out []notRun
	for _, s := range res.Submissions {
		for _, st := range s.Checks {
			if st.Ran() || (!withWaived && st.Waiver != nil) {
				continue
			}
			out = append(out, notRun{Submission: s.ID, File: s.File, Status: *st})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Submission != out[j].Submission {
			return out[i].Submission < out[j].Submission
		}
		return out[i].Status.Check < out[j].Status.Check
	})
	return out
}

// countNotRun counts the checks that did not run, waived ones included.
func countNotRun(res *check.Result) int { return len(notRuns(res, true)) }

// notRunLines are the text and log formats' lines, one per rule and
// reason: a rule disabled for the whole repository is one line, not one
// per submission.
func notRunLines(res *check.Result, clean func(string) string) []string {
	type key struct{ rule, kind, reason string }
	var order []key
	subs := map[key][]string{}
	for _, n := range notRuns(res, false) {
		k := key{n.Status.Check, notRunLabel(n.Status), n.Status.Skipped}
		if subs[k] == nil {
			order = append(order, k)
		}
		subs[k] = append(subs[k], n.Submission)
	}
	// the rules not run on the same submissions for the same reason share a line
	type line struct{ who, kind, reason string }
	var lines []line
	rules := map[line][]string{}
	for _, k := range order {
		who := strings.Join(subs[k], ", ")
		if n := len(subs[k]); n > 3 {
			who = fmt.Sprintf("%d submissions", n)
		}
		l := line{who, k.kind, k.reason}
		if rules[l] == nil {
			lines = append(lines, l)
		}
		rules[l] = append(rules[l], k.rule)
	}
	var out []string
	for _, l := range lines {
		out = append(out, fmt.Sprintf("not run: %s %s (%s): %s", clean(l.who), strings.Join(rules[l], ", "), l.kind, clean(l.reason)))
	}
	return out
}
