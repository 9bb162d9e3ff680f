package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func insertCampaignRow(t testing.TB, s *Store, orgID int64, name string) int64 {
	t.Helper()
	var id int64
	err := s.rw.QueryRow(`INSERT INTO campaigns (org_id, name, definition, created_at, updated_at) VALUES (?, ?, '{}', '', '') RETURNING id`,
		orgID, name).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestUpsertTweetsCountsNewPerCampaign(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	c1 := insertCampaignRow(t, s, org.ID, "one")
	c2 := insertCampaignRow(t, s, org.ID, "two")
	page := func(ids ...int) []StoredTweet {
		var out []StoredTweet
		for _, i := range ids {
			out = append(out, StoredTweet{ID: fmt.Sprint(i), ConversationID: "1", Username: "u", CreatedAt: time.Now(),
				Data: []byte(fmt.Sprintf(`{"id":"%d"}`, i))})
		}
		return out
	}
	if n, err := s.UpsertTweets(ctx, org.ID, c1, 1, page(1, 2, 3)); err != nil || n != 3 {
		t.Fatalf("first page: %d %v", n, err)
	}
	if n, _ := s.UpsertTweets(ctx, org.ID, c1, 2, page(2, 3, 4)); n != 1 {
		t.Fatalf("overlapping page: %d new, want 1", n)
	}
	if n, _ := s.UpsertTweets(ctx, org.ID, c2, 3, page(1, 2)); n != 2 {
		t.Fatalf("another campaign: %d new, want 2", n)
	}
	var stored int
	s.rw.QueryRow(`SELECT COUNT(*) FROM tweets`).Scan(&stored)
	if stored != 4 {
		t.Fatalf("%d tweet rows, want 4 (stored once per organization)", stored)
	}
	if tw, err := s.Tweet(ctx, org.ID, "4"); err != nil || string(tw.Data) != `{"id":"4"}` {
		t.Fatalf("read back: %+v %v", tw, err)
	}
}

// BenchmarkUpsertTweets reports tweets upserted per second, in pages of 20 (one
// transaction per search page, as a run stores them), with realistic ~1.5 KB JSON.
//
//	go test -run '^$' -bench UpsertTweets -count 5 ./store/
func BenchmarkUpsertTweets(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "nexus.db"), Options{Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	c := insertCampaignRow(b, s, org.ID, "bench")
	data := make([]byte, 1500)
	for i := range data {
		data[i] = 'x'
	}
	data[0], data[len(data)-1] = '"', '"'
	const pageSize = 20
	next := 0
	start := time.Now()
	for b.Loop() {
		page := make([]StoredTweet, pageSize)
		for i := range page {
			next++
			page[i] = StoredTweet{ID: fmt.Sprint(1_900_000_000_000_000_000 + next), ConversationID: fmt.Sprint(next / 10),
				Username: "user", CreatedAt: time.Now(), Data: data}
		}
		if _, err := s.UpsertTweets(ctx, org.ID, c, 1, page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(next)/time.Since(start).Seconds(), "tweets/s")
}
