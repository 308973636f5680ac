package store

import "testing"

func TestNormalizeIDIgnoresCaseAndPrefix(t *testing.T) {
	for _, in := range []string{"job_12345abc", "12345abc", "12345ABC", "JOB_12345abc", "Job_12345AbC", " job_12345abc\n"} {
		if got := NormalizeID(in); got != "job_12345abc" {
			t.Errorf("NormalizeID(%q) = %q; want job_12345abc", in, got)
		}
	}
	if got := NormalizeID(""); got != "" {
		t.Errorf("NormalizeID(\"\") = %q; want \"\"", got)
	}
}
