// Package browser runs jobctl's pages in a real headless Chromium through
// chromedp, for tests. A test that needs a browser fails, never skips, when
// none can start: CI installs Debian's chromium (.ci/run).
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Path finds the browser: $JOBCTL_CHROMIUM, else Debian's chromium or a
// Chrome on PATH.
func Path() (string, error) {
	if p := os.Getenv("JOBCTL_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH: install Debian's chromium (apt-get install chromium), as .ci/run does, or set JOBCTL_CHROMIUM")
}

// Tab is one browser tab. It records the console's errors and uncaught
// exceptions (a CSP violation is one), so a test can require none.
type Tab struct {
	Ctx context.Context
	t   testing.TB

	mu   sync.Mutex
	errs []string
}

// Timeout bounds each step a test runs.
const Timeout = 30 * time.Second

// New starts a headless browser with one tab, closed when the test ends.
func New(t testing.TB) *Tab {
	t.Helper()
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("window-size", "1280,900"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser with no deadline
		t.Fatalf("starting %s: %v", path, err)
	}
	tab := &Tab{Ctx: ctx, t: t}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				tab.mu.Lock()
				tab.errs = append(tab.errs, m.String())
				tab.mu.Unlock()
			}
		}
	}()
	return tab
}

// Errors returns the console errors seen so far and forgets them.
func (b *Tab) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.errs
	b.errs = nil
	return e
}

// NoErrors fails the test if the page logged an error or threw.
func (b *Tab) NoErrors(t testing.TB, when string) {
	t.Helper()
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("%s: the browser console has errors:\n%s", when, strings.Join(errs, "\n"))
	}
}

// Do runs steps, failing the test on the first error.
func (b *Tab) Do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := bounded(b, func(ctx context.Context) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx, steps...)
	}); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// bounded runs f with the step's deadline and, should a wait not heed its
// context, gives up on it a little later rather than hang the test run.
func bounded[T any](b *Tab, f func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, Timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(Timeout + 5*time.Second):
		var zero T
		return zero, fmt.Errorf("no answer within %s", Timeout)
	}
}

// Run runs one action and returns its value, failing the test on error.
func Run[T any](t testing.TB, b *Tab, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := bounded(b, func(ctx context.Context) (T, error) { return chromedp.Run(ctx, a) })
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Eval evaluates a JavaScript expression.
func Eval[T any](t testing.TB, b *Tab, expr string) T {
	t.Helper()
	return Run(t, b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// WaitTrue polls a JavaScript expression until it is true.
func (b *Tab) WaitTrue(t testing.TB, what, expr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, Timeout)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not true within %s (last error %v)", what, expr, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Scheme emulates prefers-color-scheme: "light" or "dark".
func (b *Tab) Scheme(t testing.TB, scheme string) {
	t.Helper()
	if _, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		t.Fatalf("emulating %s: %v", scheme, err)
	}
}

// Width sets the viewport width in CSS pixels, one device pixel each (a
// screenshot stays small); a phone's (under 600) is 812 high, others 900.
func (b *Tab) Width(t testing.TB, width int64) {
	t.Helper()
	height := int64(900)
	if width < 600 {
		height = 812
	}
	b.Do(t, fmt.Sprintf("viewport %d", width), chromedp.EmulateViewport(width, height))
}

// Screenshot saves what the viewport shows as a PNG at path, compressed
// as tightly as Go's encoder can: the README's screenshots are committed,
// so the first screen is shown, not the whole scrolled page.
func (b *Tab) Screenshot(t testing.TB, path string) {
	t.Helper()
	shot := Run(t, b, "screenshot", chromedp.CaptureScreenshot())
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
