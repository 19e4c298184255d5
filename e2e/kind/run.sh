#!/usr/bin/env bash
# The e2e on kind with a real Tekton: for machines with Docker and network
# access (not the build machine: it has neither). Creates a kind cluster,
# installs Tekton Pipelines, runs the Go tests tagged `kind`, deletes the
# cluster. Needs: docker, kind, kubectl, go.
#   e2e/kind/run.sh            # TEKTON_VERSION=v1.15.0 KIND_NODE_IMAGE=kindest/node:v1.35.0 to pin
set -euo pipefail
cd "$(dirname "$0")/../.."

CLUSTER=${KIND_CLUSTER:-taskgate-e2e}
TEKTON_VERSION=${TEKTON_VERSION:-v1.15.0}
KUBECONFIG_FILE=$(mktemp)
export KUBECONFIG=$KUBECONFIG_FILE

for tool in docker kind kubectl go; do
  command -v "$tool" >/dev/null || { echo "e2e/kind: $tool is required" >&2; exit 2; }
done

cleanup() {
  if [ -z "${KEEP_CLUSTER:-}" ]; then
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
    rm -f "$KUBECONFIG_FILE"
  else
    echo "e2e/kind: kept cluster $CLUSTER (KUBECONFIG=$KUBECONFIG_FILE)"
  fi
}
trap cleanup EXIT

kind create cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG_FILE" --wait 180s ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}

# Tekton's release, then the flag that makes its own containers pass Pod
# Security "restricted" (the sandbox namespaces enforce it).
kubectl apply -f "https://infra.tekton.dev/tekton-releases/pipeline/previous/${TEKTON_VERSION}/release.yaml"
kubectl -n tekton-pipelines patch configmap feature-flags --type merge \
  -p '{"data":{"set-security-context":"true","coschedule":"disabled"}}'
kubectl -n tekton-pipelines rollout status deployment/tekton-pipelines-controller --timeout=300s
kubectl -n tekton-pipelines rollout status deployment/tekton-pipelines-webhook --timeout=300s

go test -tags kind -count=1 -timeout 30m -v ./e2e/kind/ "$@"
