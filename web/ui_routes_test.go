package web

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"time"

	"nexus/store"
)

// The UI's pages and actions join the API's routes in TestEveryRouteIsAuthorized, so
// that no page can be added without saying who may use it: every route registered on
// the router needs a case there. A UI route answers a client that does not ask for
// HTML exactly like the API (401, 403, 404 as JSON), which is what the walk checks.
func init() {
	maps.Copy(routeCases, uiRouteCases)
	for _, r := range []string{"GET /setup", "POST /setup", "GET /login", "POST /login", "GET /static/*"} {
		publicRoutes[r] = true
	}
}

// form puts form fields in a query string: the walk sends no body with a UI action,
// and a form value may come from either.
func form(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return path + "?" + q.Encode()
}

func uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()) }

// newConversationA stores a one-tweet conversation of a new campaign of A, analysed
// as an opportunity, and returns the conversation and the opportunity.
func newConversationA(e *apiEnv) (store.Conversation, store.Opportunity) {
	ctx := context.Background()
	c := newCampaignA(e)
	run, err := e.st.CreateRun(ctx, e.orgA.ID, c.ID, "test", "golang", "", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	id := store.SnowflakeMin(time.Now())
	data, _ := json.Marshal(map[string]any{"id": id, "username": "someone", "text": "golang?", "conversation_id": id})
	conv, err := e.st.SaveThread(ctx, run, store.ThreadUpdate{ConversationID: id, HitID: id, ContentHash: "h",
		Tweets: []store.StoredTweet{{ID: id, ConversationID: id, Username: "someone", CreatedAt: time.Now(), Data: data}},
		Thread: json.RawMessage(`[{"id":"` + id + `","depth":0}]`)})
	if err != nil {
		e.t.Fatal(err)
	}
	a := store.Analysis{CacheKey: "k", Status: "ok", Result: json.RawMessage(`{"relevance":80,"opportunity":true}`), Relevance: 80,
		Opportunity: true, Provider: "heuristic", Model: "m"}
	if err := e.st.SaveAnalysis(ctx, run, conv, a, "h", store.OpportunityDecision{Is: true, Relevance: 80}); err != nil {
		e.t.Fatal(err)
	}
	o, ok, err := e.st.OpportunityOfConversation(ctx, e.orgA.ID, conv.ID)
	if err != nil || !ok {
		e.t.Fatalf("opportunity: %v %v", ok, err)
	}
	return conv, o
}

func campaignA(format string) func(*apiEnv) (string, string) {
	return func(e *apiEnv) (string, string) { return fmt.Sprintf(format, newCampaignA(e).ID), "" }
}

var uiRouteCases = map[string]routeCase{
	"GET /":                      {as: "memberA", status: 200, prepare: staticPath("/", "")},
	"POST /logout":               {as: "memberA", status: 303, prepare: staticPath("/logout", "")},
	"GET /campaigns":             {as: "memberA", status: 200, prepare: staticPath("/campaigns", "")},
	"GET /campaigns/new":         {as: "adminA", status: 200, prepare: staticPath("/campaigns/new", "")},
	"POST /campaigns/preview":    {as: "memberA", status: 200, prepare: staticPath("/campaigns/preview", `{"keywords":["golang"]}`)},
	"GET /campaigns/:id":         {as: "memberA", status: 200, hasID: true, prepare: campaignA("/campaigns/%d")},
	"GET /campaigns/:id/edit":    {as: "adminA", status: 200, hasID: true, prepare: campaignA("/campaigns/%d/edit")},
	"POST /campaigns/:id/runs":   {as: "memberA", status: 303, hasID: true, prepare: campaignA("/campaigns/%d/runs")},
	"POST /campaigns/:id/delete": {as: "adminA", status: 303, hasID: true, prepare: campaignA("/campaigns/%d/delete")},
	"POST /campaigns": {as: "adminA", status: 303, prepare: func(e *apiEnv) (string, string) {
		return form("/campaigns", "name", uniq("n"), "keywords", "golang", "threshold", "70"), ""
	}},
	"POST /campaigns/:id": {as: "adminA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return form(fmt.Sprintf("/campaigns/%d", newCampaignA(e).ID), "name", uniq("n"), "keywords", "golang", "threshold", "80"), ""
	}},
	"GET /runs/:id": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/runs/%d", newRunA(e, false).ID), ""
	}},
	"POST /runs/:id/cancel": {as: "memberA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/runs/%d/cancel", newRunA(e, false).ID), ""
	}},
	"GET /conversations/:id": {as: "memberA", status: 200, hasID: true, prepare: func(e *apiEnv) (string, string) {
		c, _ := newConversationA(e)
		return fmt.Sprintf("/conversations/%d", c.ID), ""
	}},
	"GET /opportunities": {as: "memberA", status: 200, prepare: staticPath("/opportunities", "")},
	"POST /opportunities/:id/status": {as: "memberA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		_, o := newConversationA(e)
		return form(fmt.Sprintf("/opportunities/%d/status", o.ID), "status", "done"), ""
	}},
	"POST /opportunities/:id/feedback": {as: "memberA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		_, o := newConversationA(e)
		return form(fmt.Sprintf("/opportunities/%d/feedback", o.ID), "feedback", "up"), ""
	}},
	"GET /accounts": {as: "memberA", status: 200, prepare: staticPath("/accounts", "")},
	"POST /accounts": {as: "adminA", status: 303, prepare: func(e *apiEnv) (string, string) {
		return form("/accounts", "name", uniq("acct"), "cookies", "auth_token="+uniq("tok")+"; ct0=csrf"), ""
	}},
	"POST /accounts/:id/reactivate": {as: "adminA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/accounts/%d/reactivate", newXAccountA(e).ID), ""
	}},
	"POST /accounts/:id/delete": {as: "adminA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/accounts/%d/delete", newXAccountA(e).ID), ""
	}},
	"POST /accounts/reset-locks": {as: "adminA", status: 303, prepare: staticPath("/accounts/reset-locks", "")},
	"GET /integrations":          {as: "memberA", status: 200, prepare: staticPath("/integrations", "")},
	"GET /users":                 {as: "memberA", status: 200, prepare: staticPath("/users", "")},
	"POST /users": {as: "adminA", status: 303, prepare: func(e *apiEnv) (string, string) {
		return form("/users", "email", uniq("u")+"@a.test", "password", testPassword, "role", "member"), ""
	}},
	"POST /users/:id/role": {as: "adminA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return form(fmt.Sprintf("/users/%d/role", newMemberA(e).ID), "role", "admin"), ""
	}},
	"POST /users/:id/delete": {as: "adminA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		return fmt.Sprintf("/users/%d/delete", newMemberA(e).ID), ""
	}},
	"GET /tokens":  {as: "memberA", status: 200, prepare: staticPath("/tokens", "")},
	"POST /tokens": {as: "memberA", status: 201, prepare: staticPath("/tokens?name=script", "")},
	"POST /tokens/:id/revoke": {as: "memberA", status: 303, hasID: true, prepare: func(e *apiEnv) (string, string) {
		tok, _, err := e.st.CreateToken(context.Background(), e.orgA.ID, e.users["memberA"].ID, "tmp", nil)
		if err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprintf("/tokens/%d/revoke", tok.ID), ""
	}},
}
