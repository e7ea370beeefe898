package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"limitprobe/report"
	"limitprobe/simulate"
	"limitprobe/verify"
)

// safeName makes s, a scenario's name, fit to name its own output
// directory inside --out: "..", "." and "" would name --out's parent or
// --out itself.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
	if strings.Trim(s, ".") == "" {
		return "_" + s
	}
	return s
}

// resultsFile is DIR/results.bin being written: every result of a run in
// vegeta's encoding, buffered.
type resultsFile struct {
	f *os.File
	w *bufio.Writer
}

// createResults creates dir, if need be, and results.bin in it.
func createResults(dir string) (*resultsFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "results.bin"))
	if err != nil {
		return nil, err
	}
	return &resultsFile{f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

// Close flushes and closes the file. Its error is the first of the writes
// (the probe does not stop for them), the flush and the close.
func (r *resultsFile) Close() error {
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing results.bin: %w", err)
	}
	return nil
}

// writeReportFiles writes the report in every file format to dir.
func writeReportFiles(dir string, rep *report.Report) error {
	return writeFiles(dir, map[string]string{"report.json": "json", "report.md": "markdown", "report.html": "html"},
		func(w io.Writer, format string) error { return report.Write(w, rep, format, report.RenderOptions{}) })
}

// writeSimulationFiles writes the simulation in every file format to dir,
// creating it if need be.
func writeSimulationFiles(dir string, sim *simulate.Simulation) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeFiles(dir, map[string]string{"simulation.json": "json", "simulation.md": "markdown", "simulation.html": "html"},
		func(w io.Writer, format string) error { return report.WriteSimulation(w, sim, format) })
}

// writeFiles writes one file of dir per name, in the format it maps to.
func writeFiles(dir string, files map[string]string, write func(w io.Writer, format string) error) error {
	for name, format := range files {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		werr := write(f, format)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("writing %s: %w", name, werr)
		}
	}
	return nil
}

// writeVerificationFiles writes verify.json and the report with its
// Verification section to dir.
func writeVerificationFiles(dir string, rep *report.Report, v *verify.Verification) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "verify.json"))
	if err != nil {
		return err
	}
	werr := report.WriteVerification(f, v, report.FormatJSON)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("writing verify.json: %w", werr)
	}
	withV := *rep
	withV.Verification = v
	return writeReportFiles(dir, &withV)
}
