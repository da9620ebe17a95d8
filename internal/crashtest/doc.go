// Package crashtest holds the crash test: it runs the real exporter binary against the simulated
// tenant, kills it with SIGKILL at random points many times, restarts it, and compares the final
// counters with the simulated tenant's ground truth.
package crashtest
