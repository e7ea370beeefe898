package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readGolden returns the bytes of testdata/name, or, with -update, writes
// got there and returns nil.
func readGolden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	return want
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	want := readGolden(t, name, got)
	if want != nil && !bytes.Equal(got, want) {
		t.Errorf("testdata/%s differs from the golden file; got:\n%s\n(run go test ./report -update after checking the change)", name, firstDiff(string(got), string(want)))
	}
}

// goldenJSON compares the JSON document got with testdata/name by meaning
// (both decoded, then compared), or rewrites the file with -update.
func goldenJSON(t *testing.T, name string, got []byte) {
	t.Helper()
	raw := readGolden(t, name, got)
	if raw == nil {
		return
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got no JSON: %v", err)
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	if where := jsonDiff("", g, w); where != "" {
		t.Errorf("testdata/%s differs from the golden file at %s (run go test ./report -update after checking the change)", name, where)
	}
}

// jsonDiff returns the path of the first place where two decoded JSON
// values differ, with both values; "" when they are equal.
func jsonDiff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if d := jsonDiff(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			break
		}
		for i := range w {
			if d := jsonDiff(path+"["+strconv.Itoa(i)+"]", g[i], w[i]); d != "" {
				return d
			}
		}
		return ""
	default:
		if reflect.DeepEqual(got, want) {
			return ""
		}
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	return fmt.Sprintf("%s: got %.200s, want %.200s", orText(path, "."), gb, wb)
}

// firstDiff shows the first line that differs, with its neighbours.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "(only trailing bytes differ)"
}

func TestGolden(t *testing.T) {
	formats := []struct {
		format, ext string
		opt         RenderOptions
	}{
		{FormatTable, "table", RenderOptions{}},
		{FormatMarkdown, "md", RenderOptions{}},
		{FormatHTML, "html", RenderOptions{}},
	}
	for _, fx := range fixtures() {
		for _, f := range formats {
			t.Run(fx.name+"/"+f.format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(&buf, fx.rep, f.format, f.opt); err != nil {
					t.Fatalf("Write: %v", err)
				}
				golden(t, fx.name+"."+f.ext+".golden", buf.Bytes())
			})
		}
		t.Run(fx.name+"/json", func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, fx.rep, FormatJSON, RenderOptions{}); err != nil {
				t.Fatalf("Write: %v", err)
			}
			goldenJSON(t, fx.name+".json.golden", buf.Bytes())
		})
	}
	t.Run("tokenbucket/table-color", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, fixtures()[0].rep, FormatTable, RenderOptions{Color: true}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		golden(t, "tokenbucket.color.table.golden", buf.Bytes())
	})
}

// TestWriteIsDeterministic guards the golden files: rendering twice gives
// the same bytes.
func TestWriteIsDeterministic(t *testing.T) {
	for _, f := range Formats {
		var a, b bytes.Buffer
		if err := Write(&a, fixtures()[0].rep, f, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := Write(&b, fixtures()[0].rep, f, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two renderings differ", f)
		}
	}
}

func TestTableFitsTerminal(t *testing.T) {
	for _, fx := range fixtures() {
		var buf bytes.Buffer
		if err := Write(&buf, fx.rep, FormatTable, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(buf.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > textWidth {
				t.Errorf("%s line %d: got %d columns, want ≤ %d: %q", fx.name, i+1, n, textWidth, line)
			}
		}
	}
}

func TestColorOnlyWhenAsked(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Write(&buf, fixtures()[0].rep, FormatTable, RenderOptions{Color: color}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(buf.String(), "\x1b["); got != color {
			t.Errorf("Color %t: got ANSI escapes %t, want %t", color, got, color)
		}
	}
	for _, f := range []string{FormatJSON, FormatMarkdown, FormatHTML} {
		var buf bytes.Buffer
		if err := Write(&buf, fixtures()[0].rep, f, RenderOptions{Color: true}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "\x1b[") {
			t.Errorf("%s with Color: got ANSI escapes, want none", f)
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, fixtures()[0].rep, "pdf", RenderOptions{})
	if err == nil || !strings.Contains(err.Error(), `"pdf"`) || !strings.Contains(err.Error(), "markdown") {
		t.Errorf("got %v, want an error naming the format and the choices", err)
	}
}
