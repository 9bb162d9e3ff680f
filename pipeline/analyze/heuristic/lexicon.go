package heuristic

// The word lists are small on purpose: enough for the common cases in English and a
// handful of words in Spanish, French, German and Portuguese. Words are lower case;
// a cue with a space matches as a phrase.

var positiveWords = words(
	// en
	"good", "great", "excellent", "amazing", "awesome", "love", "loved", "loving", "best",
	"fantastic", "helpful", "happy", "fast", "easy", "reliable", "recommended", "perfect", "nice",
	"solid", "impressive", "smooth", "thanks", "thank", "wonderful", "brilliant", "cool", "useful",
	"affordable", "fair", "enjoy", "enjoyed", "glad", "beautiful", "superb", "works",
	// es
	"bueno", "buena", "excelente", "genial", "encanta", "rápido", "fácil", "gracias", "increíble",
	// fr
	"bon", "bonne", "génial", "super", "adore", "rapide", "facile", "merci", "parfait",
	// de
	"gut", "toll", "hervorragend", "schnell", "einfach", "danke", "liebe", "prima",
	// pt
	"bom", "boa", "ótimo", "ótima", "adoro", "obrigado", "obrigada", "incrível",
)

var negativeWords = words(
	// en
	"bad", "terrible", "awful", "worst", "hate", "hated", "slow", "broken", "buggy", "bug", "bugs",
	"expensive", "overpriced", "useless", "annoying", "frustrating", "frustrated", "disappointed",
	"disappointing", "poor", "horrible", "crash", "crashes", "crashed", "fail", "fails", "failed",
	"scam", "confusing", "painful", "outage", "problem", "problems", "issue", "issues", "sucks",
	"unreliable", "laggy", "angry", "ridiculous", "waste",
	// es
	"malo", "mala", "lento", "caro", "pésimo", "odio", "estafa", "fatal",
	// fr
	"mauvais", "mauvaise", "nul", "nulle", "lent", "cher", "déçu", "déteste", "arnaque",
	// de
	"schlecht", "schrecklich", "langsam", "teuer", "enttäuscht", "furchtbar", "hasse", "mies",
	// pt
	"ruim", "péssimo", "péssima", "horrível", "odeio", "decepcionado", "lixo",
)

// negators flip the polarity of a sentiment word within the next few words ("not good",
// "pas bon", "nicht gut", "no es bueno", "não é bom").
var negators = words(
	"not", "no", "never", "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "won't",
	"can't", "cannot", "couldn't", "hardly", "without", "nor", "dont", "doesnt", "isnt",
	"nunca", "ni", "pas", "jamais", "nicht", "kein", "keine", "nie", "não", "nem",
)

var positiveEmoji = []string{"😍", "❤", "👍", "🙏", "🔥", "🎉", "😊", "🙌", "💯"}
var negativeEmoji = []string{"😡", "👎", "🤬", "💩", "😤", "😠", "🙄", "😞"}

// Intent cues, tried in this order: the first intent with a cue in the root, the hit or
// the hit's ancestors wins.
var intentCues = []struct {
	intent string
	cues   []string
}{
	// Job posts name the product as a skill, not as something anyone wants to buy.
	{"job_post", []string{
		"we're hiring", "we are hiring", " is hiring", "now hiring", "hiring:", "#hiring", " apply:", "apply at",
		"apply via", "apply here", "job opening", "join our team", "estamos contratando", "on recrute", "wir stellen ein",
	}},
	{"spam", []string{
		"giveaway", "airdrop", "free crypto", "dm me", "dm for", "follow and retweet", "follow & rt",
		"follow + rt", "rt to win", "link in bio", "100x", "promo code", "click here", "onlyfans",
		"sorteo", "concours", "gewinnspiel", "sorteio",
	}},
	{"seeking_recommendation", []string{
		"looking for", "alternative to", "alternatives to", "alternative for", "any recommendations",
		"any recommendation", "recommendations for", "can anyone recommend", "can you recommend",
		"anyone recommend", "what's the best", "what is the best", "which is the best", "suggestions for",
		"any suggestions", "anyone know a", "anyone know of", "anyone using", "anyone tried",
		"which tool", "should i use", "what do you use", "what are you using",
		"recomiendan", "alguna recomendación", "alguien conoce", "alguna alternativa", "busco",
		"vous conseillez", "vous recommandez", "une alternative", "quelqu'un connaît", "je cherche",
		"empfehlung", "könnt ihr", "kennt jemand", "alternative zu", "ich suche",
		"recomendam", "recomendação", "alguém conhece", "alternativa para", "procuro",
	}},
	{"complaint", []string{
		"terrible", "worst", "awful", "doesn't work", "does not work", "not working", "stopped working",
		"refund", "cancel my", "cancelled my", "canceled my", "frustrated", "frustrating", "annoying",
		"ridiculous", "scam", "outage", "down again", "fed up", "useless", "no response", "still waiting",
		"pésimo", "no funciona", "horrible", "estafa", "ne marche pas", "ne fonctionne pas", "arnaque",
		"funktioniert nicht", "schrecklich", "katastrophe", "não funciona", "horrível", "golpe",
	}},
	{"comparison", []string{
		" vs ", " vs. ", "versus", "compared to", "comparison", "better than", "worse than",
		"switch from", "switching from", "switched from", "migrate from", "migrating from", "moving from",
	}},
	{"purchase_intent", []string{
		"want to buy", "going to buy", "ready to buy", "pricing", "how much", "free trial", "sign up",
		"subscribe", "per month", "/month", "quote for", "cuánto cuesta", "combien coûte", "wie viel kostet",
		"quanto custa",
	}},
	{"question", []string{"?"}},
	{"praise", []string{"love ", "amazing", "awesome", "thank you", "thanks", "best ", "great job", "kudos"}},
	{"announcement", []string{
		"announcing", "introducing", "we launched", "just launched", "launching", "now available",
		"released", "new feature", "we just shipped",
	}},
}

// opportunityIntents are the intents a team can usefully answer.
var opportunityIntents = map[string]string{
	"seeking_recommendation": "someone is asking for a recommendation",
	"complaint":              "someone is unhappy with what they use",
	"comparison":             "someone is comparing options",
	"purchase_intent":        "someone shows buying intent",
	"question":               "someone asked a question",
}

// topics are what insights count mentions of in the replies.
var topics = []struct {
	name string
	cues []string
}{
	{"pricing", []string{"price", "pricing", "cost", "costs", "expensive", "cheap", "pay ", "paid", "subscription", "$", "€", "per month", "/month", "precio", "prix", "preis", "preço"}},
	{"support", []string{"support", "customer service", "help desk", "soporte", "suporte", "kundenservice"}},
	{"performance", []string{"slow", "fast", "speed", "lag", "latency", "performance"}},
	{"reliability", []string{"bug", "crash", "broken", "outage", "down again", "doesn't work", "not working"}},
	{"setup", []string{"setup", "set up", "onboarding", "install", "docs", "documentation"}},
	{"privacy", []string{"privacy", "security", "gdpr", "self-hosted", "self hosted", "on-prem", "data"}},
}

// stopwords keeps common words of a campaign's context from counting as its terms.
var stopwords = words(
	"about", "above", "after", "again", "against", "being", "below", "between", "could", "doing",
	"during", "every", "having", "other", "their", "there", "these", "those", "through", "under",
	"until", "which", "while", "would", "should", "people", "person", "looking", "someone",
	"anyone", "opportunity", "opportunities", "things", "where", "whether", "really", "using",
	"users", "because", "before", "count", "counts", "offer", "offers", "sells", "selling",
	"something", "anything", "nothing", "ignore", "including", "include", "without", "within",
	"great", "thing", "asking", "mention", "mentions", "company", "product", "products", "service",
	"services", "customers", "customer", "tweets", "tweet", "posts", "replies", "reply",
)

func words(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}
