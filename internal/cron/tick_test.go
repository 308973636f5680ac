package cron

import (
	"testing"
	"time"
)

func TestNextTick(t *testing.T) {
	at := time.Date(2025, 10, 25, 21, 30, 0, 0, time.UTC)
	got, err := NextTick("0 0 * * *", "UTC", at)
	if err != nil || !got.Equal(time.Date(2025, 10, 26, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTC midnight: %v %v", got, err)
	}
	if _, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		got, err = NextTick("0 9 * * *", "Asia/Tokyo", at)
		if err != nil || !got.Equal(time.Date(2025, 10, 26, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("09:00 Tokyo: %v %v; want 00:00 UTC", got, err)
		}
	}
	for _, bad := range [][2]string{{"0 25 * * *", "UTC"}, {"0 0 * * *", "Mars/Base"}, {"0 0 30 2 *", "UTC"}} {
		if _, err := NextTick(bad[0], bad[1], at); err == nil {
			t.Errorf("NextTick(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}
