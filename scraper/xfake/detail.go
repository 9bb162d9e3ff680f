package xfake

import (
	"net/http"
	"slices"
	"strconv"
)

// TweetDetail: data.threaded_conversation_with_injections_v2.instructions.
//
// Without a cursor: the ancestors of the focal tweet (root first) and the focal
// tweet as tweet-<id> entries, then the first ThreadsPerPage replies to it, each as
// a conversationthread-<replyId> module (TimelineTimelineModule, VerticalConversation)
// whose items are that reply and, depth first, the replies under it: ModuleItems of
// them, then a conversationthread-<id>-cursor-showmore-<n> item (cursorType ShowMore)
// when the branch has more. Then one cursor entry:
//
//   - cursor-bottom-<n> (Bottom) while high-quality threads remain;
//   - then cursor-showmorethreads-<n> (ShowMoreThreads, "Show probable spam") when
//     low-quality replies exist;
//   - then cursor-showmorethreadsprompt-<n> (ShowMoreThreadsPrompt) for abusive ones.
//
// A Bottom / ShowMoreThreads / ShowMoreThreadsPrompt cursor returns the next page of
// threads in a TimelineAddEntries; a ShowMore cursor returns the next ModuleMore items
// of its module in a TimelineAddToModule (moduleEntryId, moduleItems, prepend false),
// ending with a new ShowMore item while the branch has more. Following every cursor
// yields every reply under the focal tweet exactly once.

func (s *Server) detail(vars map[string]any, view viewConfig) reply {
	focalID := stringVar(vars, "focalTweetId", "")
	if v, ok := vars["focalTweetId"].(float64); ok {
		focalID = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if focalID == "" {
		return jsonReply(http.StatusBadRequest, ErrorBody(errBadRequest(`Variable "$focalTweetId" of required type "ID!" was not provided.`)))
	}
	var cur detailCursor
	hasCursor := false
	if v := stringVar(vars, "cursor", ""); v != "" {
		if cur, hasCursor = parseDetailCursor(v); !hasCursor {
			return jsonReply(http.StatusOK, []byte(`{"data":{"threaded_conversation_with_injections_v2":{"instructions":[]}}}`))
		}
	}
	base := sortBase(s.now())

	c := s.corpus
	c.mu.RLock()
	defer c.mu.RUnlock()
	focal := c.lookup(focalID)
	if focal == nil || focal.t.Deleted {
		w := &jsonw{}
		w.obj()
		writeErrors(w, []XError{errMissingStatus})
		w.kemptyObj("data")
		w.end()
		return jsonReply(http.StatusOK, w.b)
	}
	d := &detailPage{
		renderer: renderer{c: c, schema: view.schema, shape: view.shape, w: newPooledWriter()},
		focal:    focal, paging: view.paging, base: base, page: cur.page,
	}
	w := d.w
	w.obj()
	w.kobj("data")
	w.kobj("threaded_conversation_with_injections_v2")
	w.karr("instructions")
	switch {
	case hasCursor && cur.module != 0:
		d.addToModule(cur)
	case hasCursor:
		d.threadPage(cur)
	default:
		if !d.wrapped() {
			w.obj()
			w.kstr("type", "TimelineClearCache")
			w.end()
		}
		d.firstPage()
		w.obj()
		w.kstr("type", "TimelineTerminateTimeline")
		w.kstr("direction", "Top")
		w.end()
	}
	w.endArr()
	if !hasCursor {
		w.kobj("metadata")
		w.kobj("reader_mode_config")
		w.kbool("is_reader_mode_available", true)
		w.end()
		w.kobj("scribeConfig")
		w.kstr("page", "ranked_replies")
		w.end()
		w.end()
	}
	w.end()
	w.end()
	w.end()
	rep := jsonReply(http.StatusOK, w.b)
	rep.pooled = w.b
	return rep
}

// detailPage renders one TweetDetail response.
type detailPage struct {
	renderer
	focal  *rec
	paging Paging
	base   int64
	page   int
	sort   int64 // entries written so far, for sortIndex
}

func (d *detailPage) nextSort() string {
	d.sort++
	return strconv.FormatInt(d.base-d.sort*10, 10)
}

// wrapped reports whether Bottom/ShowMoreThreads cursors use the pre-2026 shape.
func (d *detailPage) wrapped() bool {
	switch d.schema {
	case SchemaLegacy:
		return true
	case SchemaMixed:
		return d.page%2 == 1
	}
	return false
}

// ranked returns the replies to id in X's "Relevance" order: the focal author's own
// replies first (a self-thread), then by likes, then oldest first.
func (d *detailPage) ranked(id uint64) []int32 {
	c := d.c
	kids := slices.Clone(c.children[id])
	author := d.focal.author
	slices.SortStableFunc(kids, func(a, b int32) int {
		ra, rb := &c.recs[a], &c.recs[b]
		sa, sb := ra.author == author, rb.author == author
		switch {
		case sa != sb:
			if sa {
				return -1
			}
			return 1
		case ra.t.LikeCount != rb.t.LikeCount:
			if ra.t.LikeCount > rb.t.LikeCount {
				return -1
			}
			return 1
		case ra.id < rb.id:
			return -1
		case ra.id > rb.id:
			return 1
		}
		return 0
	})
	return kids
}

// threads returns the top-level replies of one section.
func (d *detailPage) threads(q Quality) []int32 {
	var out []int32
	for _, i := range d.ranked(d.focal.id) {
		if d.c.recs[i].t.Quality == q {
			out = append(out, i)
		}
	}
	return out
}

// branch is the module of reply i: i, then every reply under it, depth first.
func (d *detailPage) branch(i int32) []int32 {
	out := []int32{i}
	stack := []int32{i}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top != i {
			out = append(out, top)
		}
		kids := d.ranked(d.c.recs[top].id)
		for k := len(kids) - 1; k >= 0; k-- {
			stack = append(stack, kids[k])
		}
	}
	return out
}

func (d *detailPage) firstPage() {
	w := d.w
	c := d.c
	w.obj()
	w.kstr("type", "TimelineAddEntries")
	w.karr("entries")
	var chain []*rec
	seen := map[uint64]bool{d.focal.id: true}
	for p := c.lookup(d.focal.t.InReplyToID); p != nil && !seen[p.id]; p = c.lookup(p.t.InReplyToID) {
		seen[p.id] = true
		chain = append(chain, p)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d.tweetEntry("tweet-"+chain[i].t.ID, d.base-d.sort*10, chain[i], "tweet", "Tweet", "", nil)
		d.sort++
	}
	d.tweetEntry("tweet-"+d.focal.t.ID, d.base-d.sort*10, d.focal, "tweet", "Tweet", "", nil)
	d.sort++
	d.threadEntries(detailCursor{section: QualityHigh})
	w.endArr()
	w.end()
}

func (d *detailPage) threadPage(cur detailCursor) {
	w := d.w
	w.obj()
	w.kstr("type", "TimelineAddEntries")
	w.karr("entries")
	d.threadEntries(cur)
	w.endArr()
	w.end()
}

// threadEntries writes the modules of one page of threads and the cursor to the
// next page, section after section.
func (d *detailPage) threadEntries(cur detailCursor) {
	list := d.threads(cur.section)
	start := min(cur.off, len(list))
	end := min(start+d.paging.ThreadsPerPage, len(list))
	for _, i := range list[start:end] {
		d.module(i, cur.section)
	}
	next := detailCursor{section: cur.section, off: end, page: cur.page + 1}
	if end < len(list) {
		si := d.nextSort()
		d.cursorEntry("cursor-bottom-"+si, si, "Bottom", next.String(), d.wrapped(), "")
		return
	}
	for q := cur.section + 1; q <= QualityAbusive; q++ {
		if len(d.threads(q)) == 0 {
			continue
		}
		next = detailCursor{section: q, page: cur.page + 1}
		si := d.nextSort()
		if q == QualityLow {
			d.cursorEntry("cursor-showmorethreads-"+si, si, "ShowMoreThreads", next.String(), d.wrapped(), "Show probable spam")
		} else {
			d.cursorEntry("cursor-showmorethreadsprompt-"+si, si, "ShowMoreThreadsPrompt", next.String(), d.wrapped(),
				"Show additional replies, including those that may contain offensive content")
		}
		return
	}
}

// module writes the conversationthread module of top-level reply i.
func (d *detailPage) module(i int32, q Quality) {
	w := d.w
	head := &d.c.recs[i]
	items := d.branch(i)
	shown := items[:min(d.paging.ModuleItems, len(items))]
	moduleID := "conversationthread-" + head.t.ID
	w.obj()
	w.kobj("content")
	w.kstr("__typename", "TimelineTimelineModule")
	d.clientEventInfo("tweet", q.section())
	w.kstr("displayType", "VerticalConversation")
	w.kstr("entryType", "TimelineTimelineModule")
	w.karr("items")
	d.moduleItems(moduleID, shown, q)
	if len(shown) < len(items) {
		d.showMore(moduleID, head.id, len(shown), q)
	}
	w.endArr()
	w.kobj("metadata")
	w.kobj("conversationMetadata")
	w.karr("allTweetIds")
	for _, j := range shown {
		w.str(d.c.recs[j].t.ID)
	}
	w.endArr()
	w.kbool("enableDeduplication", true)
	w.end()
	w.end()
	w.end()
	w.kstr("entryId", moduleID)
	w.kstr("sortIndex", d.nextSort())
	w.end()
}

func (d *detailPage) moduleItems(moduleID string, items []int32, q Quality) {
	w := d.w
	for _, j := range items {
		t := &d.c.recs[j]
		display := "Tweet"
		if p := d.c.lookup(t.t.InReplyToID); p != nil && t.author == d.focal.author && p.author == d.focal.author {
			display = "SelfThread"
		}
		w.obj()
		w.kstr("entryId", moduleID+"-tweet-"+t.t.ID)
		w.kobj("item")
		d.clientEventInfo("tweet", q.section())
		d.itemContent(t, display, nil)
		w.end()
		w.end()
	}
}

// showMore writes a module's ShowMore cursor item for the items after off.
func (d *detailPage) showMore(moduleID string, head uint64, off int, q Quality) {
	w := d.w
	next := detailCursor{module: head, section: q, off: off, page: d.page + 1}
	w.obj()
	w.kstr("entryId", moduleID+"-cursor-showmore-"+strconv.FormatUint(hashString(next.String())>>1, 10))
	w.kobj("item")
	w.kobj("clientEventInfo")
	w.kobj("details")
	w.kobj("conversationDetails")
	w.kstr("conversationSection", q.section())
	w.end()
	w.end()
	w.end()
	w.kobj("itemContent")
	w.kstr("__typename", "TimelineTimelineCursor")
	w.kstr("itemType", "TimelineTimelineCursor")
	d.cursorFields("ShowMore", next.String(), "Show replies")
	w.end()
	w.end()
	w.end()
}

// addToModule answers a module's ShowMore cursor.
func (d *detailPage) addToModule(cur detailCursor) {
	w := d.w
	i, ok := d.c.byID[cur.module]
	if !ok {
		return
	}
	head := &d.c.recs[i]
	items := d.branch(i)
	start := min(cur.off, len(items))
	end := min(start+d.paging.ModuleMore, len(items))
	moduleID := "conversationthread-" + head.t.ID
	q := head.t.Quality
	w.obj()
	w.kstr("type", "TimelineAddToModule")
	w.karr("moduleItems")
	d.moduleItems(moduleID, items[start:end], q)
	if end < len(items) {
		d.showMore(moduleID, head.id, end, q)
	}
	w.endArr()
	w.kstr("moduleEntryId", moduleID)
	w.kbool("prepend", false)
	w.end()
}

// ConversationIDs returns the ids TweetDetail serves as replies under focalID when
// every cursor is followed (deleted ones included, as tombstones), depth first.
func (s *Server) ConversationIDs(focalID string) []string {
	c := s.corpus
	c.mu.RLock()
	defer c.mu.RUnlock()
	focal := c.lookup(focalID)
	if focal == nil {
		return nil
	}
	d := &detailPage{renderer: renderer{c: c}, focal: focal}
	var out []string
	for q := QualityHigh; q <= QualityAbusive; q++ {
		for _, i := range d.threads(q) {
			for _, j := range d.branch(i) {
				out = append(out, c.recs[j].t.ID)
			}
		}
	}
	return out
}
