package web

import (
	"strings"
	"testing"
)

func TestIntegrationsAPI(t *testing.T) {
	env := newAPIEnv(t)
	env.populate()
	admin := env.tokens["adminA"]
	const secret = "xoxb-very-secret-token"
	tests := []struct {
		kind, body string
		status     int
		want       string
	}{
		{"slack", `{"bot_token":"` + secret + `","channel":"#leads"}`, 200, `"bot_token":{"set":true}`},
		{"slack", `{"bot_token":"` + secret + `"}`, 400, "channel"},
		{"slack", `{"bot_token":"not-a-bot-token","channel":"c"}`, 400, "bot_token"},
		{"slack", `{}`, 400, "webhook_url"},
		{"slack", `{"webhook_url":"http://127.0.0.1/hook"}`, 400, "refused"},
		{"slack", `{"webhook_url":"http://169.254.169.254/latest"}`, 400, "refused"},
		{"webhook", `{"url":"http://10.0.0.5/x","secret":"s"}`, 400, "refused"},
		{"webhook", `{"url":"ftp://93.184.215.14/x"}`, 400, "url"},
		{"webhook", `{"url":"https://93.184.215.14/x","secret":"` + secret + `","format":"xml"}`, 400, "format"},
		{"webhook", `{"url":"https://93.184.215.14/x","secret":"` + secret + `","extra":1}`, 400, "extra"},
		{"webhook", `{"url":"https://93.184.215.14/x","secret":"` + secret + `"}`, 200, `"secret":{"set":true}`},
		{"sheets", `{"service_account_json":"{}","spreadsheet_id":"x"}`, 400, "service_account_json"},
		{"teams", `{}`, 404, "slack, sheets or webhook"},
	}
	for _, tt := range tests {
		rec := env.do("PUT", "/api/v1/integrations/"+tt.kind, admin, tt.body)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) || strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("PUT %s %s: %d %s", tt.kind, tt.body, rec.Code, rec.Body)
		}
	}
	rec := env.do("GET", "/api/v1/integrations", env.tokens["memberA"], "")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), secret) || !strings.Contains(rec.Body.String(), "#leads") {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(env.logs.String(), secret) {
		t.Fatal("a secret reached the log")
	}
	// Sending a test to an unreachable destination is the destination's failure: 422.
	env.do("PUT", "/api/v1/integrations/webhook", admin, `{"url":"https://93.184.215.14/x"}`)
	setWebhookA(env) // points at the loopback receiver
	if rec := env.do("POST", "/api/v1/integrations/webhook/test", admin, ""); rec.Code != 200 {
		t.Fatalf("test message: %d %s", rec.Code, rec.Body)
	}
}
