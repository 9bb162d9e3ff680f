package analyzetest

import (
	"fmt"
	"strconv"
	"time"

	"nexus/scraper"
)

// Epoch is when test threads start.
var Epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Post is one tweet of a test thread: its id, the id it answers ("" for a root), the
// author's handle, minutes after Epoch, and text. The author has 100 followers; set
// fields on the result for more.
func Post(id, parent, user string, minutes int, text string) scraper.Tweet {
	t := scraper.Tweet{
		ID:          id,
		URL:         "https://x.com/" + user + "/status/" + id,
		CreatedAt:   Epoch.Add(time.Duration(minutes) * time.Minute),
		UserID:      "u-" + user,
		Username:    user,
		DisplayName: user,
		Text:        text,
		Lang:        "en",
		Author:      scraper.User{ID: "u-" + user, Username: user, FollowersCount: 100},
	}
	if parent != "" {
		t.InReplyToID = &parent
	}
	return t
}

// Thread returns a thread of a root and n replies, as a test or a benchmark of size
// wants: replies alternate between answering the root and answering the reply before,
// each a realistic tweet of 100–200 characters. The hit is the root.
func Thread(n int) []scraper.Tweet {
	texts := []string{
		"We tried it for our support inbox last quarter; setup took an afternoon and the pricing was fair for a team of five.",
		"Honestly the onboarding docs are confusing, took me two days to get the integrations working. Support did answer fast though.",
		"Is there a self-hosted option? Our security team will not sign off on another SaaS that stores customer data.",
		"Switched from a spreadsheet to this and never looked back. The weekly digest alone saves me an hour every Monday.",
		"How does it compare to the big players on price? Looking for something under $50/month for a tiny team.",
	}
	out := []scraper.Tweet{Post("100", "", "founder", 0,
		"Any recommendations for a social listening tool for a small team? Looking for an alternative to the expensive enterprise ones.")}
	out[0].LikeCount, out[0].ReplyCount, out[0].Author.FollowersCount = 42, int64(n), 3200
	for i := 1; i <= n; i++ {
		parent := "100"
		if i%2 == 0 {
			parent = strconv.Itoa(100 + i - 1)
		}
		t := Post(strconv.Itoa(100+i), parent, fmt.Sprintf("user%d", i), 3*i, texts[i%len(texts)])
		t.LikeCount = int64(i % 7)
		out = append(out, t)
	}
	return out
}

// Answer is a valid model answer, as the fakes return it.
const Answer = `{"relevance": 86, "sentiment": "neutral", "intent": "seeking_recommendation",
"insights": ["The author asks for an affordable alternative", "2 replies mention pricing"],
"opportunity": true, "opportunity_reason": "Someone is asking for a listening tool for a small team.",
"suggested_replies": ["Nexus runs on one small server and costs nothing per seat; happy to share how teams of five set it up.",
"If self-hosting matters, Nexus is a single binary with SQLite: your data never leaves your machine."]}`
