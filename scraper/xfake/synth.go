package xfake

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Synthetic data: a deterministic function of the seed, so a test that fails can be
// replayed. Texts are drawn from small vocabularies so that queries have realistic
// selectivity: common words match thousands of tweets, topic words a few percent.

// synthNewest is the creation time of the newest synthetic tweet; older ones are
// spread back from it, about a minute apart.
var synthNewest = time.Date(2026, 7, 8, 22, 0, 0, 0, time.UTC)

var (
	wordsEN = strings.Fields(`the a new great love hate launch update pricing support bug feature release
		today team product customer service help anyone recommend alternative switching from to slow
		fast broken amazing terrible api app dashboard integration workflow tool startup coffee weekend
		meeting deadline nexus golang rust python tesla music game travel football weather morning night
		why how does is looking for need best worst price free trial cancel subscription refund account
		login error outage down working finally just really so very with without my our your this that it
		we they you i am was will can should would q&a onboarding docs migration latency uptime roadmap`)
	topicsEN    = strings.Fields(`nexus golang rust python tesla coffee pricing outage launch api support refund`)
	wordsByLang = map[string][]string{
		"es": strings.Fields("hola nuevo precio ayuda gracias problema café mañana equipo producto muy bueno malo soporte lanzamiento"),
		"fr": strings.Fields("bonjour nouveau prix aide merci problème café équipe produit très bon mauvais support lancement"),
		"de": strings.Fields("hallo neu preis hilfe danke problem kaffee morgen team produkt sehr gut schlecht support start"),
		"ja": strings.Fields("こんにちは 新しい 価格 ありがとう 問題 コーヒー チーム 製品 今日 最高 サポート 発売"),
	}
	firstNames = strings.Fields("Ada Alan Grace Linus Ken Rob Barbara Margaret Dennis Frances Edsger Donald Radia Sophie Hedy Katherine John Mary Tim Anita")
	lastNames  = strings.Fields("Lovelace Turing Hopper Torvalds Thompson Pike Liskov Hamilton Ritchie Allen Dijkstra Knuth Perlman Wilson Lamarr Johnson McCarthy Shaw Berners Borg")
	handles    = strings.Fields("dev ops data cloud code ship build hack byte stack loop null void pixel sync async")
	locations  = []string{"", "Berlin", "San Francisco, CA", "London", "Paris", "Tokyo", "São Paulo", "127.0.0.1", "🌍"}
)

// synthUsers is how many authors n synthetic tweets get.
func synthUsers(n int) int { return min(max(n/20, 50), 5000) }

// generate adds n synthetic tweets and their authors to c.
func generate(c *corpus, seed int64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	firstUser := int32(len(c.users))
	nu := synthUsers(n)
	for i := range nu {
		c.addUserLocked(synthUser(rng, i))
	}
	c.recs = append(make([]rec, 0, len(c.recs)+n), c.recs...)
	c.order = append(make([]int32, 0, len(c.order)+n), c.order...)
	t := synthNewest.Add(-time.Duration(n) * time.Minute)
	first := len(c.recs)
	var sb strings.Builder
	for i := range n {
		t = t.Add(time.Duration(30+rng.IntN(60)) * time.Second)
		author := firstUser + int32(rng.IntN(nu))
		tw := Tweet{CreatedAt: t, AuthorID: c.users[author].ID, Lang: "en"}
		id := snowflake(t, rng.Uint64())
		for c.has(id) {
			id++
		}
		tw.ID = strconv.FormatUint(id, 10)
		likes := int64(math.Exp(rng.Float64()*9)) - 1
		tw.LikeCount = likes
		tw.RetweetCount = likes / int64(3+rng.IntN(8))
		tw.ReplyCount = likes / int64(5+rng.IntN(16))
		tw.QuoteCount = likes / int64(20+rng.IntN(30))
		tw.BookmarkCount = likes / int64(10+rng.IntN(20))
		tw.ViewCount = likes*int64(20+rng.IntN(180)) + int64(rng.IntN(500))
		tw.NoViews = rng.IntN(20) == 0
		tw.Visibility = rng.IntN(33) == 0
		tw.Deleted = rng.IntN(100) == 0

		recent := func() *rec { // an earlier synthetic tweet, close in time
			k := first + max(i-1-rng.IntN(500), 0)
			return &c.recs[k]
		}
		roll := rng.IntN(100)
		var rt *rec
		if i > 0 && roll >= 15 && roll < 18 {
			rt = recent()
			if rt.t.RetweetedID != "" {
				rt = &c.recs[c.byID[mustID(rt.t.RetweetedID)]]
			}
			if rt.t.Deleted { // X drops the retweets of a deleted post
				rt, roll = nil, 100
			}
		}
		sb.Reset()
		switch {
		case i > 0 && roll < 15: // a reply
			p := recent()
			tw.InReplyToID = p.t.ID
			tw.ConversationID = p.t.ConversationID
			tw.Lang = p.t.Lang
			sb.WriteString("@" + c.users[p.author].ScreenName + " ")
			synthText(&sb, rng, tw.Lang, 4+rng.IntN(10))
		case rt != nil: // a native retweet
			p := rt
			tw.RetweetedID = p.t.ID
			tw.Lang = p.t.Lang
			tw.LikeCount, tw.ReplyCount, tw.QuoteCount, tw.BookmarkCount = 0, 0, 0, 0
			tw.RetweetCount = p.t.RetweetCount
			sb.WriteString(p.t.Text)
		default:
			if rng.IntN(100) < 12 {
				langs := [...]string{"es", "fr", "de", "ja"}
				tw.Lang = langs[rng.IntN(len(langs))]
			}
			synthText(&sb, rng, tw.Lang, 5+rng.IntN(12))
			if rng.IntN(33) == 0 { // a long post, served as a note tweet
				for sb.Len() < 400 {
					sb.WriteString(". ")
					synthText(&sb, rng, tw.Lang, 8+rng.IntN(8))
				}
			}
			if i > 0 && rng.IntN(100) < 6 {
				tw.QuotedID = recent().t.ID
			}
		}
		if tw.RetweetedID == "" {
			if rng.IntN(5) == 0 {
				sb.WriteString(" #" + topicsEN[rng.IntN(len(topicsEN))])
			}
			if rng.IntN(10) == 0 {
				sb.WriteString(" @" + c.users[firstUser+int32(rng.IntN(nu))].ScreenName)
			}
			if rng.IntN(12) == 0 {
				sb.WriteString(" https://example.com/" + wordsEN[rng.IntN(len(wordsEN))] + "/" + strconv.Itoa(rng.IntN(1000)))
			}
			if rng.IntN(10) == 0 {
				tw.Media = synthMedia(rng, id)
			}
		}
		tw.Text = sb.String()
		if tw.ConversationID == "" {
			tw.ConversationID = tw.ID
		}
		idx := int32(len(c.recs))
		c.recs = append(c.recs, rec{t: tw, id: id, lower: strings.ToLower(tw.Text), author: author})
		c.byID[id] = idx
		if tw.InReplyToID != "" {
			p := mustID(tw.InReplyToID)
			c.children[p] = append(c.children[p], idx)
		}
		c.order = append(c.order, idx)
	}
	// Ids grow with time, but a pre-existing corpus may interleave.
	sortOrder(c)
	c.version++
}

func mustID(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

func sortOrder(c *corpus) {
	byID := func(a, b int32) int { return cmp.Compare(c.recs[a].id, c.recs[b].id) }
	if !slices.IsSortedFunc(c.order, byID) {
		slices.SortFunc(c.order, byID)
	}
}

func synthUser(rng *rand.Rand, i int) User {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	followers := int64(math.Exp(rng.Float64() * 12))
	u := User{
		ID:          strconv.FormatUint(uint64(100000000+rng.IntN(1<<40)), 10),
		ScreenName:  strings.ToLower(first[:1]+last) + "_" + handles[rng.IntN(len(handles))] + strconv.Itoa(i),
		Name:        first + " " + last,
		CreatedAt:   time.Date(2008+rng.IntN(17), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC),
		Description: "Building things with " + topicsEN[rng.IntN(len(topicsEN))] + ". Opinions my own.",
		Location:    locations[rng.IntN(len(locations))],
		Followers:   followers,
		Following:   int64(rng.IntN(2000)),
		Statuses:    int64(rng.IntN(50000)),
		MediaCount:  int64(rng.IntN(3000)),
		Favorites:   int64(rng.IntN(90000)),
		Listed:      followers / 100,
	}
	u.BlueVerified = rng.IntN(5) == 0
	if rng.IntN(40) == 0 {
		u.Verified, u.VerifiedType = true, "Business"
	}
	u.Protected = rng.IntN(50) == 0
	return u
}

func synthText(sb *strings.Builder, rng *rand.Rand, lang string, n int) {
	words := wordsEN
	if w, ok := wordsByLang[lang]; ok {
		words = w
	}
	for k := range n {
		if k > 0 {
			sb.WriteByte(' ')
		}
		w := words[rng.IntN(len(words))]
		if k == 0 && w[0] >= 'a' && w[0] <= 'z' && rng.IntN(2) == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		sb.WriteString(w)
	}
	switch rng.IntN(8) {
	case 0:
		sb.WriteString("!")
	case 1:
		sb.WriteString("?")
	case 2:
		sb.WriteString(" 🚀")
	}
}

func synthMedia(rng *rand.Rand, id uint64) []Media {
	key := base62(id^0x5bd1e995, 15)
	switch r := rng.IntN(10); {
	case r < 7:
		n := 1 + rng.IntN(3)
		m := make([]Media, n)
		for k := range m {
			m[k] = Media{Type: "photo", URL: "https://pbs.twimg.com/media/" + key + strconv.Itoa(k) + ".jpg"}
		}
		return m
	case r < 9:
		return []Media{{Type: "video", URL: "https://pbs.twimg.com/ext_tw_video_thumb/" + strconv.FormatUint(id-4099, 10) + "/pu/img/" + key + ".jpg"}}
	default:
		return []Media{{Type: "animated_gif", URL: "https://pbs.twimg.com/tweet_video_thumb/" + key + ".jpg"}}
	}
}
