package xfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// SearchTimeline: data.search_by_raw_query.search_timeline.timeline.instructions.
//
// Page 1 (no cursor) is one TimelineAddEntries holding the tweets, then
// cursor-top-9223372036854775807 and cursor-bottom-0. Later pages hold the tweets in
// TimelineAddEntries and the two cursors in TimelineReplaceEntry instructions. Past
// the last result every page is empty but carries a new bottom cursor, as X does:
// clients must stop on pages without tweets, not on a missing cursor.

// search answers SearchTimeline.
func (s *Server) search(vars map[string]any, view viewConfig) reply {
	raw, ok := vars["rawQuery"].(string)
	if !ok {
		return jsonReply(http.StatusBadRequest, ErrorBody(errBadRequest(`Variable "$rawQuery" of required type "String!" was not provided.`)))
	}
	count := intVar(vars, "count", 20)
	count = min(max(count, 1), 100)
	product := stringVar(vars, "product", "Top")
	var cur searchCursor
	hasCursor := false
	if v := stringVar(vars, "cursor", ""); v != "" {
		if cur, hasCursor = parseSearchCursor(v); !hasCursor {
			return jsonReply(http.StatusOK, []byte(`{"data":{"search_by_raw_query":{"search_timeline":{"timeline":{"instructions":[]}}}}}`))
		}
	}
	base := sortBase(s.now())

	c := s.corpus
	c.mu.RLock()
	defer c.mu.RUnlock()
	list := s.matches(raw, product)
	byTime := product != "Top"

	var page []int32
	bottom := searchCursor{id: cur.id, off: cur.off, newest: cur.newest, page: cur.page + 1}
	switch {
	case !hasCursor:
		page = list[:min(count, len(list))]
		bottom.off = len(page)
	case cur.top && byTime:
		// Newer than the newest seen: serve the oldest of them first, so that
		// following top cursors catches up without a gap.
		n, _ := slices.BinarySearchFunc(list, cur.id, func(i int32, id uint64) int {
			if c.recs[i].id > id {
				return -1
			}
			return 1
		})
		page = list[max(n-count, 0):n]
	case cur.top:
		// Top has no "newer" direction: an empty page.
	case byTime:
		start, _ := slices.BinarySearchFunc(list, cur.id, func(i int32, id uint64) int {
			if c.recs[i].id >= id {
				return -1
			}
			return 1
		})
		page = list[start:min(start+count, len(list))]
	default:
		start := min(cur.off, len(list))
		page = list[start:min(start+count, len(list))]
		bottom.off = start + len(page)
	}
	if len(page) > 0 {
		bottom.newest = max(bottom.newest, c.recs[page[0]].id)
		bottom.id = c.recs[page[len(page)-1]].id
	}
	top := searchCursor{top: true, id: bottom.newest, off: bottom.off, newest: bottom.newest, page: bottom.page}

	r := &renderer{c: c, schema: view.schema, shape: view.shape, w: newPooledWriter()}
	w := r.w
	w.obj()
	w.kobj("data")
	w.kobj("search_by_raw_query")
	w.kobj("search_timeline")
	w.kobj("timeline")
	w.karr("instructions")
	w.obj()
	w.kstr("type", "TimelineAddEntries")
	w.karr("entries")
	component := "latest_nightowl_recency"
	if !byTime {
		component = "result"
	}
	sortIndex := base - int64(cur.page)*1000
	for i, idx := range page {
		if view.promoted && len(page) >= 3 && i == 2 {
			ad := &c.ads[(cur.page+int(cur.id%7))%len(c.ads)]
			r.tweetEntry("promoted-tweet-"+ad.t.ID+"-"+strconv.FormatUint(hashString(raw)^uint64(cur.page), 16), sortIndex, ad, "promoted", "Tweet", "",
				&adInfo{advertiser: ad.author, impression: strconv.FormatUint(hashString(raw+strconv.Itoa(cur.page)), 16)})
			sortIndex--
		}
		t := &c.recs[idx]
		r.tweetEntry("tweet-"+t.t.ID, sortIndex, t, component, "Tweet", "", nil)
		sortIndex--
	}
	if !hasCursor {
		r.cursorEntry("cursor-top-9223372036854775807", "9223372036854775807", "Top", top.String(), false, "")
		r.cursorEntry("cursor-bottom-0", "0", "Bottom", bottom.String(), false, "")
	}
	w.endArr()
	w.end()
	if hasCursor {
		replace := func(entryID, sortIndex, cursorType, value string) {
			w.obj()
			w.kstr("type", "TimelineReplaceEntry")
			w.kstr("entry_id_to_replace", entryID)
			w.key("entry")
			r.cursorEntry(entryID, sortIndex, cursorType, value, false, "")
			w.end()
		}
		replace("cursor-top-9223372036854775807", "9223372036854775807", "Top", top.String())
		replace("cursor-bottom-0", "0", "Bottom", bottom.String())
	}
	w.endArr()
	w.end()
	w.end()
	w.end()
	w.end()
	w.end()
	rep := jsonReply(http.StatusOK, w.b)
	rep.pooled = w.b
	return rep
}

// matches returns the corpus indexes matching raw in product order: newest first for
// Latest and Media, most liked first for Top (People has no tweets). Results are
// cached until the corpus changes. The caller holds c.mu for reading.
func (s *Server) matches(raw, product string) []int32 {
	c := s.corpus
	key := product + "\x00" + raw
	c.cacheMu.Lock()
	if c.cacheVer != c.version || c.cache == nil || len(c.cache) > 256 {
		c.cache, c.cacheVer = make(map[string][]int32), c.version
	}
	list, ok := c.cache[key]
	c.cacheMu.Unlock()
	if ok {
		return list
	}
	list = []int32{}
	if product != "People" {
		q := parseQuery(raw)
		for i := len(c.order) - 1; i >= 0; i-- {
			r := &c.recs[c.order[i]]
			if product == "Media" && len(r.t.Media) == 0 {
				continue
			}
			if q.matches(c, r) {
				list = append(list, c.order[i])
			}
		}
		if product == "Top" {
			slices.SortStableFunc(list, func(a, b int32) int {
				la, lb := c.recs[a].t.LikeCount, c.recs[b].t.LikeCount
				switch {
				case la > lb:
					return -1
				case la < lb:
					return 1
				}
				return 0
			})
		}
	}
	c.cacheMu.Lock()
	if c.cacheVer == c.version {
		c.cache[key] = list
	}
	c.cacheMu.Unlock()
	return list
}

// MatchingIDs returns the ids SearchTimeline serves for rawQuery and product
// (Latest, Top, Media, People), in order: what a client paging to the end collects.
func (s *Server) MatchingIDs(rawQuery, product string) []string {
	c := s.corpus
	c.mu.RLock()
	defer c.mu.RUnlock()
	list := s.matches(rawQuery, product)
	out := make([]string, len(list))
	for i, idx := range list {
		out[i] = c.recs[idx].t.ID
	}
	return out
}

func intVar(vars map[string]any, name string, def int) int {
	switch v := vars[name].(type) {
	case float64:
		return int(v)
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return def
}

func stringVar(vars map[string]any, name, def string) string {
	if v, ok := vars[name].(string); ok {
		return v
	}
	return def
}
