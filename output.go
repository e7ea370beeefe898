package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"limitprobe/report"
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
	for name, format := range map[string]string{"report.json": "json", "report.md": "markdown", "report.html": "html"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		werr := report.Write(f, rep, format, report.RenderOptions{})
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
