package deploytest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/config"
)

type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				Containers []struct {
					Args  []string `yaml:"args"`
					Ports []struct {
						ContainerPort int `yaml:"containerPort"`
					} `yaml:"ports"`
					LivenessProbe struct {
						HTTPGet struct{ Path string } `yaml:"httpGet"`
					} `yaml:"livenessProbe"`
					ReadinessProbe struct {
						HTTPGet struct{ Path string } `yaml:"httpGet"`
					} `yaml:"readinessProbe"`
					VolumeMounts []struct {
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func decodeAll(t *testing.T, path string) []manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []manifest
	for {
		var m manifest
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
}

// The manifests cannot be applied here (no cluster); this checks what they promise: the
// embedded configuration is valid for the exporter, probes hit the real endpoints, the
// container runs as non-root and mounts what its arguments refer to.
func TestKubernetesManifests(t *testing.T) {
	docs := decodeAll(t, "../../deploy/kubernetes/exporter.yaml")
	kinds := map[string]manifest{}
	for _, d := range docs {
		kinds[d.Kind] = d
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service", "ServiceAccount"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("no %s in exporter.yaml", k)
		}
	}
	cm := kinds["ConfigMap"].Data["config.yml"]
	// The referenced secret file does not exist here; the config must fail only on that.
	_, err := config.Parse([]byte(cm), "configmap:config.yml")
	if err == nil || !strings.Contains(err.Error(), "client_secret_file") || strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("ConfigMap config.yml: want exactly one error about the missing client_secret_file, got: %v", err)
	}
	pod := kinds["Deployment"].Spec.Template.Spec
	if !pod.SecurityContext.RunAsNonRoot {
		t.Error("Deployment does not set runAsNonRoot")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.LivenessProbe.HTTPGet.Path != "/-/healthy" || c.ReadinessProbe.HTTPGet.Path != "/-/ready" {
		t.Errorf("probes: liveness %q, readiness %q", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if len(c.Ports) == 0 || c.Ports[0].ContainerPort != 9905 {
		t.Errorf("container port: %+v, want 9905", c.Ports)
	}
	mounted := func(path string) bool {
		for _, m := range c.VolumeMounts {
			if strings.HasPrefix(path, m.MountPath+"/") {
				return true
			}
		}
		return false
	}
	storage := ""
	for _, a := range c.Args {
		if f, ok := strings.CutPrefix(a, "--config.file="); ok && !mounted(f) {
			t.Errorf("--config.file %s is not under a mounted volume", f)
		}
		if d, ok := strings.CutPrefix(a, "--storage.path="); ok {
			storage = d
		}
	}
	if storage == "" || !mounted(storage+"/x.state.json") {
		t.Errorf("--storage.path %q is not a mounted volume: counts would reset at every restart", storage)
	}
	if _, ok := kinds["PersistentVolumeClaim"]; !ok {
		t.Error("no PersistentVolumeClaim for the state")
	}
	if !strings.Contains(cm, "/var/run/secrets/entra-mfa-exporter/") || !mounted("/var/run/secrets/entra-mfa-exporter/client-secret") {
		t.Error("the client secret file named in the ConfigMap is not mounted")
	}
}
