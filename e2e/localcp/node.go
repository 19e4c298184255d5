package localcp

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The node: one kubelet on Debian's containerd and runc, pods on a bridge.
const (
	NodeName   = "taskgate-node"
	bridgeName = "tge2e0"
	podSubnet  = "10.244.0.0/24"
	nodeIP     = "10.244.0.1" // the bridge's address: the node's InternalIP
	nodeToken  = "taskgate-e2e-node"
	// serviceSubnet is --service-cluster-ip-range: pods route it to the
	// host (exposeToPods answers there), nothing else beyond the bridge
	serviceSubnet = "10.96.0.0/16"
)

// NodeIP is the host's address on the pod bridge: what a pod reaches a
// server of the test at (127.0.0.1 is the pod's own).
const NodeIP = nodeIP

// The Debian programs the node runs (packages containerd, runc,
// containernetworking-plugins); containerd finds runc and its shim on
// PATH.
var (
	ContainerdBinary = "/usr/bin/containerd"
	CtrBinary        = "/usr/bin/ctr"
	CNIBinDir        = "/usr/lib/cni"
)

// Prerequisites says what this machine lacks to run the cluster: root
// and Debian's packages (make deps); nil when nothing.
func Prerequisites() error {
	var missing []string
	for p, pkg := range map[string]string{
		ContainerdBinary: "containerd", CtrBinary: "containerd", "/usr/sbin/runc": "runc",
		filepath.Join(CNIBinDir, "bridge"): "containernetworking-plugins", filepath.Join(CNIBinDir, "host-local"): "containernetworking-plugins",
		RegistryBinary: "docker-registry", BusyboxBinary: "busybox-static", "/usr/sbin/ip": "iproute2",
	} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", p, pkg))
		}
	}
	sort.Strings(missing)
	if os.Geteuid() != 0 {
		missing = append(missing, "root (containerd, runc and the pod network need it)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("localcp needs %s: run `make deps` as root", strings.Join(missing, ", "))
	}
	return nil
}

// startNode starts containerd (its own root, state and socket in Dir),
// the pod bridge and a kubelet registered as NodeName, and waits until
// the node is Ready and schedulable.
func (c *Cluster) startNode(ctx context.Context, bins map[string]string) error {
	if err := c.startContainerd(ctx); err != nil {
		return err
	}
	if err := c.startKubelet(ctx, bins["kubelet"]); err != nil {
		return err
	}
	nodes := c.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "nodes"})
	return c.poll(ctx, "node "+NodeName+" ready", 120*time.Second, func() (bool, error) {
		n, err := nodes.Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		taints, _, _ := unstructured.NestedSlice(n.Object, "spec", "taints")
		conds, _, _ := unstructured.NestedSlice(n.Object, "status", "conditions")
		for _, cd := range conds {
			m, _ := cd.(map[string]any)
			if m["type"] == "Ready" {
				if m["status"] == "True" && len(taints) == 0 {
					return true, nil
				}
				return false, fmt.Errorf("Ready %v: %v; taints %v", m["status"], m["message"], taints)
			}
		}
		return false, nil
	})
}

func (c *Cluster) containerdSocket() string { return c.path("containerd", "containerd.sock") }

func (c *Cluster) startContainerd(ctx context.Context) error {
	// the registry on loopback speaks plain HTTP
	hosts := c.path("containerd", "certs.d", c.Registry)
	if err := os.MkdirAll(hosts, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(hosts, "hosts.toml"), []byte(fmt.Sprintf(
		"server = \"http://%[1]s\"\n\n[host.\"http://%[1]s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", c.Registry)), 0o644); err != nil {
		return err
	}
	netd := c.path("cni", "net.d")
	if err := os.MkdirAll(netd, 0o755); err != nil {
		return err
	}
	conflist := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "taskgate-e2e", "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": %q, "gateway": %q}]], "routes": [{"dst": %q}], "dataDir": %q}}
]}
`, bridgeName, podSubnet, nodeIP, serviceSubnet, c.path("cni", "ipam"))
	if err := os.WriteFile(filepath.Join(netd, "10-taskgate-e2e.conflist"), []byte(conflist), 0o644); err != nil {
		return err
	}
	// The bridge exists before the kubelet starts, so the node's address
	// (the pods' gateway) is there to be validated; one left by a killed
	// run is replaced.
	_ = exec.Command("ip", "link", "del", bridgeName).Run()
	for _, args := range [][]string{
		{"link", "add", bridgeName, "type", "bridge"},
		{"addr", "add", nodeIP + "/24", "dev", bridgeName},
		{"link", "set", bridgeName, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	c.bridge = true
	// restrict_oom_score_adj: these machines lack CAP_SYS_RESOURCE, so a
	// negative oom_score_adj (the sandbox's -998) fails and no pod starts
	cfg := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = "%[3]s.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[6]q
    conf_dir = %[7]q
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %[8]q
`, c.path("containerd", "root"), c.path("containerd", "state"), c.containerdSocket(), c.path("containerd", "opt"),
		c.Images["pause"], CNIBinDir, netd, c.path("containerd", "certs.d"))
	if err := os.WriteFile(c.path("containerd", "config.toml"), []byte(cfg), 0o644); err != nil {
		return err
	}
	if err := c.start("containerd", ContainerdBinary, nil, "--config", c.path("containerd", "config.toml")); err != nil {
		return err
	}
	return c.poll(ctx, "containerd", 60*time.Second, func() (bool, error) {
		out, err := c.ctr(ctx, "version")
		return err == nil, fmt.Errorf("%v: %s", err, out)
	})
}

// ctr runs containerd's client against this node's containerd, in the
// CRI's namespace.
func (c *Cluster) ctr(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, CtrBinary, append([]string{"--address", c.containerdSocket(), "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	return string(out), err
}

func (c *Cluster) startKubelet(ctx context.Context, bin string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	dir := c.path("kubelet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: "e2e", cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: "node", user: {token: %q}}]
contexts: [{name: "e2e", context: {cluster: "e2e", user: "node"}}]
current-context: "e2e"
`, c.Config.Host, nodeToken)
	// cgroup v1 without systemd: cgroupfs, no QoS hierarchy, nothing
	// reserved; eviction thresholds a shared CI disk never reaches; the
	// kubelet's API on the bridge only, open to the API server (logs)
	cfg := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %q
port: %d
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: "unix://%s"
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failCgroupV1: false
failSwapOn: false
evictionHard: {"memory.available": "1Mi", "nodefs.available": "1%%", "imagefs.available": "1%%", "nodefs.inodesFree": "1%%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: %q
serializeImagePulls: false
maxPods: 50
`, nodeIP, ports[0], c.containerdSocket(), c.path("pod-logs"))
	for name, data := range map[string]string{"kubeconfig": kc, "config.yaml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	return c.start("kubelet", bin, nil,
		"--config="+filepath.Join(dir, "config.yaml"), "--kubeconfig="+filepath.Join(dir, "kubeconfig"),
		"--root-dir="+filepath.Join(dir, "root"), "--cert-dir="+filepath.Join(dir, "pki"),
		"--hostname-override="+NodeName, "--node-ip="+nodeIP)
}

// stopNode, after the kubelet has stopped: kills every container the
// node still runs (their shims outlive containerd), then containerd
// stops with the others.
func (c *Cluster) stopNode() {
	ctx := context.Background()
	out, err := c.ctr(ctx, "tasks", "ls", "-q")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		_, _ = c.ctr(ctx, "tasks", "kill", "--all", "--signal", "SIGKILL", id)
	}
	for _, id := range strings.Fields(out) {
		for range 20 {
			if _, err := c.ctr(ctx, "tasks", "rm", "--force", id); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// unmountAll detaches what the node mounted under Dir (container root
// file systems, /dev/shm, tmpfs volumes), deepest first, so Dir can go.
func (c *Cluster) unmountAll() {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var mounts []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && (fields[4] == c.Dir || strings.HasPrefix(fields[4], c.Dir+"/")) {
			mounts = append(mounts, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, m := range mounts {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}
