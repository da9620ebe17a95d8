// Package deploytest holds tests of the deployment files (Kubernetes manifests, the systemd unit)
// and of what the repository ships besides code (no build outputs, licence, security policy).
package deploytest
