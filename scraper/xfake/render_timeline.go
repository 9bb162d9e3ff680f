package xfake

import (
	"strconv"
	"time"
)

// Timeline building blocks shared by SearchTimeline and TweetDetail: entries,
// module items and cursors, in the shapes of the fixtures.

// itemContent writes a TimelineTweet itemContent holding t.
func (r *renderer) itemContent(t *rec, displayType string, ad *adInfo) {
	w := r.w
	w.kobj("itemContent")
	w.kstr("__typename", "TimelineTweet")
	w.kstr("itemType", "TimelineTweet")
	if ad != nil {
		r.promotedMetadata(ad)
	}
	w.kstr("tweetDisplayType", displayType)
	w.kobj("tweet_results")
	w.key("result")
	r.tweetResult(t, 0)
	w.end()
	w.end()
}

// clientEventInfo writes X's analytics block; parsers ignore it but it is part of the
// shape.
func (r *renderer) clientEventInfo(component, section string) {
	w := r.w
	w.kobj("clientEventInfo")
	w.kstr("component", component)
	if section != "" || component != "tweet" {
		// The focal tweet of a TweetDetail carries no details.
		w.kobj("details")
		if section != "" {
			w.kobj("conversationDetails")
			w.kstr("conversationSection", section)
			w.end()
		}
		w.kobj("timelinesDetails")
		w.kstr("controllerData", "DAACDAAFDAABDAABDAABCgABAAAAAEAAAAAAAAwAAgoAAQAAAAAAAAABCgACnaRDN4oMZRMKAAUYZlJQgbaH/ggABgAAAAEKAAeDOStBrE7YFAoACAAAAZ/Y7LbFAAAAAAA=")
		w.end()
		w.end()
	}
	w.kstr("element", "tweet")
	w.end()
}

// tweetEntry writes a TimelineTimelineItem entry for t.
func (r *renderer) tweetEntry(entryID string, sortIndex int64, t *rec, component, displayType, section string, ad *adInfo) {
	w := r.w
	w.obj()
	w.kobj("content")
	w.kstr("__typename", "TimelineTimelineItem")
	r.clientEventInfo(component, section)
	w.kstr("entryType", "TimelineTimelineItem")
	r.itemContent(t, displayType, ad)
	w.end()
	w.kstr("entryId", entryID)
	w.kstr("sortIndex", strconv.FormatInt(sortIndex, 10))
	w.end()
}

// cursorEntry writes a cursor entry. In the 2026 shape the cursor is the entry's
// content; wrapped (before 2026) it is the itemContent of a TimelineTimelineItem.
func (r *renderer) cursorEntry(entryID, sortIndex, cursorType, value string, wrapped bool, action string) {
	w := r.w
	w.obj()
	w.kobj("content")
	if wrapped {
		w.kstr("__typename", "TimelineTimelineItem")
		w.kstr("entryType", "TimelineTimelineItem")
		w.kobj("itemContent")
		w.kstr("__typename", "TimelineTimelineCursor")
		w.kstr("itemType", "TimelineTimelineCursor")
		r.cursorFields(cursorType, value, action)
		w.end()
	} else {
		w.kstr("__typename", "TimelineTimelineCursor")
		w.kstr("entryType", "TimelineTimelineCursor")
		r.cursorFields(cursorType, value, action)
	}
	w.end()
	w.kstr("entryId", entryID)
	w.kstr("sortIndex", sortIndex)
	w.end()
}

func (r *renderer) cursorFields(cursorType, value, action string) {
	w := r.w
	w.kstr("cursorType", cursorType)
	if action != "" {
		w.kobj("displayTreatment")
		w.kstr("actionText", action)
		w.end()
	}
	w.kstr("value", value)
}

// adInfo is a promoted entry's advertiser.
type adInfo struct {
	advertiser int32
	impression string
}

func (r *renderer) promotedMetadata(ad *adInfo) {
	w := r.w
	w.kobj("promotedMetadata")
	w.kobj("adMetadataContainer")
	w.kbool("renderLegacyWebsiteCard", false)
	w.end()
	w.kobj("advertiser_results")
	w.key("result")
	r.user(ad.advertiser)
	w.end()
	w.kobj("clickTrackingInfo")
	w.kemptyArr("urlParams")
	w.end()
	w.kstr("disclosureType", "NoDisclosure")
	w.kemptyArr("experimentValues")
	w.kstr("impressionId", ad.impression)
	w.kstr("impressionString", ad.impression)
	w.end()
}

// sortBase is the first sortIndex of a response: like X's, a snowflake of now.
func sortBase(now time.Time) int64 {
	return (now.UnixMilli() - twepoch) << 22
}
