package render

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestRelativeTime(t *testing.T) {
	now := TestNow
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "just now"},
		{999 * time.Millisecond, "just now"},
		{-500 * time.Millisecond, "just now"},
		{2 * time.Second, "2s ago"},
		{59 * time.Second, "59s ago"},
		{5*time.Minute + 59*time.Second, "5m ago"},
		{3 * time.Hour, "3h ago"},
		{4*24*time.Hour + 5*time.Hour, "4d ago"},
		{-5 * time.Minute, "in 5m"},
		{-2 * 24 * time.Hour, "in 2d"},
	}
	for _, tt := range tests {
		if got := RelativeTime(now.Add(-tt.ago), now); got != tt.want {
			t.Errorf("RelativeTime(now-%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0ms"},
		{120 * time.Millisecond, "120ms"},
		{25 * time.Second, "25s"},
		{25*time.Second + 900*time.Millisecond, "25s"},
		{65 * time.Second, "1m5s"},
		{time.Minute, "1m"},
		{2*time.Hour + 3*time.Minute + 4*time.Second, "2h3m"},
		{2 * time.Hour, "2h"},
		{3*24*time.Hour + 4*time.Hour + 5*time.Minute, "3d4h"},
		{-25 * time.Second, "-25s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	tests := map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 1234: "1,234",
		123456: "123,456", 1234567: "1,234,567", -1234: "-1,234",
		-9223372036854775808: "-9,223,372,036,854,775,808",
	}
	for n, want := range tests {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		got, err := ParseFormat(strings.ToUpper(f))
		if err != nil || string(got) != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if got, err := ParseFormat(""); err != nil || got != FormatTable {
		t.Errorf(`ParseFormat("") = %q, %v, want table`, got, err)
	}
	_, err := ParseFormat("xml")
	if err == nil || !strings.Contains(err.Error(), "table, wide, json, jsonl, yaml, csv") {
		t.Errorf("ParseFormat(xml) error = %v, want the allowed values listed", err)
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		input string
		want  bool
		eof   bool // ErrNoAnswer, and a newline after the question
	}{
		{"y\n", true, false},
		{"yes\n", true, false},
		{" YES \n", true, false},
		{"y", false, true}, // typed, then Ctrl-D: never confirmed
		{"n\n", false, false},
		{"\n", false, false},
		{"", false, true}, // end of input
		{"yep\n", false, false},
	}
	for _, tt := range tests {
		ios, in, out, errOut := Test(true, true)
		in.WriteString(tt.input)
		if strings.HasSuffix(tt.input, "\n") {
			in.WriteString("rest")
		}
		got, err := ios.Confirm(context.Background(), "Delete 3 jobs?")
		if tt.eof != errors.Is(err, ErrNoAnswer) || err != nil && !tt.eof {
			t.Fatalf("Confirm(%q): error %v, want ErrNoAnswer %v", tt.input, err, tt.eof)
		}
		if got != tt.want {
			t.Errorf("Confirm(%q) = %v, want %v", tt.input, got, tt.want)
		}
		want := "Delete 3 jobs? [y/N] "
		if tt.eof {
			want += "\n"
		}
		if errOut.String() != want || out.Len() != 0 {
			t.Errorf("prompt went to stdout %q / stderr %q", out, errOut)
		}
		// Only the answer's line is consumed.
		if strings.HasSuffix(tt.input, "\n") && in.String() != "rest" {
			t.Errorf("Confirm(%q) left %q unread, want %q", tt.input, in, "rest")
		}
	}
}

// blockedReader is a terminal nobody types at: Read waits until released.
type blockedReader struct{ release chan struct{} }

func (r blockedReader) Read([]byte) (int, error) {
	<-r.release
	return 0, io.EOF
}

// TestConfirmInterrupt: a cancelled context (Ctrl-C) ends the question at
// once, though the read it started cannot be interrupted.
func TestConfirmInterrupt(t *testing.T) {
	ios, _, out, errOut := Test(true, true)
	r := blockedReader{release: make(chan struct{})}
	defer close(r.release)
	ios.In = r
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	got, err := ios.Confirm(ctx, "Delete 3 jobs?")
	if got || !errors.Is(err, context.Canceled) {
		t.Fatalf("Confirm after Ctrl-C = %v, %v; want false, context.Canceled", got, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Confirm took %s to notice Ctrl-C", d)
	}
	if errOut.String() != "Delete 3 jobs? [y/N] \n" || out.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
}

func TestProgressText(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{120_000, 1_000_000, 1412 * time.Millisecond, "archived 120,000 / 1,000,000 — 85k/s"},
		{120_000, 0, 0, "archived 120,000"},
		{500, -1, 2 * time.Second, "archived 500 — 250/s"},
		{3_000_000, 0, time.Second, "archived 3,000,000 — 3.0M/s"},
		{8_500, 0, time.Second, "archived 8,500 — 8.5k/s"},
	}
	for _, tt := range tests {
		if got := progressText("archived", tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("progressText(%d, %d, %v) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo world", 5); got != "héll…" {
		t.Errorf("got %q", got)
	}
	if got := truncate("short", 10); got != "short" {
		t.Errorf("got %q", got)
	}
}

func TestCountOf(t *testing.T) {
	for _, c := range []struct {
		n    int64
		noun string
		want string
	}{{0, "job", "0 jobs"}, {1, "job", "1 job"}, {1234, "job", "1,234 jobs"}, {2, "more problem", "2 more problems"}, {1, "CalendarSync job", "1 CalendarSync job"}} {
		if got := CountOf(c.n, c.noun); got != c.want {
			t.Errorf("CountOf(%d, %q) = %q; want %q", c.n, c.noun, got, c.want)
		}
	}
}
