package render

import (
	"strings"
	"testing"

	"github.com/muesli/termenv"

	"github.com/jobctl/jobctl/internal/store"
)

// With 16 colours every status keeps a colour of its own where the guide
// tells them apart: RETRYING is yellow, FAILED red (issue 9).
func TestStatusColours16(t *testing.T) {
	ios, _, _, _ := Test(false, true)
	ios.renderer.SetColorProfile(termenv.ANSI)
	ios.styles = newStyles(ios.renderer)
	sgr := map[store.Status]string{}
	for _, st := range []store.Status{store.StatusRetrying, store.StatusFailed, store.StatusRunning, store.StatusDead} {
		text := ios.StatusText(st)
		// The foreground is the SGR before the status's name: ESC[1;33m.
		start := strings.Index(text, "\x1b[")
		end := strings.Index(text, string(st))
		if start < 0 || end < start {
			t.Fatalf("StatusText(%s) = %q; want it coloured", st, text)
		}
		sgr[st] = text[start:end]
	}
	if !strings.Contains(sgr[store.StatusRetrying], "33") {
		t.Errorf("RETRYING with 16 colours = %q; want yellow (33)", sgr[store.StatusRetrying])
	}
	if !strings.Contains(sgr[store.StatusFailed], "91") {
		t.Errorf("FAILED with 16 colours = %q; want bright red (91)", sgr[store.StatusFailed])
	}
	if sgr[store.StatusRetrying] == sgr[store.StatusFailed] || sgr[store.StatusRetrying] == sgr[store.StatusRunning] || sgr[store.StatusFailed] == sgr[store.StatusDead] {
		t.Errorf("16-colour statuses not distinct: %q", sgr)
	}
	// 256 colours keep the guide's orange.
	ios, _, _, _ = Test(false, true)
	if got := ios.StatusText(store.StatusRetrying); !strings.Contains(got, "38;5;208") {
		t.Errorf("RETRYING with 256 colours = %q; want orange 208", got)
	}
}
