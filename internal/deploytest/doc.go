// Package deploytest holds tests of the deployment files (Kubernetes manifests).
package deploytest
