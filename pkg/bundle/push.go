package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	gcr "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PushOptions configure Push.
type PushOptions struct {
	Keychain authn.Keychain // default authn.DefaultKeychain (the Docker config)
	Log      io.Writer      // progress; default discarded
	// Backoff between retries of one request; default 3 tries, 0.5s then 1s.
	Backoff *remote.Backoff
}

// Pushed is what a push left in the registry.
type Pushed struct {
	Repository string // <prefix>/task-<name>
	Digest     string
	Version    string // the moving version tag
	Immutable  string // <version>-<commit>
	// Moved maps a tag that pointed elsewhere before to its old digest
	// (only ever the version tag).
	Moved map[string]string
}

// Ref is the digest-pinned reference of the pushed bundle.
func (p *Pushed) Ref() string { return p.Repository + "@" + p.Digest }

// TagConflictError is a refused tag move.
type TagConflictError struct {
	Tag, Existing, Want, Reason string
}

func (e *TagConflictError) Error() string {
	return fmt.Sprintf("refusing to move tag %s: it points to %s, this bundle is %s (%s); no tag was written", e.Tag, e.Existing, e.Want, e.Reason)
}

// Repository names the bundle repository of a Task under a prefix
// (`registry/namespace`): <prefix>/task-<name>, as the Konflux catalog
// names its bundles.
func Repository(prefix, task string) (name.Repository, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	last := prefix[strings.LastIndex(prefix, "/")+1:]
	// a colon after the last slash is a tag (before it, a registry port)
	if strings.Contains(prefix, "@") || strings.Contains(prefix, "/") && strings.Contains(last, ":") {
		return name.Repository{}, fmt.Errorf("%q: give a repository prefix (e.g. quay.io/org/catalog), not an image reference with a tag or digest", prefix)
	}
	repo, err := name.NewRepository(prefix + "/task-" + task)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%q is not a usable repository prefix: %v", prefix, err)
	}
	return repo, nil
}

// Push publishes a bundle as <prefix>/task-<name>, tagged <version> and
// the immutable <version>-<commit>. Nothing is written while a tag
// conflict is known: tags are checked, the manifest is pushed under its
// digest (no tag moves), tags are checked again (a concurrent push may
// have raced us), and only then tagged.
//
// The rule for tags: <version>-<commit> never moves. <version> is the
// version stream and moves to the newest bundle of that version, as the
// Konflux catalog's tags do (consumers pin digests and follow the tag);
// it is refused only when the bundle it points to comes from a revision
// that git knows is newer than ours: a re-run of an old pipeline must not
// roll the stream back.
func Push(ctx context.Context, b *Bundle, prefix string, o PushOptions) (*Pushed, error) {
	if b.Commit == "" {
		return nil, errNoCommit
	}
	if b.Dirty {
		return nil, fmt.Errorf("%s has uncommitted changes: the bundle would not be revision %s; commit them first", b.Submission.Dir, b.Commit)
	}
	repo, err := Repository(prefix, b.Task.Name)
	if err != nil {
		return nil, err
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	backoff := remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 3}
	if o.Backoff != nil {
		backoff = *o.Backoff
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.Keychain),
		remote.WithRetryBackoff(backoff),
		remote.WithUserAgent("taskgate"),
	}
	p := &Pushed{Repository: repo.String(), Digest: b.Digest.String(), Version: b.Submission.Version}
	p.Immutable = p.Version + "-" + b.Commit
	reg := repo.RegistryStr()

	if p.Moved, _, err = checkTags(b, repo, p, opts); err != nil {
		return nil, explain(err, reg)
	}
	fmt.Fprintf(o.Log, "pushing %s\n", p.Ref())
	if err := remote.Write(repo.Digest(p.Digest), b.Image, opts...); err != nil {
		return nil, explain(err, reg)
	}
	var present map[string]bool
	if p.Moved, present, err = checkTags(b, repo, p, opts); err != nil {
		return nil, explain(err, reg)
	}
	for _, t := range []string{p.Immutable, p.Version} {
		if present[t] {
			fmt.Fprintf(o.Log, "tag %s already points here\n", t)
			continue
		}
		if err := remote.Tag(repo.Tag(t), b.Image, opts...); err != nil {
			return nil, explain(err, reg)
		}
		if old, ok := p.Moved[t]; ok {
			fmt.Fprintf(o.Log, "moved tag %s from %s to %s\n", t, old, p.Digest)
		} else {
			fmt.Fprintf(o.Log, "tagged %s\n", t)
		}
	}
	return p, nil
}

// checkTags returns the tags that will move and those already in place,
// or why a tag must not move.
func checkTags(b *Bundle, repo name.Repository, p *Pushed, opts []remote.Option) (moved map[string]string, present map[string]bool, err error) {
	moved, present = map[string]string{}, map[string]bool{}
	for _, t := range []string{p.Immutable, p.Version} {
		desc, err := remote.Head(repo.Tag(t), opts...)
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if desc.Digest.String() == p.Digest {
			present[t] = true // pushing again is a no-op
			continue
		}
		conflict := &TagConflictError{Tag: repo.Tag(t).String(), Existing: desc.Digest.String(), Want: p.Digest}
		if t == p.Immutable {
			conflict.Reason = "a <version>-<commit> tag is immutable; the same revision must give the same bundle, so the source or the build changed"
			return nil, nil, conflict
		}
		if rev := revisionOf(repo.Digest(desc.Digest.String()), opts); rev != "" && rev != b.Commit && isAncestor(b.Submission.Repo.Root, b.Commit, rev) {
			conflict.Reason = fmt.Sprintf("it holds revision %s, which is newer than this bundle's revision %s: moving it would roll the version stream back", rev, b.Commit)
			return nil, nil, conflict
		}
		moved[t] = desc.Digest.String()
	}
	return moved, present, nil
}

// revisionOf reads the revision annotation of a pushed bundle ("" if none).
func revisionOf(ref name.Digest, opts []remote.Option) string {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return ""
	}
	m, err := gcr.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		return ""
	}
	return m.Annotations[AnnotationRevision]
}

// isAncestor reports whether git knows commit a to be an ancestor of b.
func isAncestor(root, a, b string) bool {
	return exec.Command("git", "-C", root, "merge-base", "--is-ancestor", a, b).Run() == nil
}

// explain turns registry failures into what a person can act on.
func explain(err error, registry string) error {
	var te *transport.Error
	var oe *net.OpError
	var conflict *TagConflictError
	switch {
	case errors.As(err, &conflict):
		return err
	case errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden):
		return fmt.Errorf("registry %s denied access (HTTP %d): no valid credentials for it in the Docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json; `docker login %s` or `podman login --authfile ~/.docker/config.json %s` writes them): %w",
			registry, te.StatusCode, registry, registry, err)
	case errors.As(err, &oe), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cannot reach registry %s: %w (check the address, the network, and that the registry is up)", registry, err)
	}
	return fmt.Errorf("registry %s: %w", registry, err)
}
