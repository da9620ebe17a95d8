// Package simproc runs the simulated tenant in a process of its own (internal/simtenantd), for
// benchmarks that measure the exporter's process alone.
package simproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Info are the connection details the helper writes.
type Info struct {
	GraphEndpoint string `json:"graph_endpoint"`
	AuthorityHost string `json:"authority_host"`
	TenantID      string `json:"tenant_id"`
	ClientID      string `json:"client_id"`
	SecretFile    string `json:"secret_file"`
	CAFile        string `json:"ca_file"`
	Control       string `json:"control"`
}

// Proc is a running simulated tenant.
type Proc struct {
	Info
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// Build compiles the helper into dir and returns its path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "simtenantd")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/entra-mfa-exporter/entra-mfa-exporter/internal/simtenantd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building simtenantd: %v\n%s", err, out)
	}
	return bin, nil
}

// Start runs the helper binary bin with args (its flags, --info excepted) and waits until it
// serves.
func Start(bin, dir string, args ...string) (*Proc, error) {
	infoFile := filepath.Join(dir, "simtenantd.json")
	cmd := exec.Command(bin, append([]string{"--info=" + infoFile}, args...)...)
	cmd.Stderr = os.Stderr
	// The Go runtime settings a benchmark gives the exporter's process are not the simulated
	// tenant's: a memory limit meant for the exporter would make the tenant collect garbage
	// without end.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GODEBUG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, stdin: stdin}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		data, err := os.ReadFile(infoFile)
		if err == nil {
			if err := json.Unmarshal(data, &p.Info); err != nil {
				p.Close()
				return nil, err
			}
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, errors.New("simtenantd did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pid is the helper's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Close stops the helper.
func (p *Proc) Close() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func (p *Proc) post(path string, q url.Values) error {
	resp, err := http.Post(p.Control+path+"?"+q.Encode(), "text/plain", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simtenantd %s: %s: %s", path, resp.Status, body)
	}
	return nil
}

// SetClock sets the helper's clock (started with --fake-clock).
func (p *Proc) SetClock(t time.Time) error {
	return p.post("/clock", url.Values{"t": {t.UTC().Format(time.RFC3339Nano)}})
}

// Backfill generates flows with createdDateTime in [from, to).
func (p *Proc) Backfill(from, to time.Time, flowsPerSecond float64) error {
	return p.post("/backfill", url.Values{"from": {from.UTC().Format(time.RFC3339Nano)},
		"to": {to.UTC().Format(time.RFC3339Nano)}, "rate": {fmt.Sprint(flowsPerSecond)}})
}

// Truth returns how many flows and rows were generated so far.
func (p *Proc) Truth() (flows, rows int, err error) {
	resp, err := http.Get(p.Control + "/truth")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var t struct{ Flows, Rows int }
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return 0, 0, err
	}
	return t.Flows, t.Rows, nil
}
