package cron

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// values lists the set bits of a field, for readable test tables.
func values(set uint64) string {
	var b []string
	for i := range 64 {
		if set&(1<<uint(i)) != 0 {
			b = append(b, strconv.Itoa(i))
		}
	}
	return strings.Join(b, ",")
}

func TestParse(t *testing.T) {
	const (
		allMin  = "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59"
		allHour = "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23"
		allDom  = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31"
		allMon  = "1,2,3,4,5,6,7,8,9,10,11,12"
		allDow  = "0,1,2,3,4,5,6"
	)
	tests := []struct {
		in, str                  string
		min, hour, dom, mon, dow string
		domStar, dowStar, wildMH bool
	}{
		{"* * * * *", "* * * * *", allMin, allHour, allDom, allMon, allDow, true, true, true},
		{"  0\t0   * *  *  ", "0 0 * * *", "0", "0", allDom, allMon, allDow, true, true, false},
		{"*/15 * * * *", "*/15 * * * *", "0,15,30,45", allHour, allDom, allMon, allDow, true, true, true},
		{"5-20/5 9-17 * * *", "5-20/5 9-17 * * *", "5,10,15,20", "9,10,11,12,13,14,15,16,17", allDom, allMon, allDow, true, true, false},
		{"50/3 0 * * *", "50/3 0 * * *", "50,53,56,59", "0", allDom, allMon, allDow, true, true, false},
		{"0,30 8,12,18 1,15 * *", "0,30 8,12,18 1,15 * *", "0,30", "8,12,18", "1,15", allMon, allDow, false, true, false},
		{"0 0 * JAN,jul,Dec *", "0 0 * JAN,jul,Dec *", "0", "0", allDom, "1,7,12", allDow, true, true, false},
		{"0 0 * feb-APR *", "0 0 * feb-APR *", "0", "0", allDom, "2,3,4", allDow, true, true, false},
		{"0 0 * */3 *", "0 0 * */3 *", "0", "0", allDom, "1,4,7,10", allDow, true, true, false},
		{"0 9 * * MON-FRI", "0 9 * * MON-FRI", "0", "9", allDom, allMon, "1,2,3,4,5", true, false, false},
		{"0 9 * * sun,Sat", "0 9 * * sun,Sat", "0", "9", allDom, allMon, "0,6", true, false, false},
		{"0 0 * * 7", "0 0 * * 7", "0", "0", allDom, allMon, "0", true, false, false},
		{"0 0 * * 5-7", "0 0 * * 5-7", "0", "0", allDom, allMon, "0,5,6", true, false, false},
		{"0 0 * * 0-7", "0 0 * * 0-7", "0", "0", allDom, allMon, allDow, true, false, false},
		{"0 0 * * 1/2", "0 0 * * 1/2", "0", "0", allDom, allMon, "1,3,5", true, false, false},
		{"0 0 * * */2", "0 0 * * */2", "0", "0", allDom, allMon, "0,2,4,6", true, true, false},
		{"0 0 * * MON/2", "0 0 * * MON/2", "0", "0", allDom, allMon, "1,3,5", true, false, false},
		{"0 0 1 * 1", "0 0 1 * 1", "0", "0", "1", allMon, "1", false, false, false},
		{"0 0 */2 * 1", "0 0 */2 * 1", "0", "0", "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31", allMon, "1", true, false, false},
		{"0 0 1-31 * 1", "0 0 1-31 * 1", "0", "0", allDom, allMon, "1", false, false, false},
		{"0 0 *,5 * *", "0 0 *,5 * *", "0", "0", allDom, allMon, allDow, true, true, false},
		{"00 05 01 01 00", "00 05 01 01 00", "0", "5", "1", "1", "0", false, false, false},
		{"59 23 31 12 6", "59 23 31 12 6", "59", "23", "31", "12", "6", false, false, false},
		{"*/60 */24 */31 */12 */7", "*/60 */24 */31 */12 */7", "0", "0", "1", "1", "0", true, true, true},
		{"0 * * * *", "0 * * * *", "0", allHour, allDom, allMon, allDow, true, true, true},
		{"@yearly", "@yearly", "0", "0", "1", "1", allDow, false, true, false},
		{"@annually", "@annually", "0", "0", "1", "1", allDow, false, true, false},
		{"@monthly", "@monthly", "0", "0", "1", allMon, allDow, false, true, false},
		{"@weekly", "@weekly", "0", "0", allDom, allMon, "0", true, false, false},
		{"@daily", "@daily", "0", "0", allDom, allMon, allDow, true, true, false},
		{" @MIDNIGHT ", "@midnight", "0", "0", allDom, allMon, allDow, true, true, false},
		{"@hourly", "@hourly", "0", allHour, allDom, allMon, allDow, true, true, true},
	}
	for _, tt := range tests {
		s, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := s.String(); got != tt.str {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
		got := [5]string{values(s.minute), values(s.hour), values(s.dom), values(s.month), values(s.dow)}
		want := [5]string{tt.min, tt.hour, tt.dom, tt.mon, tt.dow}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("Parse(%q) %s = %s, want %s", tt.in, fields[i].name, got[i], want[i])
			}
		}
		if s.domStar != tt.domStar || s.dowStar != tt.dowStar || s.wild != tt.wildMH {
			t.Errorf("Parse(%q) domStar, dowStar, wild = %v, %v, %v, want %v, %v, %v",
				tt.in, s.domStar, s.dowStar, s.wild, tt.domStar, tt.dowStar, tt.wildMH)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `cron "": empty expression`},
		{"   ", `cron "   ": empty expression`},
		{"* * * *", `cron "* * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 4`},
		{"0 0 0 * * *", `cron "0 0 0 * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 6; seconds and year fields are not supported`},
		{"0 0 0 * * * 2025", `cron "0 0 0 * * * 2025": expected 5 fields (minute hour day-of-month month day-of-week), got 7; seconds and year fields are not supported`},
		{"0 0 * * * * * *", `cron "0 0 * * * * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 8`},
		{"60 * * * *", `cron "60 * * * *": minute: 60 is out of range 0-59`},
		{"0 25 * * *", `cron "0 25 * * *": hour: 25 is out of range 0-23`},
		{"0 24 * * *", `cron "0 24 * * *": hour: 24 is out of range 0-23`},
		{"0 0 0 * *", `cron "0 0 0 * *": day-of-month: 0 is out of range 1-31`},
		{"0 0 32 * *", `cron "0 0 32 * *": day-of-month: 32 is out of range 1-31`},
		{"0 0 * 0 *", `cron "0 0 * 0 *": month: 0 is out of range 1-12`},
		{"0 0 * 13 *", `cron "0 0 * 13 *": month: 13 is out of range 1-12`},
		{"0 0 * * 8", `cron "0 0 * * 8": day-of-week: 8 is out of range 0-7`},
		{"99999999999999999999 * * * *", `cron "99999999999999999999 * * * *": minute: 99999999999999999999 is out of range 0-59`},
		{"1-70 * * * *", `cron "1-70 * * * *": minute: 70 is out of range 0-59`},
		{"-5 * * * *", `cron "-5 * * * *": minute: invalid range "-5"`},
		{"5- * * * *", `cron "5- * * * *": minute: invalid range "5-"`},
		{"1-2-3 * * * *", `cron "1-2-3 * * * *": minute: invalid range "1-2-3"`},
		{"*-5 * * * *", `cron "*-5 * * * *": minute: invalid range "*-5"`},
		{"30-10 * * * *", `cron "30-10 * * * *": minute: invalid range "30-10": 30 is after 10`},
		{"0 0 * * SAT-SUN", `cron "0 0 * * SAT-SUN": day-of-week: invalid range "SAT-SUN": 6 is after 0`},
		{"*/0 * * * *", `cron "*/0 * * * *": minute: step 0 is out of range 1-60`},
		{"*/61 * * * *", `cron "*/61 * * * *": minute: step 61 is out of range 1-60`},
		{"0 */25 * * *", `cron "0 */25 * * *": hour: step 25 is out of range 1-24`},
		{"0 0 * * */8", `cron "0 0 * * */8": day-of-week: step 8 is out of range 1-7`},
		{"*/ * * * *", `cron "*/ * * * *": minute: invalid step "" in "*/"`},
		{"*/x * * * *", `cron "*/x * * * *": minute: invalid step "x" in "*/x"`},
		{"1/2/3 * * * *", `cron "1/2/3 * * * *": minute: invalid step "2/3" in "1/2/3"`},
		{"0 0 1,,2 * *", `cron "0 0 1,,2 * *": day-of-month: empty element in list "1,,2"`},
		{"0 0 1, * *", `cron "0 0 1, * *": day-of-month: empty element in list "1,"`},
		{"a * * * *", `cron "a * * * *": minute: invalid value "a"`},
		{"** * * * *", `cron "** * * * *": minute: invalid value "**"`},
		{"+5 * * * *", `cron "+5 * * * *": minute: invalid value "+5"`},
		{"0 0 * * FOO", `cron "0 0 * * FOO": day-of-week: unknown name "FOO" (use SUN-SAT or 0-7)`},
		{"0 0 * * MONDAY", `cron "0 0 * * MONDAY": day-of-week: unknown name "MONDAY" (use SUN-SAT or 0-7)`},
		{"0 0 * MON *", `cron "0 0 * MON *": month: unknown name "MON" (use JAN-DEC or 1-12)`},
		{"0 0 * * JAN", `cron "0 0 * * JAN": day-of-week: unknown name "JAN" (use SUN-SAT or 0-7)`},
		{"0 0 JAN * *", `cron "0 0 JAN * *": day-of-month: invalid value "JAN"`},
		{"0 0 ? * MON", `cron "0 0 ? * MON": day-of-month: "?" is not supported (use *)`},
		{"0 0 * * ?", `cron "0 0 * * ?": day-of-week: "?" is not supported (use *)`},
		{"0 0 L * *", `cron "0 0 L * *": day-of-month: "L": L and W are not supported`},
		{"0 0 15W * *", `cron "0 0 15W * *": day-of-month: "15W": L and W are not supported`},
		{"0 0 LW * *", `cron "0 0 LW * *": day-of-month: "LW": L and W are not supported`},
		{"0 0 * * 5L", `cron "0 0 * * 5L": day-of-week: "5L": L and W are not supported`},
		{"0 0 * * 5#3", `cron "0 0 * * 5#3": day-of-week: "5#3": "#" (nth weekday) is not supported`},
		{"@every 5m", `cron "@every 5m": @every is not supported`},
		{"@reboot", `cron "@reboot": @reboot is not supported`},
		{"@fortnightly", `cron "@fortnightly": unknown macro "@fortnightly" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)`},
		{"@", `cron "@": unknown macro "@" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)`},
		{"@daily 0", `cron "@daily 0": unexpected "0" after @daily`},
	}
	for _, tt := range tests {
		s, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error %q", tt.in, s, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q) error:\n got %s\nwant %s", tt.in, err, tt.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) error has more than one line: %q", tt.in, err)
		}
	}
}

func mustParse(t testing.TB, expr string) *Schedule {
	t.Helper()
	s, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const layout = "2006-01-02 15:04 Mon"

func TestNext(t *testing.T) {
	tests := []struct {
		expr, after string
		want        []string // successive activations
	}{
		{"* * * * *", "2025-01-01 00:00 Wed", []string{"2025-01-01 00:01 Wed", "2025-01-01 00:02 Wed"}},
		{"* * * * *", "2025-12-31 23:59 Wed", []string{"2026-01-01 00:00 Thu"}},
		{"*/15 * * * *", "2025-01-01 10:07 Wed", []string{"2025-01-01 10:15 Wed", "2025-01-01 10:30 Wed", "2025-01-01 10:45 Wed", "2025-01-01 11:00 Wed"}},
		{"*/15 * * * *", "2025-01-01 10:15 Wed", []string{"2025-01-01 10:30 Wed"}},
		{"5-20/5 9-10 * * *", "2025-01-01 10:18 Wed", []string{"2025-01-01 10:20 Wed", "2025-01-02 09:05 Thu", "2025-01-02 09:10 Thu"}},
		{"50/5 * * * *", "2025-01-01 10:56 Wed", []string{"2025-01-01 11:50 Wed", "2025-01-01 11:55 Wed"}},
		{"0 9,17 * * *", "2025-01-01 09:00 Wed", []string{"2025-01-01 17:00 Wed", "2025-01-02 09:00 Thu"}},
		{"0 0 * * *", "2025-01-31 00:00 Fri", []string{"2025-02-01 00:00 Sat"}},
		{"0 0 31 * *", "2025-01-31 00:00 Fri", []string{"2025-03-31 00:00 Mon", "2025-05-31 00:00 Sat", "2025-07-31 00:00 Thu"}},
		{"0 0 1 JAN,JUL *", "2025-01-01 00:00 Wed", []string{"2025-07-01 00:00 Tue", "2026-01-01 00:00 Thu"}},
		{"30 12 * feb-mar *", "2025-03-31 13:00 Mon", []string{"2026-02-01 12:30 Sun"}},
		{"0 9 * * MON-FRI", "2025-01-03 09:00 Fri", []string{"2025-01-06 09:00 Mon", "2025-01-07 09:00 Tue"}},
		{"0 0 * * 7", "2025-01-01 00:00 Wed", []string{"2025-01-05 00:00 Sun", "2025-01-12 00:00 Sun"}},
		{"0 0 * * 0", "2025-01-01 00:00 Wed", []string{"2025-01-05 00:00 Sun"}},
		// Day-of-month and day-of-week both restricted: either matches.
		{"0 0 13 * FRI", "2025-06-01 00:00 Sun", []string{"2025-06-06 00:00 Fri", "2025-06-13 00:00 Fri", "2025-06-20 00:00 Fri", "2025-06-27 00:00 Fri", "2025-07-04 00:00 Fri", "2025-07-11 00:00 Fri", "2025-07-13 00:00 Sun"}},
		{"0 0 1,15 * 1", "2025-09-01 00:00 Mon", []string{"2025-09-08 00:00 Mon", "2025-09-15 00:00 Mon", "2025-09-22 00:00 Mon", "2025-09-29 00:00 Mon", "2025-10-01 00:00 Wed"}},
		// One of them '*': both must match.
		{"0 0 13 * *", "2025-06-01 00:00 Sun", []string{"2025-06-13 00:00 Fri", "2025-07-13 00:00 Sun"}},
		{"0 0 * * FRI", "2025-06-13 00:00 Fri", []string{"2025-06-20 00:00 Fri"}},
		// A field beginning with '*' counts as unrestricted (Vixie's
		// DOM_STAR), so odd days that are Mondays, not odd days or Mondays.
		{"0 0 */2 * MON", "2025-09-01 00:00 Mon", []string{"2025-09-15 00:00 Mon", "2025-09-29 00:00 Mon", "2025-10-13 00:00 Mon"}},
		// Friday the 13th has to be spelled with '*' out of the way.
		{"0 0 13 * 5", "2026-02-12 00:00 Thu", []string{"2026-02-13 00:00 Fri", "2026-02-20 00:00 Fri"}},
		{"@yearly", "2025-06-15 12:00 Sun", []string{"2026-01-01 00:00 Thu", "2027-01-01 00:00 Fri"}},
		{"@annually", "2025-12-31 23:59 Wed", []string{"2026-01-01 00:00 Thu"}},
		{"@monthly", "2025-12-15 00:00 Mon", []string{"2026-01-01 00:00 Thu", "2026-02-01 00:00 Sun"}},
		{"@weekly", "2025-01-01 00:00 Wed", []string{"2025-01-05 00:00 Sun", "2025-01-12 00:00 Sun"}},
		{"@daily", "2025-02-28 00:00 Fri", []string{"2025-03-01 00:00 Sat"}},
		{"@midnight", "2024-02-28 12:00 Wed", []string{"2024-02-29 00:00 Thu", "2024-03-01 00:00 Fri"}},
		{"@hourly", "2025-12-31 23:00 Wed", []string{"2026-01-01 00:00 Thu", "2026-01-01 01:00 Thu"}},
		{"59 23 31 12 *", "2025-12-31 23:59 Wed", []string{"2026-12-31 23:59 Thu"}},
		{"0 0 29 2 *", "2025-01-01 00:00 Wed", []string{"2028-02-29 00:00 Tue", "2032-02-29 00:00 Sun"}},
		{"0 0 29 2 *", "2024-02-29 00:00 Thu", []string{"2028-02-29 00:00 Tue"}},
		{"0 0 29 2 *", "2096-03-01 00:00 Thu", []string{""}}, // 2100 is not a leap year
		{"0 0 29 2 1", "2025-01-01 00:00 Wed", []string{"2025-02-03 00:00 Mon"}},
		{"0 0 30 2 *", "2025-01-01 00:00 Wed", []string{""}},
		{"0 0 31 4,6,9,11 *", "2025-01-01 00:00 Wed", []string{""}},
		{"0 0 31 4 1", "2025-01-01 00:00 Wed", []string{"2025-04-07 00:00 Mon"}},
	}
	for _, tt := range tests {
		s := mustParse(t, tt.expr)
		after, err := time.Parse(layout, tt.after)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			got := s.Next(after)
			var gotStr string
			if !got.IsZero() {
				gotStr = got.Format(layout)
			}
			if gotStr != w {
				t.Errorf("%q.Next(%s) = %q, want %q", tt.expr, after.Format(layout), gotStr, w)
				break
			}
			after = got
		}
	}
}

func TestNextStrictlyAfter(t *testing.T) {
	s := mustParse(t, "30 10 * * *")
	base := time.Date(2025, 5, 1, 10, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		after time.Time
		want  time.Time
	}{
		{base.Add(-time.Nanosecond), base},
		{base, base.AddDate(0, 0, 1)},
		{base.Add(time.Nanosecond), base.AddDate(0, 0, 1)},
		{base.Add(59 * time.Second), base.AddDate(0, 0, 1)},
	} {
		if got := s.Next(tt.after); !got.Equal(tt.want) {
			t.Errorf("Next(%v) = %v, want %v", tt.after, got, tt.want)
		}
	}
}

func TestNextLocation(t *testing.T) {
	loc := time.FixedZone("UTC+5:30", 5*3600+1800)
	s := mustParse(t, "0 * * * *")
	got := s.Next(time.Date(2025, 1, 1, 10, 15, 0, 0, loc))
	if want := time.Date(2025, 1, 1, 11, 0, 0, 0, loc); !got.Equal(want) || got.Location() != loc {
		t.Errorf("Next = %v, want %v", got, want)
	}
	// A monotonic clock reading does not matter.
	now := time.Now()
	if got := s.Next(now); !got.After(now) || got.Minute() != 0 || got.Second() != 0 || got.Sub(now) > time.Hour {
		t.Errorf("Next(%v) = %v", now, got)
	}
}

func loadNY(t *testing.T) *time.Location {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return ny
}

func TestNextDST(t *testing.T) {
	ny := loadNY(t)
	const layout = "2006-01-02 15:04 MST"
	tests := []struct {
		expr  string
		after time.Time
		want  []string
	}{
		// 2025-03-09: 02:00 EST becomes 03:00 EDT; 02:xx does not happen.
		{"30 2 * * *", time.Date(2025, 3, 8, 12, 0, 0, 0, ny), []string{"2025-03-10 02:30 EDT"}},
		{"0 * * * *", time.Date(2025, 3, 9, 0, 30, 0, 0, ny), []string{"2025-03-09 01:00 EST", "2025-03-09 03:00 EDT", "2025-03-09 04:00 EDT"}},
		{"*/20 * * * *", time.Date(2025, 3, 9, 1, 30, 0, 0, ny), []string{"2025-03-09 01:40 EST", "2025-03-09 03:00 EDT", "2025-03-09 03:20 EDT"}},
		{"0 3 * * *", time.Date(2025, 3, 9, 0, 0, 0, 0, ny), []string{"2025-03-09 03:00 EDT", "2025-03-10 03:00 EDT"}},
		{"0 0 * * *", time.Date(2025, 3, 8, 12, 0, 0, 0, ny), []string{"2025-03-09 00:00 EST", "2025-03-10 00:00 EDT"}},
		// 2025-11-02: 02:00 EDT becomes 01:00 EST; 01:xx happens twice.
		// A fixed-time job runs once, the first time.
		{"30 1 * * *", time.Date(2025, 11, 1, 12, 0, 0, 0, ny), []string{"2025-11-02 01:30 EDT", "2025-11-03 01:30 EST"}},
		{"0 2 * * *", time.Date(2025, 11, 1, 12, 0, 0, 0, ny), []string{"2025-11-02 02:00 EST", "2025-11-03 02:00 EST"}},
		{"0 0 * * *", time.Date(2025, 11, 1, 12, 0, 0, 0, ny), []string{"2025-11-02 00:00 EDT", "2025-11-03 00:00 EST"}},
		// A wildcard one runs in both passes.
		{"30 * * * *", time.Date(2025, 11, 2, 0, 45, 0, 0, ny), []string{"2025-11-02 01:30 EDT", "2025-11-02 01:30 EST", "2025-11-02 02:30 EST"}},
		// (From 01:15 EDT and 01:50 EDT: time.Date may pick either pass.)
		{"*/30 * * * *", time.Date(2025, 11, 2, 5, 15, 0, 0, time.UTC).In(ny), []string{"2025-11-02 01:30 EDT", "2025-11-02 01:00 EST", "2025-11-02 01:30 EST", "2025-11-02 02:00 EST"}},
		{"45 */1 * * *", time.Date(2025, 11, 2, 5, 50, 0, 0, time.UTC).In(ny), []string{"2025-11-02 01:45 EST"}},
	}
	for _, tt := range tests {
		s := mustParse(t, tt.expr)
		after := tt.after
		for _, w := range tt.want {
			got := s.Next(after)
			if got.Format(layout) != w || got.Location() != ny {
				t.Errorf("%q.Next(%s) = %s, want %s", tt.expr, after.Format(layout), got.Format(layout), w)
				break
			}
			after = got
		}
	}
	// 1883-11-18 12:03:58 LMT (-4:56:02) became 12:00:00 EST: activations
	// stay on whole minutes of wall time.
	s := mustParse(t, "* * * * *")
	lmt := time.Date(1883, 11, 18, 16, 59, 2, 0, time.UTC).In(ny) // 12:03:00 LMT
	for _, want := range []string{"1883-11-18 12:00:00 EST", "1883-11-18 12:01:00 EST"} {
		lmt = s.Next(lmt)
		if got := lmt.Format("2006-01-02 15:04:05 MST"); got != want {
			t.Errorf("LMT to EST: Next = %s, want %s", got, want)
		}
	}
	// After 01:50 EST (the second pass), a fixed 01:30 job waits a day.
	s = mustParse(t, "30 1 * * *")
	second := time.Date(2025, 11, 2, 6, 50, 0, 0, time.UTC).In(ny)
	if got, want := s.Next(second).Format(layout), "2025-11-03 01:30 EST"; got != want {
		t.Errorf("Next(%s) = %s, want %s", second.Format(layout), got, want)
	}
	// Starting from inside the first pass, a wildcard job's second pass
	// is still ahead.
	s = mustParse(t, "10 * * * *")
	first := time.Date(2025, 11, 2, 5, 20, 0, 0, time.UTC).In(ny) // 01:20 EDT
	if got, want := s.Next(first).Format(layout), "2025-11-02 01:10 EST"; got != want {
		t.Errorf("Next(%s) = %s, want %s", first.Format(layout), got, want)
	}
}

// bruteNext is the definition of Next, minute by minute over elapsed time,
// for at most limit minutes.
func bruteNext(s *Schedule, after time.Time, limit int) (time.Time, bool) {
	t := after.Truncate(time.Minute) // zones used here have whole-minute offsets
	for range limit {
		t = t.Add(time.Minute)
		if !t.After(after) {
			continue
		}
		y, mo, d := t.Date()
		h, m, _ := t.Clock()
		if s.month&(1<<uint(mo)) == 0 || !s.dayMatches(d, t.Weekday()) ||
			s.hour&(1<<uint(h)) == 0 || s.minute&(1<<uint(m)) == 0 {
			continue
		}
		if !s.wild {
			// A fixed-time job runs at the first instant with its wall time.
			earlier := false
			for back := 1; back <= 180; back++ {
				u := t.Add(-time.Duration(back) * time.Minute)
				uy, umo, ud := u.Date()
				uh, um, _ := u.Clock()
				if uy == y && umo == mo && ud == d && uh == h && um == m {
					earlier = true
					break
				}
			}
			if earlier {
				continue
			}
		}
		return t, true
	}
	return time.Time{}, false
}

// randomField makes a random field: *, a value, a list, a range or a step.
func randomField(r *rand.Rand, f *field) string {
	val := func() string {
		v := f.lo + r.IntN(f.hi-f.lo+1)
		if f.names != nil && v-f.lo < len(f.names) && r.IntN(3) == 0 {
			return f.names[v-f.lo]
		}
		return strconv.Itoa(v)
	}
	switch r.IntN(7) {
	case 0, 1:
		return "*"
	case 2:
		return val()
	case 3:
		return val() + "," + val()
	case 4:
		a, b := f.lo+r.IntN(f.hi-f.lo+1), f.lo+r.IntN(f.hi-f.lo+1)
		return strconv.Itoa(min(a, b)) + "-" + strconv.Itoa(max(a, b))
	case 5:
		return "*/" + strconv.Itoa(1+r.IntN(f.span()))
	default:
		return val() + "/" + strconv.Itoa(1+r.IntN(f.span()))
	}
}

func offset(t time.Time) int {
	_, off := t.Zone()
	return off
}

// transitions returns the instants in year at which loc's UTC offset
// changes, to the minute.
func transitions(loc *time.Location, year int) []time.Time {
	var out []time.Time
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC)
	for t := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); t.Before(end); t = t.Add(time.Hour) {
		if offset(t.In(loc)) == offset(t.Add(time.Hour).In(loc)) {
			continue
		}
		lo, hi := t, t.Add(time.Hour) // offset(lo) != offset(hi)
		for hi.Sub(lo) > time.Minute {
			mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Minute)
			if offset(mid.In(loc)) == offset(lo.In(loc)) {
				lo = mid
			} else {
				hi = mid
			}
		}
		out = append(out, hi)
	}
	return out
}

func TestNextMatchesBruteForce(t *testing.T) {
	locs := []*time.Location{time.UTC, time.FixedZone("", -(9*3600 + 1800))}
	// New York: 1h at 02:00. Lord Howe: 30 minutes at 02:00. Sao Paulo
	// (until 2019): at midnight, so some days start at 01:00. St Johns
	// (1988-2010): at 00:01, so 23:01-00:00 comes twice, across midnight.
	for _, name := range []string{"America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo", "America/St_Johns"} {
		if loc, err := time.LoadLocation(name); err == nil {
			locs = append(locs, loc)
		}
	}
	var near [][]time.Time // transitions of locs[i]
	for _, loc := range locs {
		var ts []time.Time
		for _, y := range []int{2009, 2017, 2025} {
			ts = append(ts, transitions(loc, y)...)
		}
		near = append(near, ts)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const window = 20 * 24 * 60 // minutes
	n := 2000
	if testing.Short() {
		n = 200
	}
	for range n {
		var f [5]string
		for i := range f {
			f[i] = randomField(r, &fields[i])
		}
		if r.IntN(2) == 0 {
			f[2], f[3], f[4] = "*", "*", "*" // dense schedules have more activations near a transition
		}
		expr := strings.Join(f[:], " ")
		s := mustParse(t, expr)
		i := r.IntN(len(locs))
		loc := locs[i]
		var after time.Time
		if ts := near[i]; len(ts) > 0 && r.IntN(4) != 0 {
			// From up to 3 hours before a transition to 1 hour after.
			after = ts[r.IntN(len(ts))].Add(time.Duration(r.IntN(240)-180) * time.Minute).In(loc)
		} else {
			after = time.Date(2004+r.IntN(24), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, loc)
		}
		after = after.Add(time.Duration(r.IntN(2)*r.IntN(60)) * time.Second)
		want, ok := bruteNext(s, after, window)
		got := s.Next(after)
		switch {
		case ok && !got.Equal(want):
			t.Errorf("%q.Next(%v) = %v, want %v", expr, after, got, want)
		case !ok && !got.IsZero() && got.Sub(after) <= window*time.Minute:
			t.Errorf("%q.Next(%v) = %v, want later than %v", expr, after, got, after.Add(window*time.Minute))
		case !got.IsZero() && got.Location() != loc:
			t.Errorf("%q.Next(%v) in %v, want %v", expr, after, got.Location(), loc)
		}
	}
}

func TestNextImpossibleIsFast(t *testing.T) {
	after := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, expr := range []string{"0 0 30 2 *", "* * 31 2,4,6,9,11 *", "*/5 * 30,31 FEB *"} {
		s := mustParse(t, expr)
		start := time.Now()
		for range 100 {
			if got := s.Next(after); !got.IsZero() {
				t.Fatalf("%q.Next = %v, want zero", expr, got)
			}
		}
		if d := time.Since(start) / 100; d > 10*time.Millisecond {
			t.Errorf("%q.Next took %v", expr, d)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	s := mustParse(b, "0 0 29 2 *")
	after := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.Next(after)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "*/15 * * * *", "0 0 * * *", "5-20/5 9-17 1,15 JAN-jun MON-FRI",
		"0 0 13 * 5", "0 0 29 2 *", "0 0 30 2 *", "50/3 0 * * 1/2", "@daily", "@hourly",
		"@every 5m", "0 0 ? * *", "0 0 L * *", "0 0 * * 5#3", "0 0 0 * * *", "",
		"0 0 * * 7", "*/0 * * * *", "1-2-3 * * * *", "99999999999999999999 * * * *",
	} {
		f.Add(seed)
	}
	times := []time.Time{
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2025, 11, 2, 1, 30, 0, 0, time.FixedZone("", -5*3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC),
	}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		times = append(times, time.Date(2025, 11, 2, 0, 59, 0, 0, ny), time.Date(2025, 3, 9, 1, 59, 0, 0, ny))
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q) returned a schedule and an error", expr)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "cron ") {
				t.Fatalf("Parse(%q) error %q", expr, msg)
			}
			return
		}
		again, err := Parse(s.String())
		if err != nil || again.String() != s.String() {
			t.Fatalf("Parse(%q).String() = %q does not parse back: %v", expr, s.String(), err)
		}
		for _, after := range times {
			next := s.Next(after)
			if next.IsZero() {
				continue
			}
			if !next.After(after) {
				t.Fatalf("%q.Next(%v) = %v, not after", expr, after, next)
			}
			if next.Second() != 0 || next.Nanosecond() != 0 || next.Location() != after.Location() {
				t.Fatalf("%q.Next(%v) = %v", expr, after, next)
			}
			_, mo, d := next.Date()
			h, m, _ := next.Clock()
			if s.month&(1<<uint(mo)) == 0 || !s.dayMatches(d, next.Weekday()) || s.hour&(1<<uint(h)) == 0 || s.minute&(1<<uint(m)) == 0 {
				t.Fatalf("%q.Next(%v) = %v, which does not match", expr, after, next)
			}
		}
	})
}
