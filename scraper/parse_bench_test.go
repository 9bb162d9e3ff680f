package scraper

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseFixtures parses the three large 2026 pages (search, thread, profile) from
// bytes on each iteration and reports throughput in tweets and megabytes per second. The
// fixtures are pretty-printed (72% of their bytes are indent); BenchmarkParseFixturesCompact
// parses them as X sends them, without white space.
func BenchmarkParseFixtures(b *testing.B) {
	benchmarkParse(b, benchFixtures(b, false))
}

// BenchmarkParseFixturesCompact is BenchmarkParseFixtures on the compacted bodies.
func BenchmarkParseFixturesCompact(b *testing.B) {
	benchmarkParse(b, benchFixtures(b, true))
}

func benchFixtures(b *testing.B, compact bool) [][]byte {
	var bodies [][]byte
	for _, name := range []string{"raw_search.json", "raw_tweet_details.json", "raw_user_tweets.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", "x", "2026", name))
		if err != nil {
			b.Fatal(err)
		}
		if compact {
			var buf bytes.Buffer
			if err := json.Compact(&buf, body); err != nil {
				b.Fatal(err)
			}
			body = buf.Bytes()
		}
		bodies = append(bodies, body)
	}
	return bodies
}

func benchmarkParse(b *testing.B, bodies [][]byte) {
	var size int64
	for _, body := range bodies {
		size += int64(len(body))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var tweets, iters int
	for b.Loop() {
		for _, body := range bodies {
			p, err := ParseTimeline(body)
			if err != nil {
				b.Fatal(err)
			}
			tweets += len(p.Tweets)
		}
		iters++
	}
	b.ReportMetric(float64(tweets)/b.Elapsed().Seconds(), "tweets/s")
	b.ReportMetric(float64(tweets)/float64(iters), "tweets/op")
}
