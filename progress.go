package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"limitprobe/probe"
	"limitprobe/units"
	"limitprobe/verify"
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

// verifyProgress shows verify's progress on stderr: a line per finished
// policy, and a line redrawn in place on a terminal.
type verifyProgress struct {
	w        io.Writer
	tty      bool
	quiet    bool
	duration time.Duration
	coolWhy  string // why verify pauses between policies
	drawn    bool
}

func (vp *verifyProgress) update(pr verify.Progress) {
	if vp.quiet {
		return
	}
	if pr.Cooldown > 0 {
		vp.clear()
		fmt.Fprintf(vp.w, "verify: waiting %v for the target's limiter to recover (%s) before %s\n", pr.Cooldown, vp.coolWhy, pr.Policy)
		return
	}
	if res := pr.Result; res != nil {
		vp.clear()
		fmt.Fprintf(vp.w, "verify %d/%d %-11s %5d requests  success %5.1f%%  throttled %.3g/request  retries %.3g/request  goodput %s  (%v)\n",
			pr.Index+1, pr.Count, pr.Policy, res.Requests, res.SuccessRatio*100, res.ThrottledPerRequest, res.RetriesPerRequest,
			units.FormatRate(math.Max(res.GoodputRPS, units.MinRate)), time.Duration(res.WallS*float64(time.Second)).Round(100*time.Millisecond))
		return
	}
	if !vp.tty {
		if pr.Elapsed == 0 {
			fmt.Fprintf(vp.w, "verify %d/%d %s: sending\n", pr.Index+1, pr.Count, pr.Policy)
		}
		return
	}
	fmt.Fprintf(vp.w, "\r\033[Kverify %d/%d %s  %v/%v  sent %d  ok %d  throttled %d",
		pr.Index+1, pr.Count, pr.Policy, pr.Elapsed.Round(time.Second), vp.duration, pr.Requests, pr.OK, pr.Throttled)
	vp.drawn = true
}

// clear removes the line redrawn in place, if any.
func (vp *verifyProgress) clear() {
	if vp.drawn {
		fmt.Fprint(vp.w, "\r\033[K")
		vp.drawn = false
	}
}
