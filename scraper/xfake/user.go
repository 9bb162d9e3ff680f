package xfake

import (
	"net/http"
	"strings"
)

// userByScreenName answers UserByScreenName: data.user.result, or {"data":{}} for an
// unknown screen name, as X answers.
func (s *Server) userByScreenName(vars map[string]any, view viewConfig) reply {
	name := strings.TrimPrefix(stringVar(vars, "screen_name", ""), "@")
	if name == "" {
		return jsonReply(http.StatusBadRequest, ErrorBody(errBadRequest(`Variable "$screen_name" of required type "String!" was not provided.`)))
	}
	c := s.corpus
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.userByName[strings.ToLower(name)]
	if !ok {
		return jsonReply(http.StatusOK, []byte(`{"data":{}}`))
	}
	r := &renderer{c: c, schema: view.schema, shape: view.shape, w: &jsonw{}}
	w := r.w
	w.obj()
	w.kobj("data")
	w.kobj("user")
	w.key("result")
	r.user(i)
	w.end()
	w.end()
	w.end()
	return jsonReply(http.StatusOK, w.b)
}
