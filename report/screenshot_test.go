package report

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestHTMLRendersInChromium opens the HTML report of a fixture run in
// headless Chromium, offline, and checks the screenshot shows drawn charts
// rather than a blank or broken page.
func TestHTMLRendersInChromium(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, New(tokenBucketRun(), Options{ToolVersion: "test"}), FormatHTML, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, buf.Bytes())
}

// checkScreenshot renders page in headless Chromium, offline, and checks
// the screenshot is neither blank nor broken. It skips when chromium is
// missing, but in CI.
func checkScreenshot(t *testing.T, page []byte) {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required in CI (.ci/run installs it)")
		}
		t.Skip("chromium not installed (apt-get install chromium); CI runs this test")
	}
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	if err := os.WriteFile(html, page, 0o600); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	cmd := exec.Command("../scripts/screenshot.sh", html, shot)
	cmd.Env = append(os.Environ(), "WIDTH=1000", "HEIGHT=1400")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	b := img.Bounds()
	colors := map[uint32]bool{}
	var inked, total int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			total++
			if r < 0xe000 || g < 0xe000 || bl < 0xe000 {
				inked++
			}
		}
	}
	if len(colors) < 50 || inked*100 < total*3 {
		t.Errorf("screenshot looks blank: %d colours, %d of %d sampled pixels inked", len(colors), inked, total)
	}
}
