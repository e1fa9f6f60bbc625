package esapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Obj is a JSON object whose keys keep the order they were added in, so the
// stand-in's answers read like Elasticsearch's ("name" first, "tagline"
// last), which encoding/json's maps would sort.
type Obj []Field

// Field is one key of an Obj.
type Field struct {
	Key string
	Val any // string, bool, int, int64, uint64, float64, Obj, []string, []any, nil
}

// MarshalJSON makes Obj usable with encoding/json (compact form).
func (o Obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := encodeTo(&b, o, false, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Encode returns v as JSON. pretty selects Elasticsearch's human format,
// which is Jackson's default pretty printer: two-space indentation,
// `"key" : value` and arrays on one line (`[ "a", "b" ]`), ending in a
// newline. Compact output has no whitespace at all.
func Encode(v any, pretty bool) []byte {
	var b bytes.Buffer
	if err := encodeTo(&b, v, pretty, 0); err != nil {
		// Only the stand-in's own values are encoded; a type it
		// doesn't know is a programming error.
		panic(err)
	}
	if pretty {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func encodeTo(b *bytes.Buffer, v any, pretty bool, depth int) error {
	nl := func(d int) {
		if pretty {
			b.WriteByte('\n')
			for i := 0; i < d; i++ {
				b.WriteString("  ")
			}
		}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		s, _ := json.Marshal(x)
		b.Write(s)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !bytes.ContainsAny([]byte(s), ".eE") {
			s += ".0" // Jackson writes doubles with a fraction: 100.0
		}
		b.WriteString(s)
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return encodeTo(b, items, pretty, depth)
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if pretty {
				b.WriteByte(' ')
			}
			if err := encodeTo(b, it, pretty, depth+1); err != nil {
				return err
			}
		}
		if pretty {
			b.WriteByte(' ')
		}
		b.WriteByte(']')
	case Obj:
		if len(x) == 0 {
			if pretty {
				b.WriteString("{ }")
			} else {
				b.WriteString("{}")
			}
			return nil
		}
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			k, _ := json.Marshal(f.Key)
			b.Write(k)
			if pretty {
				b.WriteString(" : ")
			} else {
				b.WriteByte(':')
			}
			if err := encodeTo(b, f.Val, pretty, depth+1); err != nil {
				return err
			}
		}
		nl(depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("esapi: cannot encode %T", v)
	}
	return nil
}
