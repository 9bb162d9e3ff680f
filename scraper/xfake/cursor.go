package xfake

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Cursors are opaque to clients, as X's are, but stateless for the fake: each one
// carries where the next page starts. A value is a prefix resembling X's (DAAD...
// for search, DAAK... for replies) followed by the unpadded base64url of
// "kind|field|field...". Clients must send values back unchanged.
const (
	searchCursorPrefix = "DAADDAAB"
	detailCursorPrefix = "DAAKCgAB"
)

// searchCursor is a position in a search's results.
type searchCursor struct {
	top    bool   // cursor-top: results newer than id
	id     uint64 // Latest and Media: the last id served (bottom) or the newest one (top)
	off    int    // Top: the offset of the next result
	newest uint64 // the newest id served so far, for the top cursor of later pages
	page   int    // pages served so far, so that empty pages get fresh cursors
}

func (c searchCursor) String() string {
	kind := "b"
	if c.top {
		kind = "t"
	}
	raw := strings.Join([]string{"s", kind, strconv.FormatUint(c.id, 10), strconv.Itoa(c.off),
		strconv.FormatUint(c.newest, 10), strconv.Itoa(c.page)}, "|")
	return searchCursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseSearchCursor(v string) (searchCursor, bool) {
	f, ok := cursorFields(v, searchCursorPrefix, "s", 6)
	if !ok {
		return searchCursor{}, false
	}
	id, err1 := strconv.ParseUint(f[2], 10, 64)
	off, err2 := strconv.Atoi(f[3])
	newest, err3 := strconv.ParseUint(f[4], 10, 64)
	page, err4 := strconv.Atoi(f[5])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || off < 0 || (f[1] != "b" && f[1] != "t") {
		return searchCursor{}, false
	}
	return searchCursor{top: f[1] == "t", id: id, off: off, newest: newest, page: page}, true
}

// detailCursor is a position in a conversation: a page of top-level threads of one
// section (Bottom, ShowMoreThreads, ShowMoreThreadsPrompt), or the rest of one
// thread module (ShowMore).
type detailCursor struct {
	module  uint64  // ShowMore: the id of the module's first reply; 0 for thread pages
	section Quality // thread pages: the reply section
	off     int     // threads (or module items) already served
	page    int
}

func (c detailCursor) String() string {
	raw := strings.Join([]string{"d", strconv.FormatUint(c.module, 10), strconv.Itoa(int(c.section)), strconv.Itoa(c.off), strconv.Itoa(c.page)}, "|")
	return detailCursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseDetailCursor(v string) (detailCursor, bool) {
	f, ok := cursorFields(v, detailCursorPrefix, "d", 5)
	if !ok {
		return detailCursor{}, false
	}
	module, err1 := strconv.ParseUint(f[1], 10, 64)
	section, err2 := strconv.Atoi(f[2])
	off, err3 := strconv.Atoi(f[3])
	page, err4 := strconv.Atoi(f[4])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || off < 0 || section < 0 || section > int(QualityAbusive) {
		return detailCursor{}, false
	}
	return detailCursor{module: module, section: Quality(section), off: off, page: page}, true
}

func cursorFields(v, prefix, kind string, n int) ([]string, bool) {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, false
	}
	f := strings.Split(string(raw), "|")
	if len(f) != n || f[0] != kind {
		return nil, false
	}
	return f, true
}
