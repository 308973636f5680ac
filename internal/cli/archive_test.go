package cli

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func gzMember(t *testing.T, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCutTornTail(t *testing.T) {
	dir := t.TempDir()
	m1, m2 := gzMember(t, "{\"id\":1}\n{\"id\":2}\n"), gzMember(t, "{\"id\":3}\n")
	cases := []struct {
		name    string
		content []byte
		want    []byte
	}{
		{"whole.jsonl", []byte("{\"id\":1}\n{\"id\":2}\n"), []byte("{\"id\":1}\n{\"id\":2}\n")},
		{"torn.jsonl", []byte("{\"id\":1}\n{\"id\":2}\n{\"id\":3,\"ty"), []byte("{\"id\":1}\n{\"id\":2}\n")},
		{"onlytorn.jsonl", []byte("{\"id\":1"), []byte{}},
		{"whole.jsonl.gz", append(append([]byte{}, m1...), m2...), append(append([]byte{}, m1...), m2...)},
		{"torn.jsonl.gz", append(append([]byte{}, m1...), m2[:len(m2)/2]...), m1},
		{"tornheader.jsonl.gz", append(append([]byte{}, m1...), m2[:5]...), m1},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, c.content, 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := openArchiveFile(path)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_ = a.Close()
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: after open the file holds %q; want %q", c.name, got, c.want)
		}
		if a.cut != int64(len(c.content)-len(c.want)) {
			t.Errorf("%s: cut %d bytes; want %d", c.name, a.cut, len(c.content)-len(c.want))
		}
	}
	// A repaired .gz reads to its end once more is appended.
	path := filepath.Join(dir, "torn.jsonl.gz")
	a, _ := openArchiveFile(path)
	_ = a.write(nil)
	_ = a.Close()
	f, _ := os.Open(path)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(zr); err != nil || string(b) != "{\"id\":1}\n{\"id\":2}\n" {
		t.Errorf("repaired then appended .gz reads %q, %v", b, err)
	}
	if _, err := openArchiveFile(filepath.Join(dir, "new.jsonl")); err != nil {
		t.Errorf("a new file: %v", err)
	}
}
