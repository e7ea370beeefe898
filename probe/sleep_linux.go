package probe

import (
	"syscall"
	"time"
)

// sleepFine waits until t with the kernel's sleep, which wakes within tens
// of microseconds. The goroutine holds its thread meanwhile; the runtime
// hands the thread's processor to other goroutines.
func sleepFine(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		if syscall.Nanosleep(&ts, nil) == nil {
			return
		}
		// Interrupted by a signal (the runtime preempts with SIGURG): go on.
	}
}
