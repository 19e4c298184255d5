// Command bundle-resolver is Tekton's resolvers process with the bundles
// resolver alone (cmd/resolvers also links the git, hub and http
// resolvers, whose modules this one does not carry): e2e pulls a Task
// back from a bundle through Tekton's own resolver code with it. One
// replica, so no leader election; its readiness on 127.0.0.1:$PROBES_PORT
// (knative's own probe server would take :8080, which the controller's has).
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/tektoncd/pipeline/pkg/apis/resolution/v1alpha1"
	"github.com/tektoncd/pipeline/pkg/remoteresolution/resolver/bundle"
	"github.com/tektoncd/pipeline/pkg/remoteresolution/resolver/framework"
	filteredinformerfactory "knative.dev/pkg/client/injection/kube/informers/factory/filtered"
	"knative.dev/pkg/injection"
	"knative.dev/pkg/injection/sharedmain"
	"knative.dev/pkg/signals"
)

func main() {
	ctx := filteredinformerfactory.WithSelectors(signals.NewContext(), v1alpha1.ManagedByLabelKey)
	ctx = sharedmain.WithHealthProbesDisabled(sharedmain.WithHADisabled(ctx))
	cfg := injection.ParseAndGetRESTConfigOrDie()
	go func() {
		ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
		log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Getenv("PROBES_PORT"), http.HandlerFunc(ok))) // #nosec G114 -- a test's loopback probe
	}()
	sharedmain.MainWithConfig(ctx, "controller", cfg, framework.NewController(ctx, &bundle.Resolver{}))
}
