package heuristic

import (
	"regexp"
	"strings"

	"nexus/pipeline/analyze"
)

var urlRE = regexp.MustCompile(`https?://\S+`)

// stripURLs drops links from a text before its words are weighed.
func stripURLs(s string) string { return urlRE.ReplaceAllString(s, " ") }

// settledCues are what an asker says once the question is answered.
var settledCues = []string{"went with", "ended up with", "ended up going with", "sorted", "solved", "question closed",
	"signed up", "installed", "thanks everyone", "thanks all", "problem solved", "settled on", "decided on"}

// settled reports whether the hit's author later said, in the thread, that the matter
// is closed: a reply then comes too late to be an opportunity.
func settled(conv analyze.Conversation) bool {
	hit, ok := conv.Node(conv.HitID)
	if !ok {
		return false
	}
	for _, n := range conv.Tweets {
		t := n.Tweet
		if t.UserID != hit.Tweet.UserID || t.ID == hit.Tweet.ID || !t.CreatedAt.After(hit.Tweet.CreatedAt) {
			continue
		}
		text := " " + norm(t.Text) + " "
		for _, c := range settledCues {
			if strings.Contains(text, c) {
				return true
			}
		}
	}
	return false
}

var cueNegators = map[string]bool{"not": true, "no": true, "never": true, "don't": true, "dont": true, "isn't": true,
	"aren't": true, "nicht": true, "pas": true}

// negatedCue reports whether every occurrence of cue in text follows a negator in the
// two words before it ("not looking for", "never tried"): the cue then says the opposite.
func negatedCue(text, cue string) bool {
	found := false
	for i := 0; ; {
		j := strings.Index(text[i:], cue)
		if j < 0 {
			break
		}
		found = true
		before := strings.Fields(text[max(0, i+j-24) : i+j])
		neg := false
		for _, w := range before[max(0, len(before)-2):] {
			neg = neg || cueNegators[w]
		}
		if !neg {
			return false
		}
		i += j + len(cue)
	}
	return found
}
