package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"limitprobe/probe"
	"limitprobe/units"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressPrinter shows a run's progress on stderr: a bar redrawn in place
// on a terminal, one line per finished step otherwise.
type progressPrinter struct {
	w    io.Writer
	tty  bool
	name string
}

func (p *progressPrinter) update(pr probe.Progress) {
	if pr.Finished != nil {
		s := pr.Finished
		if p.tty {
			fmt.Fprint(p.w, "\r\033[K")
		}
		fmt.Fprintf(p.w, "%s step %d %-11s %-10s sent %6d  ok %6d  throttled %6d (%5.1f%%)  errors %4d  goodput %s\n",
			p.name, s.Index+1, s.Phase, offered(s.OfferedRPS, s.Concurrency), s.Requests, s.OK, s.Throttled, s.ThrottledRatio*100, s.Errors, units.FormatRate(s.GoodputRPS))
		return
	}
	if !p.tty {
		return
	}
	var frac float64
	status := ""
	switch {
	case pr.Cooldown > 0:
		status = fmt.Sprintf("cooling down %v", pr.Cooldown.Round(100*time.Millisecond))
	case pr.StepDuration > 0:
		frac = min(1, pr.StepElapsed.Seconds()/pr.StepDuration.Seconds())
	}
	const width = 20
	bar := strings.Repeat("█", int(frac*width)) + strings.Repeat("░", width-int(frac*width))
	fmt.Fprintf(p.w, "\r\033[Kstep %d/%d %s %s %s  sent %d  ok %d  throttled %d  errors %d  %s/%s %s",
		pr.Step, pr.Steps, pr.Phase, offered(pr.OfferedRPS, pr.Concurrency), bar, pr.Sent, pr.OK, pr.Throttled, pr.Errors,
		pr.Elapsed.Round(100*time.Millisecond), pr.MaxDuration, status)
}

func offered(rps float64, workers int) string {
	if workers > 0 {
		return fmt.Sprintf("%d workers", workers)
	}
	return units.FormatRate(rps)
}
