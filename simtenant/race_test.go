//go:build race

package simtenant

// The race detector slows the generator down about tenfold; long simulations shorten under it.
func init() { raceEnabled = true }
