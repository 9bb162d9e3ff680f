package xfake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tweet is one post the fake serves. Hashtags (#tag), mentions (@name) and links
// (http:// or https://) written in Text become the tweet's entities, with indices,
// exactly as X derives them; links are shown through t.co (see TCo).
type Tweet struct {
	ID             string // decimal snowflake; AddTweet assigns one from the clock when empty
	AuthorID       string // a User.ID known to the fake; AddTweet uses DefaultUserID when empty
	Text           string // the full text; over 280 runes it is served as a note tweet
	CreatedAt      time.Time
	Lang           string // defaults to "en"
	ReplyCount     int64  // served as max(ReplyCount, number of replies in the fake)
	RetweetCount   int64
	LikeCount      int64
	QuoteCount     int64
	BookmarkCount  int64
	ViewCount      int64
	NoViews        bool   // views carries no count ({"state":"Enabled"}), as on old posts
	ConversationID string // defaults to the parent's conversation, else ID
	InReplyToID    string
	QuotedID       string // the quoted post; rendered nested in quoted_status_result
	RetweetedID    string // a native retweet of this post; rendered in legacy.retweeted_status_result
	Media          []Media
	Visibility     bool    // wrapped in TweetWithVisibilityResults
	Deleted        bool    // rendered as a TweetTombstone; never a search result
	Quality        Quality // the reply section TweetDetail files this reply under
}

// Media is one attachment. URL is media_url_https (a thumbnail for video and GIF);
// VideoURL is the best mp4 variant, derived from the media id when empty.
type Media struct {
	Type     string // photo | video | animated_gif
	URL      string
	VideoURL string
}

// Quality is how X ranks a reply in TweetDetail: high-quality threads come first,
// low-quality ones only behind a ShowMoreThreads cursor, abusive ones behind a
// ShowMoreThreadsPrompt cursor.
type Quality int

// The reply sections of a TweetDetail conversation.
const (
	QualityHigh Quality = iota
	QualityLow
	QualityAbusive
)

func (q Quality) section() string {
	switch q {
	case QualityLow:
		return "LowQuality"
	case QualityAbusive:
		return "AbusiveQuality"
	}
	return "HighQuality"
}

// User is one X account the fake knows as an author.
type User struct {
	ID           string
	ScreenName   string
	Name         string
	CreatedAt    time.Time
	Description  string
	Location     string
	Followers    int64
	Following    int64
	Statuses     int64
	MediaCount   int64
	Favorites    int64
	Listed       int64 // only the legacy schema carries it
	BlueVerified bool
	Verified     bool
	VerifiedType string // "", "Business", "Government"
	Protected    bool
}

// DefaultUserID is the author of tweets added without an AuthorID.
const DefaultUserID = "1000000001"

// AdvertiserUserID is the author of the promoted tweets in search pages.
const AdvertiserUserID = "1000000002"

// twepoch is the start of X's snowflake clock, in Unix milliseconds.
const twepoch = 1288834974657

// Snowflake returns the id X would give a post created at t (sequence bits seq).
func Snowflake(t time.Time, seq uint64) string {
	return strconv.FormatUint(snowflake(t, seq), 10)
}

func snowflake(t time.Time, seq uint64) uint64 {
	return uint64(t.UnixMilli()-twepoch)<<22 | seq&(1<<22-1)
}

// snowflakeTime is the creation time encoded in an id.
func snowflakeTime(id uint64) time.Time {
	return time.UnixMilli(int64(id>>22) + twepoch).UTC()
}

// rec is a stored tweet with what matching needs precomputed.
type rec struct {
	t      Tweet
	id     uint64
	lower  string // lower-cased text for the query evaluator
	author int32  // index into corpus.users
}

// corpus holds the fake's tweets and users. Tweets live in compact records; JSON is
// rendered per response, never stored.
type corpus struct {
	mu         sync.RWMutex
	recs       []rec
	byID       map[uint64]int32
	children   map[uint64][]int32 // parent id → replies
	order      []int32            // record indexes by ascending id
	users      []User
	userByID   map[string]int32
	userByName map[string]int32 // lower-cased screen name
	version    uint64           // bumped on every change; keys the match cache
	ads        []rec            // promoted tweets: served in promoted entries, never searched

	cacheMu  sync.Mutex
	cache    map[string][]int32
	cacheVer uint64

	userMu    sync.Mutex
	userCache [2][][]byte // rendered users: [0] 2026 schema, [1] legacy, by index
}

func newCorpus() *corpus {
	c := &corpus{
		byID:       make(map[uint64]int32),
		children:   make(map[uint64][]int32),
		userByID:   make(map[string]int32),
		userByName: make(map[string]int32),
	}
	c.addUserLocked(User{
		ID: DefaultUserID, ScreenName: "xfake", Name: "X Fake",
		CreatedAt:   time.Date(2013, 12, 14, 4, 35, 55, 0, time.UTC),
		Description: "The default author of the fake X.", Followers: 1000, Following: 100,
	})
	ads, _ := c.addUserLocked(User{
		ID: AdvertiserUserID, ScreenName: "xfake_ads", Name: "Nexus Ads", BlueVerified: true,
		VerifiedType: "Business", Followers: 250000, Following: 12,
	})
	for i, text := range []string{
		"Reach the right audience at the right moment. Try Nexus Ads today https://ads.example.com/start",
		"Your next customers are already talking about you. Listen in: https://ads.example.com/listen",
		"Ship faster with fewer meetings. Start a free trial https://ads.example.com/trial",
	} {
		id := snowflake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), uint64(i+1))
		c.ads = append(c.ads, rec{
			t: Tweet{
				ID: strconv.FormatUint(id, 10), AuthorID: ads.ID, Text: text, Lang: "en",
				CreatedAt: snowflakeTime(id), ConversationID: strconv.FormatUint(id, 10),
				LikeCount: 1200, RetweetCount: 40, ViewCount: 2500000,
			},
			id: id, lower: strings.ToLower(text), author: c.userByID[ads.ID],
		})
	}
	return c
}

func (c *corpus) addUserLocked(u User) (User, error) {
	if u.ID == "" {
		u.ID = strconv.Itoa(2000000000 + len(c.users))
	}
	if _, err := strconv.ParseUint(u.ID, 10, 64); err != nil {
		return u, fmt.Errorf("user id %q: not a decimal id", u.ID)
	}
	if u.ScreenName == "" {
		u.ScreenName = "user" + u.ID
	}
	if u.Name == "" {
		u.Name = u.ScreenName
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Date(2015, 3, 1, 12, 0, 0, 0, time.UTC)
	}
	if i, ok := c.userByID[u.ID]; ok {
		delete(c.userByName, strings.ToLower(c.users[i].ScreenName))
		c.users[i] = u
		c.userMu.Lock()
		for k := range c.userCache {
			if int(i) < len(c.userCache[k]) {
				c.userCache[k][i] = nil
			}
		}
		c.userMu.Unlock()
		c.userByName[strings.ToLower(u.ScreenName)] = i
		return u, nil
	}
	if _, ok := c.userByName[strings.ToLower(u.ScreenName)]; ok {
		return u, fmt.Errorf("user %q: screen name taken", u.ScreenName)
	}
	c.userByID[u.ID] = int32(len(c.users))
	c.userByName[strings.ToLower(u.ScreenName)] = int32(len(c.users))
	c.users = append(c.users, u)
	c.version++
	return u, nil
}

// addTweetLocked validates t, fills its defaults and stores it. now is used for a
// missing CreatedAt and id.
func (c *corpus) addTweetLocked(t Tweet, now time.Time) (Tweet, error) {
	var id uint64
	if t.ID == "" {
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now
		}
		id = snowflake(t.CreatedAt, uint64(len(c.recs)))
		for c.has(id) {
			id++
		}
		t.ID = strconv.FormatUint(id, 10)
	} else {
		var err error
		if id, err = strconv.ParseUint(t.ID, 10, 64); err != nil {
			return t, fmt.Errorf("tweet id %q: not a decimal id", t.ID)
		}
		if c.has(id) {
			return t, fmt.Errorf("tweet %s: already in the corpus", t.ID)
		}
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = snowflakeTime(id)
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Second)
	if t.AuthorID == "" {
		t.AuthorID = DefaultUserID
	}
	author, ok := c.userByID[t.AuthorID]
	if !ok {
		return t, fmt.Errorf("tweet %s: unknown author %s", t.ID, t.AuthorID)
	}
	if t.Lang == "" {
		t.Lang = "en"
	}
	var parent uint64
	if t.InReplyToID != "" {
		p, err := strconv.ParseUint(t.InReplyToID, 10, 64)
		if err != nil {
			return t, fmt.Errorf("tweet %s: in_reply_to %q: not a decimal id", t.ID, t.InReplyToID)
		}
		parent = p
		if t.ConversationID == "" {
			if pi, ok := c.byID[p]; ok {
				t.ConversationID = c.recs[pi].t.ConversationID
			} else {
				t.ConversationID = t.InReplyToID
			}
		}
	}
	if t.ConversationID == "" {
		t.ConversationID = t.ID
	}
	i := int32(len(c.recs))
	c.recs = append(c.recs, rec{t: t, id: id, lower: strings.ToLower(t.Text), author: author})
	c.byID[id] = i
	if parent != 0 {
		c.children[parent] = append(c.children[parent], i)
	}
	// Most additions are the newest tweet, so this is usually an append.
	pos, _ := slices.BinarySearchFunc(c.order, id, func(j int32, id uint64) int {
		switch {
		case c.recs[j].id < id:
			return -1
		case c.recs[j].id > id:
			return 1
		}
		return 0
	})
	c.order = slices.Insert(c.order, pos, i)
	c.version++
	return t, nil
}

func (c *corpus) has(id uint64) bool {
	_, ok := c.byID[id]
	return ok
}

// lookup returns the record of id, or nil.
func (c *corpus) lookup(id string) *rec {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil
	}
	i, ok := c.byID[n]
	if !ok {
		return nil
	}
	return &c.recs[i]
}

func (c *corpus) user(r *rec) *User { return &c.users[r.author] }

// AddTweet stores t and returns it with its defaults filled in (ID, CreatedAt,
// ConversationID, Lang, AuthorID). It panics on a duplicate or malformed id or an
// unknown author: that is a mistake in the test, like a bad httptest setup.
func (s *Server) AddTweet(t Tweet) Tweet {
	c := s.corpus
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.addTweetLocked(t, s.now())
	if err != nil {
		panic("xfake: AddTweet: " + err.Error())
	}
	return t
}

// AddUser stores u (replacing the user with the same ID) and returns it with its
// defaults filled in. It panics when the screen name belongs to another user.
func (s *Server) AddUser(u User) User {
	c := s.corpus
	c.mu.Lock()
	defer c.mu.Unlock()
	u, err := c.addUserLocked(u)
	if err != nil {
		panic("xfake: AddUser: " + err.Error())
	}
	return u
}

// Tweet returns the stored tweet with id.
func (s *Server) Tweet(id string) (Tweet, bool) {
	s.corpus.mu.RLock()
	defer s.corpus.mu.RUnlock()
	if r := s.corpus.lookup(id); r != nil {
		return r.t, true
	}
	return Tweet{}, false
}

// User returns the user with the given id or screen name (case-insensitive).
func (s *Server) User(idOrScreenName string) (User, bool) {
	c := s.corpus
	c.mu.RLock()
	defer c.mu.RUnlock()
	if i, ok := c.userByID[idOrScreenName]; ok {
		return c.users[i], true
	}
	if i, ok := c.userByName[strings.ToLower(idOrScreenName)]; ok {
		return c.users[i], true
	}
	return User{}, false
}

// Users returns every user, in insertion order.
func (s *Server) Users() []User {
	s.corpus.mu.RLock()
	defer s.corpus.mu.RUnlock()
	return slices.Clone(s.corpus.users)
}

// TweetCount is the number of stored tweets, deleted ones included.
func (s *Server) TweetCount() int {
	s.corpus.mu.RLock()
	defer s.corpus.mu.RUnlock()
	return len(s.corpus.recs)
}

// Replies returns the ids of the direct replies to id, in insertion order.
func (s *Server) Replies(id string) []string {
	c := s.corpus
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil
	}
	var out []string
	for _, i := range c.children[n] {
		out = append(out, c.recs[i].t.ID)
	}
	return out
}
