package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// slowDecodeLine is decodeLine without its fast path: encoding/json alone.
func slowDecodeLine(raw []byte, bl *bulkLine) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(bl); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// The fast path reads every line as encoding/json does, or leaves it to
// encoding/json: same fields, same errors.
func TestDecodeLineMatchesEncodingJSON(t *testing.T) {
	lines := []string{
		`{}`, ` { } `, `{"type":"A"}`, `{"type":"A","data":{"n":1,"s":"x\"}y","a":[1,{"b":[]}]}}`,
		`{"data":[1,2],"type":"B"}`, `{"data":"str"}`, `{"data":12.5e3}`, `{"data":true}`, `{"data":null}`,
		`{"type":"A","priority":"HIGH","maxAttempts":3,"uniqueKey":"k","userId":"üser","parentId":"job_1"}`,
		`{"type":"A","scheduledFor":"2025-10-25T10:00:00Z"}`, `{"scheduledFor":"2025-10-25T10:00:00.123+02:00"}`,
		`{"scheduledFor":"tomorrow"}`, `{"scheduledFor":null}`, `{"scheduledFor":5}`,
		`{"dependsOn":["job_1","job_2"]}`, `{"dependsOn":[]}`, `{"dependsOn":null}`,
		`{"maxAttempts":-1}`, `{"maxAttempts":0}`, `{"maxAttempts":-0}`, `{"maxAttempts":2.0}`, `{"maxAttempts":1e2}`,
		`{"maxAttempts":99999999999999999999}`, `{"maxAttempts":"3"}`, `{"maxAttempts":null}`,
		`{"Type":"A"}`, `{"TYPE":"A"}`, `{"typ":"A"}`, `{"type":"A","type":"B"}`, `{"ty\u0070e":"A"}`,
		`{"type":"A\u0041"}`, `{"type":"A\n"}`, `{"type":null}`, `{"type":1}`, `{"type":["A"]}`,
		"{\"type\":\"A\xff\"}", "{\"userId\":\"\xc3\"}", "{\"data\":{\"s\":\"\xff\"}}",
		`{"type":"A"} {"type":"B"}`, `{"type":"A"} x`, `{"type":"A"`, `{"type":`, `[]`, `"A"`, `1`, `null`, ``, ` `,
		`{"type":"A",}`, `{,}`, `{"type" : "A" , "data" : { } }`, "{\t\"type\"\t:\t\"A\"\r}",
	}
	// And random splices of those, mostly invalid.
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		a, b := lines[r.IntN(len(lines))], lines[r.IntN(len(lines))]
		i, j := r.IntN(len(a)+1), r.IntN(len(b)+1)
		lines = append(lines, a[:i]+b[j:])
	}
	for _, line := range lines {
		var fast, slow bulkLine
		errFast := decodeLine([]byte(line), &fast)
		errSlow := slowDecodeLine([]byte(line), &slow)
		if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
			t.Errorf("%q: error %v; encoding/json says %v", line, errFast, errSlow)
			continue
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%q: decoded as %+v; encoding/json gives %+v", line, fast, slow)
		}
	}
	// The fast path does take the common lines.
	for _, line := range []string{`{"type":"A","data":{"n":1,"userId":"user_1"}}`, `{"type":"A","priority":"HIGH","maxAttempts":3,"userId":"u"}`} {
		var bl bulkLine
		if !decodeLineFast([]byte(line), &bl) {
			t.Errorf("%q: the fast path declined it", line)
		}
	}
}
