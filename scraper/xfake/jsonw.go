package xfake

import (
	"strconv"
	"sync"
	"unicode/utf8"
)

// bufPool recycles response buffers: a search page is ~80 KB, and a load test
// makes thousands of them.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// newPooledWriter returns a writer over a recycled buffer; release it with
// releaseBuf once the response is written.
func newPooledWriter() *jsonw {
	p := bufPool.Get().(*[]byte)
	return &jsonw{b: (*p)[:0]}
}

func releaseBuf(b []byte) {
	if cap(b) > 4<<20 {
		return
	}
	b = b[:0]
	bufPool.Put(&b)
}

// jsonw appends JSON to a byte slice without reflection. The fake renders every
// response through it so that a search page costs microseconds, not the
// milliseconds encoding/json would spend on the deep, wide tweet objects.
//
// Commas are placed automatically: need is true after a value, so the next key or
// array element is preceded by a comma.
type jsonw struct {
	b    []byte
	need bool
}

func (w *jsonw) sep() {
	if w.need {
		w.b = append(w.b, ',')
	}
}

// obj opens an object as a value (in an array or after key).
func (w *jsonw) obj() {
	w.sep()
	w.b = append(w.b, '{')
	w.need = false
}

// end closes an object.
func (w *jsonw) end() {
	w.b = append(w.b, '}')
	w.need = true
}

// arr opens an array as a value.
func (w *jsonw) arr() {
	w.sep()
	w.b = append(w.b, '[')
	w.need = false
}

// endArr closes an array.
func (w *jsonw) endArr() {
	w.b = append(w.b, ']')
	w.need = true
}

// key writes an object key; the next call writes its value. Keys are the fake's
// own ASCII constants and are written unescaped.
func (w *jsonw) key(k string) {
	if w.need {
		w.b = append(w.b, ',', '"')
	} else {
		w.b = append(w.b, '"')
	}
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.need = false
}

// kobj writes key and opens an object.
func (w *jsonw) kobj(k string) { w.key(k); w.obj() }

// karr writes key and opens an array.
func (w *jsonw) karr(k string) { w.key(k); w.arr() }

func (w *jsonw) str(s string) {
	w.sep()
	w.b = appendJSONString(w.b, s)
	w.need = true
}

func (w *jsonw) int(n int64) {
	w.sep()
	w.b = strconv.AppendInt(w.b, n, 10)
	w.need = true
}

func (w *jsonw) bool(v bool) {
	w.sep()
	w.b = strconv.AppendBool(w.b, v)
	w.need = true
}

func (w *jsonw) null() {
	w.sep()
	w.b = append(w.b, "null"...)
	w.need = true
}

// raw writes pre-encoded JSON as a value.
func (w *jsonw) raw(j []byte) {
	w.sep()
	w.b = append(w.b, j...)
	w.need = true
}

func (w *jsonw) kstr(k, v string) { w.key(k); w.str(v) }
func (w *jsonw) kint(k string, v int64) {
	w.key(k)
	w.int(v)
}
func (w *jsonw) kbool(k string, v bool) { w.key(k); w.bool(v) }

// kemptyObj writes "k":{}.
func (w *jsonw) kemptyObj(k string) { w.key(k); w.obj(); w.end() }

// kemptyArr writes "k":[].
func (w *jsonw) kemptyArr(k string) { w.key(k); w.arr(); w.endArr() }

// kstrs writes "k":["a","b"].
func (w *jsonw) kstrs(k string, vs ...string) {
	w.karr(k)
	for _, v := range vs {
		w.str(v)
	}
	w.endArr()
}

// kindices writes "indices":[from,to].
func (w *jsonw) kindices(from, to int) {
	w.karr("indices")
	w.int(int64(from))
	w.int(int64(to))
	w.endArr()
}

const hexDigits = "0123456789abcdef"

// plainJSON marks the ASCII bytes a JSON string holds as they are.
var plainJSON = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string. Non-ASCII text is kept as UTF-8 (as
// X sends it); invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plainJSON[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
