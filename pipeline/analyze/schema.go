package analyze

// SchemaName names the answer's schema where a provider wants a name (OpenAI's
// json_schema response format).
const SchemaName = "conversation_analysis"

// JSONSchema is the model answer's schema as JSON Schema, in the strict subset OpenAI's
// structured outputs accept (every key required, no other keys). Validate enforces the
// rest (the 2–3 replies of an opportunity, lengths, hashtags), which no schema dialect
// that every server accepts can say. It returns a new map each call, for the caller to
// marshal.
func JSONSchema() map[string]any {
	str := map[string]any{"type": "string"}
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"relevance":          map[string]any{"type": "integer", "minimum": 0, "maximum": 100},
			"sentiment":          map[string]any{"type": "string", "enum": []string{Positive, Neutral, Negative}},
			"intent":             str,
			"insights":           map[string]any{"type": "array", "items": str, "maxItems": MaxInsights},
			"opportunity":        map[string]any{"type": "boolean"},
			"opportunity_reason": str,
			"suggested_replies":  map[string]any{"type": "array", "items": str, "maxItems": 3},
		},
		"required": []string{
			"relevance", "sentiment", "intent", "insights", "opportunity",
			"opportunity_reason", "suggested_replies",
		},
		"additionalProperties": false,
	}
}
