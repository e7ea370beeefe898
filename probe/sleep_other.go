//go:build !linux

package probe

import "time"

// sleepFine waits until t with the runtime's sleep.
func sleepFine(t time.Time) { time.Sleep(time.Until(t)) }
