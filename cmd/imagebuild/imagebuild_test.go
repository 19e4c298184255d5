package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"taskgate.dev/taskgate/pkg/bundle/registrytest"
)

// fakeTaskgate compiles a tiny static program to stand in for the taskgate
// binary: the tests are about the image around it.
func fakeTaskgate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module fake\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"fake taskgate\") }\n"), 0o644)
	cmd := exec.Command("go", "build", "-trimpath", "-o", "taskgate", ".")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "taskgate")
}

// testImages are the real images' tools around the fake binary.
func testImages(t *testing.T) []Image {
	for _, tool := range []string{"/usr/bin/git", "/usr/bin/shellcheck"} {
		if _, err := os.Stat(tool); err != nil {
			if os.Getenv("TASKGATE_REQUIRE_SHELLCHECK") != "" {
				t.Fatalf("%s is required here (TASKGATE_REQUIRE_SHELLCHECK is set): %v", tool, err)
			}
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
	var out []Image
	for _, img := range Images {
		img.Smoke = []Smoke{
			{[]string{"taskgate"}, "fake taskgate"},
			// git runs as the non-root user on a repository root owns
			{[]string{"git", "-C", "/tmp/smoke", "log", "--oneline"}, "add partners/smoke/0.1"},
		}
		for _, tool := range img.Tools {
			if strings.HasSuffix(tool, "/shellcheck") {
				img.Smoke = append(img.Smoke, Smoke{[]string{"shellcheck", "--version"}, "version: 0."})
			}
		}
		out = append(out, img)
	}
	return out
}

func TestBuildIsDeterministicAndRuns(t *testing.T) {
	specs := testImages(t)
	bin := fakeTaskgate(t)
	epoch := time.Unix(1700000000, 0).UTC()
	layerSets := map[string][]string{}
	for _, spec := range specs {
		img, err := Build(spec, bin, epoch)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Build(spec, bin, epoch)
		if err != nil {
			t.Fatal(err)
		}
		d1, _ := img.Digest()
		d2, _ := again.Digest()
		if d1 != d2 {
			t.Errorf("%s: two builds of the same inputs differ: %s, %s", spec.Name, d1, d2)
		}
		later, _ := Build(spec, bin, epoch.Add(time.Second))
		if d3, _ := later.Digest(); d3 == d1 {
			t.Errorf("%s: the epoch does not reach the image", spec.Name)
		}

		// through an OCI layout and back, unchanged
		dir := filepath.Join(t.TempDir(), spec.Name)
		if err := WriteLayout(dir, img); err != nil {
			t.Fatal(err)
		}
		back, err := ReadLayout(dir)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := back.Digest(); d != d1 {
			t.Errorf("%s: the layout holds %s, built %s", spec.Name, d, d1)
		}

		cf, _ := img.ConfigFile()
		if cf.Config.User != "65532:65532" || cf.Config.Entrypoint[0] != BinaryPath || !cf.Created.Time.Equal(epoch) || cf.OS != "linux" {
			t.Errorf("%s: config user %q, entrypoint %q, created %s, os %s", spec.Name, cf.Config.User, cf.Config.Entrypoint, cf.Created, cf.OS)
		}
		for _, h := range cf.History {
			if !h.Created.Time.Equal(epoch) || !strings.HasPrefix(h.CreatedBy, "imagebuild: ") {
				t.Errorf("%s: history %+v", spec.Name, h)
			}
		}
		layers, _ := img.Layers()
		for _, l := range layers {
			d, _ := l.Digest()
			layerSets[spec.Name] = append(layerSets[spec.Name], d.String())
		}

		if os.Geteuid() != 0 {
			t.Logf("not root: the images are not run (chroot needs root)")
			continue
		}
		var log bytes.Buffer
		if err := Verify(img, spec, &log); err != nil {
			t.Errorf("%v\n%s", err, log.String())
		}
	}
	// The scan image adds one layer (shellcheck) to the others'.
	base, scan := layerSets["taskgate"], layerSets["taskgate-scan"]
	if len(scan) != len(base)+1 || strings.Join(base[:2], ",") != strings.Join(scan[:2], ",") || base[len(base)-1] != scan[len(scan)-1] {
		t.Errorf("layers not shared:\n taskgate      %v\n taskgate-scan %v", base, scan)
	}
}

func TestVerifyFailsOnABrokenImage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	spec := testImages(t)[1]
	spec.Tools = []string{"/usr/bin/git"} // no shellcheck, yet the smoke runs it
	img, err := Build(spec, fakeTaskgate(t), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := Verify(img, spec, &log); err == nil || !strings.Contains(err.Error(), "shellcheck --version") {
		t.Errorf("want the missing shellcheck reported, got %v", err)
	}
}

func TestPushToARealRegistry(t *testing.T) {
	reg := registrytest.Start(t)
	spec := testImages(t)[0]
	img, err := Build(spec, fakeTaskgate(t), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Push(context.Background(), img, reg.Host+"/taskgate", spec.Name, "latest")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if ref != reg.Host+"/taskgate/taskgate@"+want.String() {
		t.Errorf("pushed %s, want the digest reference of %s", ref, want)
	}
	latest, err := name.ParseReference(reg.Host + "/taskgate/taskgate:latest")
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(latest)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := pulled.Digest(); d != want {
		t.Errorf("the registry's latest is %s, pushed %s", d, want)
	}
	if tags := reg.Tags(t, "taskgate/taskgate"); strings.Join(tags, ",") != "latest" {
		t.Errorf("tags %v", tags)
	}
	if _, err := Push(context.Background(), img, "Not A Registry!", spec.Name, "latest"); err == nil {
		t.Error("a bad prefix must be an error")
	}
}

func TestPin(t *testing.T) {
	dir := t.TempDir()
	old := strings.Repeat("0", 64)
	task := `spec:
  steps:
    - name: validate
      image: quay.io/taskgate/taskgate-scan@sha256:` + old + `
      command: [taskgate]
    - image: "quay.io/old/taskgate:v1"
    - name: other
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:` + old + `
    - image: taskgate
  sidecars:
    - image:   example.com/x/taskgate-scan:1.0@sha256:` + old + `   
`
	os.WriteFile(filepath.Join(dir, "task.yaml"), []byte(task), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("image: quay.io/taskgate/taskgate:v1\n"), 0o644)
	digests := map[string]string{"taskgate": "sha256:" + strings.Repeat("a", 64), "taskgate-scan": "sha256:" + strings.Repeat("b", 64)}
	changed, err := Pin(digests, "registry.example.com:5000/ns/", dir)
	if err != nil || len(changed) != 1 {
		t.Fatalf("changed %v, %v", changed, err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "task.yaml"))
	want := strings.NewReplacer(
		"quay.io/taskgate/taskgate-scan@sha256:"+old, "registry.example.com:5000/ns/taskgate-scan@"+digests["taskgate-scan"],
		`"quay.io/old/taskgate:v1"`, "registry.example.com:5000/ns/taskgate@"+digests["taskgate"],
		"image:   example.com/x/taskgate-scan:1.0@sha256:"+old+"   ", "image:   registry.example.com:5000/ns/taskgate-scan@"+digests["taskgate-scan"],
	).Replace(task)
	if string(got) != want {
		t.Errorf("pinned:\n%s\nwant:\n%s", got, want)
	}
	if again, _ := Pin(digests, "registry.example.com:5000/ns", dir); len(again) != 0 {
		t.Errorf("pinning twice changed %v", again)
	}
	if _, err := Pin(digests, "", dir); err == nil {
		t.Error("an empty registry prefix must be refused")
	}
}

// The Containerfiles build the same images where a container engine
// exists: same user, entrypoint, tools, static binary, scratch base.
func TestContainerfilesMatchTheBuilder(t *testing.T) {
	for _, spec := range Images {
		data, err := os.ReadFile(filepath.Join("..", "..", "images", spec.Name, "Containerfile"))
		if err != nil {
			t.Fatal(err)
		}
		cf := string(data)
		final := cf[strings.LastIndex(cf, "\nFROM "):]
		for _, want := range []string{"\nFROM scratch", "\nUSER 65532:65532", `ENTRYPOINT ["` + BinaryPath + `"]`, "ENV HOME=" + Home} {
			if !strings.Contains(final, want) {
				t.Errorf("%s: the final stage lacks %q", spec.Name, want)
			}
		}
		if !regexp.MustCompile(`CGO_ENABLED=0 go build -trimpath\b.*-ldflags="-s -w"`).MatchString(cf) {
			t.Errorf("%s: the binary is not built static and stripped", spec.Name)
		}
		for _, tool := range []string{"/usr/bin/git", "/usr/bin/shellcheck"} {
			has := strings.Contains(cf, "collect "+tool)
			if want := contains(spec.Tools, tool); has != want {
				t.Errorf("%s: Containerfile collects %s: %v, the builder: %v", spec.Name, tool, has, want)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
