package localcp

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
)

// apiServiceIP is the first address of --service-cluster-ip-range: the
// `kubernetes` Service's, which the kubelet gives every pod as
// KUBERNETES_SERVICE_HOST (port 443).
const apiServiceIP = "10.96.0.1"

// exposeToPods makes what pods need on the host reachable from the pod
// network. There is no kube-proxy: the API server's service address is put
// on the bridge and forwarded to the API server on loopback (an in-cluster
// client verifies it: the API server's certificate names 10.96.0.1), and
// the registry is forwarded on the bridge address (PodRegistry), for Tasks
// that push to it. Only pods and the host reach the bridge.
func (c *Cluster) exposeToPods() error {
	if out, err := exec.Command("ip", "addr", "add", apiServiceIP+"/32", "dev", bridgeName).CombinedOutput(); err != nil {
		return fmt.Errorf("ip addr add %s: %v: %s", apiServiceIP, err, out)
	}
	api, err := url.Parse(c.Config.Host)
	if err != nil {
		return err
	}
	if err := c.forward(apiServiceIP+":443", api.Host); err != nil {
		return err
	}
	_, port, _ := strings.Cut(c.Registry, ":")
	c.PodRegistry = NodeIP + ":" + port
	return c.forward(c.PodRegistry, c.Registry)
}

// forward relays every TCP connection to listen on to target until Stop.
func (c *Cluster) forward(listen, target string) error {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("forwarding %s to %s: %w", listen, target, err)
	}
	c.listeners = append(c.listeners, l)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return // closed by Stop
			}
			go relay(conn, target)
		}
	}()
	return nil
}

func relay(conn net.Conn, target string) {
	defer conn.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	var once sync.Once
	done := make(chan struct{})
	for _, p := range [][2]net.Conn{{up, conn}, {conn, up}} {
		go func() {
			_, _ = io.Copy(p[0], p[1])
			once.Do(func() { close(done) })
		}()
	}
	<-done
}
