package xfake

import "sync"

// fixture is a sequence of canned bodies for one operation.
type fixture struct {
	mu     sync.Mutex
	bodies [][]byte
	served int
}

func (f *fixture) next() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.bodies[min(f.served, len(f.bodies)-1)]
	f.served++
	return b
}

// ServeFixture makes op answer with canned bodies (such as the captured responses in
// fixtures/x/) instead of the corpus: the first request gets bodies[0], the second
// bodies[1], and the last body repeats. Authentication, rate limits and faults still
// apply. Calling it with no bodies goes back to the corpus.
func (s *Server) ServeFixture(op string, bodies ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(bodies) == 0 {
		delete(s.fixtures, op)
		return
	}
	s.fixtures[op] = &fixture{bodies: bodies}
}
