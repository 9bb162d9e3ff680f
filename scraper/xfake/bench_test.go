package xfake

import (
	"io"
	"net/http"
	"net/url"
	"testing"
)

// BenchmarkSearchPage renders one 20-tweet SearchTimeline page (cached query, no
// HTTP), the fake's own cost per request in a load test.
func BenchmarkSearchPage(b *testing.B) {
	s := newTestServer(b, WithCorpus(1, 100_000))
	vars := map[string]any{"rawQuery": "the", "count": 20, "product": "Latest"}
	view := viewConfig{paging: s.paging, promoted: true}
	s.search(vars, view) // matching the query once is BenchmarkSearchNewQuery's business
	var n int
	for b.Loop() {
		rep := s.search(vars, view)
		n = len(rep.body)
		releaseBuf(rep.pooled)
	}
	b.SetBytes(int64(n))
}

// BenchmarkSearchHTTP is a whole GET round trip on loopback, body read but not
// decoded.
func BenchmarkSearchHTTP(b *testing.B) {
	s := newTestServer(b, WithCorpus(1, 100_000), WithRateLimit(OpSearchTimeline, Limit{}))
	u := s.URL() + "/graphql/" + DefaultSearchTimelineID + "/SearchTimeline?" + url.Values{
		"variables": {`{"rawQuery":"the","count":20,"product":"Latest"}`}, "features": {"{}"}}.Encode()
	client := s.Client()
	s.MatchingIDs("the", "Latest")
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("authorization", "Bearer "+WebBearer)
		req.Header.Set("x-csrf-token", ct0A)
		req.Header.Set("cookie", "auth_token="+tokA+"; ct0="+ct0A)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
	if s.Count(OpSearchTimeline) < b.N {
		b.Fatal("requests lost")
	}
}

// BenchmarkSearchNewQuery matches a query never seen before against 100,000 tweets.
func BenchmarkSearchNewQuery(b *testing.B) {
	s := newTestServer(b, WithCorpus(1, 100_000))
	i := 0
	for b.Loop() {
		i++
		s.MatchingIDs("support OR pricing -refund lang:en min_faves:"+itoa(i%50), "Latest")
	}
}

// BenchmarkCorpus100k generates a 100,000-tweet corpus.
func BenchmarkCorpus100k(b *testing.B) {
	for b.Loop() {
		c := newCorpus()
		generate(c, 1, 100_000)
	}
}

// BenchmarkTweetDetailPage renders the first page of a 500-reply conversation.
func BenchmarkTweetDetailPage(b *testing.B) {
	s := newTestServer(b, WithCorpus(1, 10_000))
	conv := s.Conversation("", 500, 6, 1)
	vars := map[string]any{"focalTweetId": conv.RootID}
	view := viewConfig{paging: s.paging}
	for b.Loop() {
		releaseBuf(s.detail(vars, view).pooled)
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
