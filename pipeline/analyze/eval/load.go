package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"nexus/pipeline/analyze"
	"nexus/scraper"
)

// Categories are the kinds of conversation a case may be labelled with, in the order a
// Report lists them.
var Categories = []string{
	"relevant_question",          // a question in the campaign's scope
	"recommendation_request",     // someone asks what to use
	"complaint_about_competitor", // someone unhappy with what they use
	"competitor_mention",         // a competitor named, with no need expressed
	"praise",                     // someone happy with the product or a competitor
	"spam_giveaway",              // giveaways, get-rich posts, follow-and-RT
	"irrelevant_same_word",       // a campaign term meaning something else
	"off_topic",                  // nothing to do with the campaign
	"job_post",                   // a job ad naming a product of the field
	"news_share",                 // a link to news of the field, no one asking anything
}

// CampaignsFile is the file, next to the conversations, that holds the campaigns the
// cases name.
const CampaignsFile = "campaigns.json"

// Epoch is when every thread of the set starts; posts are placed minutes after it.
var Epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Case is one labelled conversation.
type Case struct {
	ID       string
	Category string // one of Categories
	Hard     string // why the case is hard (sarcasm, negation, url_only, answered, language); "" if it is not
	Note     string

	Relevant    bool // about the campaign's subject, whatever the intent
	Opportunity bool // worth the team's reply now

	Campaign     analyze.Campaign
	Conversation analyze.Conversation
}

// fileCase is one line of conversations.jsonl.
type fileCase struct {
	ID          string     `json:"id"`
	Campaign    string     `json:"campaign"`
	Category    string     `json:"category"`
	Relevant    bool       `json:"relevant"`
	Opportunity bool       `json:"opportunity"`
	Hard        string     `json:"hard"`
	Note        string     `json:"note"`
	Hit         string     `json:"hit"`
	Posts       []filePost `json:"posts"`
}

type filePost struct {
	ID        string `json:"id"`
	ReplyTo   string `json:"reply_to"` // "" for the root
	User      string `json:"user"`
	Followers int64  `json:"followers"`
	Likes     int64  `json:"likes"`
	Reposts   int64  `json:"reposts"`
	Lang      string `json:"lang"`
	Minute    int    `json:"minute"` // after Epoch
	Text      string `json:"text"`
}

type fileCampaign struct {
	Name     string   `json:"name"`
	Context  string   `json:"context"`
	Keywords []string `json:"keywords"`
	Phrases  []string `json:"phrases"`
	Hashtags []string `json:"hashtags"`
	Lang     string   `json:"lang"`
}

// Load reads a set: path is a JSON Lines file of cases, and CampaignsFile in the same
// directory holds the campaigns they name. Every case is checked (known campaign and
// category, one root, parents present, the hit present, no empty text) so that a broken
// case fails loudly instead of quietly scoring as a miss.
func Load(path string) ([]Case, error) {
	camps, err := loadCampaigns(filepath.Join(filepath.Dir(path), CampaignsFile))
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()

	var set []Case
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var fc fileCase
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fc); err != nil {
			return nil, fmt.Errorf("eval: %s line %d: %w", filepath.Base(path), line, err)
		}
		if seen[fc.ID] {
			return nil, fmt.Errorf("eval: %s line %d: duplicate case id %q", filepath.Base(path), line, fc.ID)
		}
		seen[fc.ID] = true
		c, err := fc.build(camps)
		if err != nil {
			return nil, fmt.Errorf("eval: %s line %d: case %q: %w", filepath.Base(path), line, fc.ID, err)
		}
		set = append(set, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", path, err)
	}
	return set, nil
}

func loadCampaigns(path string) (map[string]analyze.Campaign, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	var list []fileCampaign
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", filepath.Base(path), err)
	}
	camps := make(map[string]analyze.Campaign, len(list))
	for _, c := range list {
		if c.Name == "" || c.Context == "" {
			return nil, fmt.Errorf("eval: %s: campaign %q needs a name and a context", filepath.Base(path), c.Name)
		}
		if _, dup := camps[c.Name]; dup {
			return nil, fmt.Errorf("eval: %s: duplicate campaign %q", filepath.Base(path), c.Name)
		}
		camps[c.Name] = analyze.Campaign{Name: c.Name, Context: c.Context, Keywords: c.Keywords,
			Phrases: c.Phrases, Hashtags: c.Hashtags, Lang: c.Lang}
	}
	return camps, nil
}

func (fc fileCase) build(camps map[string]analyze.Campaign) (Case, error) {
	if fc.ID == "" {
		return Case{}, errors.New("no id")
	}
	camp, ok := camps[fc.Campaign]
	if !ok {
		return Case{}, fmt.Errorf("unknown campaign %q", fc.Campaign)
	}
	if !slices.Contains(Categories, fc.Category) {
		return Case{}, fmt.Errorf("unknown category %q", fc.Category)
	}
	if fc.Opportunity && !fc.Relevant {
		return Case{}, errors.New("an opportunity must be relevant")
	}
	if len(fc.Posts) == 0 {
		return Case{}, errors.New("no posts")
	}

	byID := make(map[string]filePost, len(fc.Posts))
	rootID := ""
	for _, p := range fc.Posts {
		switch {
		case p.ID == "":
			return Case{}, errors.New("a post has no id")
		case byID[p.ID].ID != "":
			return Case{}, fmt.Errorf("duplicate post %q", p.ID)
		case p.User == "" || p.Lang == "":
			return Case{}, fmt.Errorf("post %q needs a user and a lang", p.ID)
		case strings.TrimSpace(p.Text) == "":
			return Case{}, fmt.Errorf("post %q has no text", p.ID)
		case utf8.RuneCountInString(p.Text) > 280:
			return Case{}, fmt.Errorf("post %q is over 280 characters", p.ID)
		case p.ReplyTo == "" && rootID != "":
			return Case{}, fmt.Errorf("two roots, %q and %q", rootID, p.ID)
		case p.ReplyTo == "":
			rootID = p.ID
		}
		byID[p.ID] = p
	}
	if rootID == "" {
		return Case{}, errors.New("no root (a post without reply_to)")
	}
	for _, p := range fc.Posts {
		// Walking up from every post must reach the root: a parent is present, and there
		// is no cycle.
		steps := 0
		for q := p; q.ReplyTo != ""; steps++ {
			parent, ok := byID[q.ReplyTo]
			if !ok {
				return Case{}, fmt.Errorf("post %q replies to %q, which is not in the thread", q.ID, q.ReplyTo)
			}
			if steps > len(fc.Posts) {
				return Case{}, fmt.Errorf("post %q is in a reply cycle", p.ID)
			}
			q = parent
		}
	}
	if _, ok := byID[fc.Hit]; !ok {
		return Case{}, fmt.Errorf("hit %q is not in the thread", fc.Hit)
	}

	replies := map[string]int64{}
	for _, p := range fc.Posts {
		if p.ReplyTo != "" {
			replies[p.ReplyTo]++
		}
	}
	tweets := make([]scraper.Tweet, 0, len(fc.Posts))
	for _, p := range fc.Posts {
		tweets = append(tweets, p.tweet(rootID, replies[p.ID]))
	}
	conv, err := analyze.Build(fc.Hit, tweets)
	if err != nil {
		return Case{}, err
	}
	return Case{ID: fc.ID, Category: fc.Category, Hard: fc.Hard, Note: fc.Note,
		Relevant: fc.Relevant, Opportunity: fc.Opportunity, Campaign: camp, Conversation: conv}, nil
}

// tweet is the post as the scraper would return it: entities taken from the text, the
// reply count from the thread.
func (p filePost) tweet(rootID string, replies int64) scraper.Tweet {
	t := scraper.Tweet{
		ID: p.ID, URL: "https://x.com/" + p.User + "/status/" + p.ID,
		CreatedAt: Epoch.Add(time.Duration(p.Minute) * time.Minute),
		UserID:    "u-" + p.User, Username: p.User, DisplayName: p.User,
		Text: p.Text, Lang: p.Lang,
		ReplyCount: replies, RetweetCount: p.Reposts, LikeCount: p.Likes,
		ConversationID: rootID,
		Author:         scraper.User{ID: "u-" + p.User, Username: p.User, FollowersCount: p.Followers},
	}
	if p.ReplyTo != "" {
		parent := p.ReplyTo
		t.InReplyToID = &parent
	}
	for _, w := range strings.Fields(p.Text) {
		switch {
		case strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://"):
			t.Links = append(t.Links, w)
		case strings.HasPrefix(w, "#") && len(w) > 1:
			t.Hashtags = append(t.Hashtags, strings.TrimRight(w[1:], ".,!?:;)"))
		case strings.HasPrefix(w, "@") && len(w) > 1:
			t.Mentions = append(t.Mentions, strings.TrimRight(w[1:], ".,!?:;)'’"))
		}
	}
	return t
}
