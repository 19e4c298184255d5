package security

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

const (
	ruleUnpinned = "image/unpinned"
	ruleRegistry = "image/registry"
	ruleDigest   = "image/digest"
)

// Unpinned finds images not pinned by digest.
var Unpinned = &check.Check{
	ID:       ruleUnpinned,
	Doc:      "image not pinned by digest (steps, sidecars, stepTemplate, StepActions, param defaults, images a script runs from a param); an image known only at run time is a warning",
	Severity: check.Error,
	Help:     "pin the image by digest, keeping the tag for readers: `image: quay.io/org/tool:1.2@sha256:<digest>` (`skopeo inspect --format '{{.Digest}}' docker://quay.io/org/tool:1.2` prints it)",
	Bad: `steps:
  - name: scan
    image: quay.io/org/scanner:latest`,
	Fixed: `steps:
  - name: scan
    image: quay.io/org/scanner:1.4@sha256:4d8273444b0f2781264c232e12e88449bbf078c99e3da2a7f6dcaaf27bc53712`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		return imageFindings(pass, ruleUnpinned)
	},
}

// Registry finds images outside the configured registries.
var Registry = &check.Check{
	ID:       ruleRegistry,
	Doc:      "image outside `images.allowedRegistries` of .taskgate.yaml (hosts or repository prefixes; empty allows all)",
	Severity: check.Error,
	Help:     "use an image from an allowed registry (see images.allowedRegistries in .taskgate.yaml), e.g. mirror it there",
	Bad: `# .taskgate.yaml: images: {allowedRegistries: [quay.io/konflux-ci]}
steps:
  - name: scan
    image: docker.io/library/alpine:3.20@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5`,
	Fixed: `# .taskgate.yaml: images: {allowedRegistries: [quay.io/konflux-ci]}
steps:
  - name: scan
    image: quay.io/konflux-ci/appstudio-utils:1.0@sha256:924eb1680b6cda674e902579135a06b2c6683c3cc1082bbdc159a4ce5ea9f4df`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		return imageFindings(pass, ruleRegistry)
	},
}

// Digest finds image references that do not parse, digests included.
var Digest = &check.Check{
	ID:       ruleDigest,
	Doc:      "image reference or digest that does not parse (`@sha256:` followed by 64 hex digits)",
	Severity: check.Error,
	Help:     "write the image as registry/repository[:tag]@sha256:<64 hex digits>; copy the digest from `skopeo inspect`",
	Bad: `steps:
  - name: scan
    image: quay.io/org/scanner:1.4@sha256:4d8273444b0f`,
	Fixed: `steps:
  - name: scan
    image: quay.io/org/scanner:1.4@sha256:4d8273444b0f2781264c232e12e88449bbf078c99e3da2a7f6dcaaf27bc53712`,
	Requires: []*check.Input{loaded},
	Run: func(pass *check.Pass) []check.Finding {
		return imageFindings(pass, ruleDigest)
	},
}

// scope resolves `$(params.x)`: a Task's params, or a StepAction's with
// the values its referring step passes (resolved in the Task's scope).
type scope struct {
	f        *manifest.File
	specs    []v1.ParamSpec
	vals     v1.Params
	valsPath string // field path of the step's params in parent.f
	parent   *scope
}

var (
	paramRef = regexp.MustCompile(`\$\((?:inputs\.)?params(?:\.([A-Za-z0-9_-]+)|\[["']([^"'\]]+)["']\])\)`)
	anyVar   = regexp.MustCompile(`\$\([^)]*\)`)
)

// lookup returns a param's value (passed by the step, else its default)
// and where it is written, or why it cannot be known before run time.
func (sc *scope) lookup(n string) (val string, f *manifest.File, p, why string) {
	if sc == nil {
		return "", nil, "", fmt.Sprintf("param %q is not declared", n)
	}
	for _, v := range sc.vals {
		if v.Name == n && sc.parent != nil {
			return v.Value.StringVal, sc.parent.f, fmt.Sprintf("%s[%s].value", sc.valsPath, n), ""
		}
	}
	for _, ps := range sc.specs {
		if ps.Name != n {
			continue
		}
		if ps.Default == nil || ps.Default.Type != v1.ParamTypeString || ps.Default.StringVal == "" {
			return "", sc.f, fmt.Sprintf("spec.params[%s]", n), fmt.Sprintf("param %q has no default: the image is chosen at run time", n)
		}
		return ps.Default.StringVal, sc.f, fmt.Sprintf("spec.params[%s].default", n), ""
	}
	return "", nil, "", fmt.Sprintf("param %q is not declared", n)
}

// resolve substitutes params in an image. A value that is exactly one
// param is reported where that param's value is written; a composed one
// where the image is written.
func resolve(img string, f *manifest.File, p string, sc *scope, depth int) (string, *manifest.File, string, string) {
	refs := paramRef.FindAllStringSubmatchIndex(img, -1)
	if len(refs) == 0 {
		if v := anyVar.FindString(img); v != "" {
			return "", nil, "", fmt.Sprintf("it uses %s, known only at run time", v)
		}
		return img, f, p, ""
	}
	if depth > 3 {
		return "", nil, "", "its params refer to each other too deeply"
	}
	name := func(m []int) string {
		if m[2] >= 0 {
			return img[m[2]:m[3]]
		}
		return img[m[4]:m[5]]
	}
	if len(refs) == 1 && refs[0][0] == 0 && refs[0][1] == len(img) {
		v, vf, vp, why := sc.lookup(name(refs[0]))
		if why != "" {
			return "", vf, vp, why
		}
		next := sc
		if vf != sc.f {
			next = sc.parent
		}
		return resolve(v, vf, vp, next, depth+1)
	}
	var b strings.Builder
	last := 0
	for _, m := range refs {
		v, vf, vp, why := sc.lookup(name(m))
		if why != "" {
			return "", vf, vp, why
		}
		if vf != sc.f && anyVar.MatchString(v) { // a step passes a Task param on
			if v, _, _, why = resolve(v, vf, p, sc.parent, depth+1); why != "" {
				return "", nil, "", why
			}
		}
		b.WriteString(img[last:m[0]])
		b.WriteString(v)
		last = m[1]
	}
	b.WriteString(img[last:])
	out := b.String()
	if v := anyVar.FindString(out); v != "" {
		return "", nil, "", fmt.Sprintf("it uses %s, known only at run time", v)
	}
	return out, f, p, ""
}

// imageUse is one place an image is named and who runs it.
type imageUse struct {
	value string
	f     *manifest.File
	path  string
	who   string
	sc    *scope
}

func (t *task) scopeOf(c *container) *scope {
	if t.spec != nil && c.viaStep == "" {
		return &scope{f: t.file, specs: t.spec.Params}
	}
	s := &scope{f: c.file, specs: c.params}
	if c.viaStep != "" {
		s.vals, s.valsPath, s.parent = c.stepParam, c.stepPath+".params", &scope{f: t.file, specs: t.spec.Params}
	}
	return s
}

// images lists every image a submission names: container images, and
// images its scripts run whose name comes from a param.
func (t *task) images() []imageUse {
	var out []imageUse
	for _, c := range t.containers {
		if c.raw.Image != "" {
			out = append(out, imageUse{c.raw.Image, c.file, c.path + ".image", c.label(), t.scopeOf(c)})
		}
	}
	for _, c := range t.running() {
		out = append(out, t.scriptImages(c)...)
	}
	return out
}

var (
	paramWord = regexp.MustCompile(`^\$\((?:inputs\.)?params\.([A-Za-z0-9_-]+)\)$`)
	varWord   = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)
	// imageish: a param default that names an image (registry/repo[:tag]).
	imageish = regexp.MustCompile(`^[a-z0-9][a-z0-9.:-]*/[^\s=]+$`)
)

// scriptImages finds `podman|docker run|create|pull IMAGE` and
// `buildah from|pull IMAGE` where IMAGE is a param (directly or through
// an env var set to it) whose default names an image.
func (t *task) scriptImages(c *container) []imageUse {
	if t.spec == nil || c.viaStep != "" {
		return nil
	}
	env := map[string]string{}
	for _, e := range c.eff.Env {
		if m := paramWord.FindStringSubmatch(e.Value); m != nil && e.ValueFrom == nil {
			env[e.Name] = m[1]
		}
	}
	var out []imageUse
	sc := c.parsed()
	sc.calls(func(call *syntax.CallExpr, args []string) {
		for i := 0; i+1 < len(args); i++ {
			tool, sub := path.Base(args[i]), args[i+1]
			runs := engines[tool] && (sub == "run" || sub == "create" || sub == "pull") || tool == "buildah" && (sub == "from" || sub == "pull")
			if !runs {
				continue
			}
			for _, w := range call.Args[i+2:] {
				txt := strings.Trim(sc.text(w), `"`)
				param := ""
				if m := paramWord.FindStringSubmatch(txt); m != nil {
					param = m[1]
				} else if m := varWord.FindStringSubmatch(txt); m != nil {
					param = env[m[1]]
				}
				if param == "" {
					continue
				}
				scope := &scope{f: t.file, specs: t.spec.Params}
				v, vf, vp, why := scope.lookup(param)
				if why != "" || !imageish.MatchString(v) {
					continue
				}
				line := scriptAt(c, int(w.Pos().Line()), 1, "").Line
				who := fmt.Sprintf("%s (`%s %s` at line %d)", c.label(), tool, sub, line)
				out = append(out, imageUse{v, vf, vp, who, scope})
			}
			return
		}
	})
	return out
}

// imageFindings judges every image for one of the image rules.
func imageFindings(pass *check.Pass, rule string) []check.Finding {
	s := pass.Submission
	t := loadedOf(pass)
	if t == nil {
		return nil
	}
	var allowed []string
	if s.Repo != nil && s.Repo.Config != nil {
		allowed = s.Repo.Config.Images.AllowedRegistries
	}
	if rule == ruleRegistry && len(allowed) == 0 {
		return nil
	}
	var g group
	for _, u := range t.images() {
		v, f, p, why := resolve(u.value, u.f, u.path, u.sc, 0)
		if why != "" {
			if f == nil { // else: the param without a default, once for all its users
				f, p = u.f, u.path
			}
			if rule == ruleUnpinned {
				g.add(f, p, false, u.who, check.Warning, "give the param a default pinned by digest, or check the image the pipeline passes: the gate cannot judge it",
					fmt.Sprintf("runs image %s, which cannot be checked until run time: %s", u.value, why))
			}
			continue
		}
		msg, rl := judgeImage(v, allowed)
		if rl != rule {
			continue
		}
		if p != u.path || f != u.f {
			msg = "runs this value as its image: " + msg
		} else {
			msg = "runs " + msg
		}
		g.add(f, p, false, u.who, 0, "", msg)
	}
	out := g.findings()
	if rule == ruleUnpinned {
		out = append(out, t.unresolvedInfos("image")...)
	}
	return out
}

// judgeImage returns what is wrong with an image reference and under
// which rule ("" when nothing is).
func judgeImage(img string, allowed []string) (string, string) {
	var ref name.Reference
	var err error
	if strings.Contains(img, "@") {
		ref, err = name.NewDigest(img)
		if err != nil {
			return fmt.Sprintf("image %q whose digest does not parse: %v", img, err), ruleDigest
		}
	} else if ref, err = name.ParseReference(img); err != nil {
		return fmt.Sprintf("image %q, which is not a valid image reference: %v", img, err), ruleDigest
	}
	if tag, ok := ref.(name.Tag); ok {
		what := fmt.Sprintf("tag %q", tag.TagStr())
		if !strings.Contains(strings.TrimPrefix(img, tag.RegistryStr()), ":") {
			what = "no tag (so :latest)"
		}
		return fmt.Sprintf("image %q, not pinned by digest (%s): what runs can change under the same name", img, what), ruleUnpinned
	}
	if len(allowed) > 0 && !allowedRepo(ref.Context(), allowed) {
		return fmt.Sprintf("image %q from %s, outside the allowed registries (%s)", img, ref.Context().Name(), strings.Join(allowed, ", ")), ruleRegistry
	}
	return "", ""
}

// allowedRepo matches a repository against hosts or repository prefixes,
// on path-segment boundaries, with docker.io short names normalized.
func allowedRepo(repo name.Repository, allowed []string) bool {
	full := repo.RegistryStr() + "/" + repo.RepositoryStr()
	for _, a := range allowed {
		a = strings.TrimSuffix(strings.TrimSpace(a), "/")
		host, rest, _ := strings.Cut(a, "/")
		if !strings.ContainsAny(host, ".:") && host != "localhost" {
			host, rest = name.DefaultRegistry, a // a Docker Hub path such as library/alpine
		}
		if host == "docker.io" {
			host = name.DefaultRegistry
		}
		prefix := host
		if rest != "" {
			prefix += "/" + rest
		}
		if full == prefix || strings.HasPrefix(full, prefix+"/") {
			return true
		}
	}
	return false
}
