package lookalike

// automaton is an Aho-Corasick multi-pattern matcher over bytes. The
// matcher runs it once over each label to find every brand token and
// lexicon word the label contains, whatever the number of brands.
type automaton struct {
	// next[state*acClasses+class[b]] is the state after reading byte b;
	// transitions are complete (failure links folded in), so a scan is one
	// lookup per byte. Targets that end a pattern carry acOut, so the
	// scan reads out only there.
	next []uint32
	// out[state] lists the patterns that end at state, including those
	// reachable by failure links.
	out [][]int32
	// plen[p] is the length of pattern p.
	plen []int
}

// acOut flags a transition into a state where patterns end.
const acOut = 1 << 31

// Patterns use the letters, digits and hyphen of domain labels; every other
// byte falls in class 0, which no pattern contains.
const acClasses = 38

var acClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = uint8(c-'a') + 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c-'0') + 27
	}
	t['-'] = 37
	return t
}()

// acHit is one pattern occurrence: s[start:end] is pattern p.
type acHit struct {
	p          int32
	start, end int
}

// newAutomaton builds an automaton for the given patterns; pattern i is
// reported as i. Empty patterns are ignored.
func newAutomaton(patterns []string) *automaton {
	type node struct {
		child map[uint8]int32
		fail  int32
		out   []int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	a := &automaton{plen: make([]int, len(patterns))}
	for i, p := range patterns {
		a.plen[i] = len(p)
		if p == "" {
			continue
		}
		s := int32(0)
		for j := 0; j < len(p); j++ {
			c := acClass[p[j]]
			if c == 0 {
				panic("lookalike: automaton pattern " + p + " has a byte outside [a-z0-9-]")
			}
			n, ok := nodes[s].child[c]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{child: map[uint8]int32{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, int32(i))
	}
	next := make([]int32, len(nodes)*acClasses)
	a.out = make([][]int32, len(nodes))
	// Breadth-first: a node's failure target is finished before the node.
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < acClasses; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok {
			next[c] = n
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		out := append([]int32(nil), nodes[s].out...)
		out = append(out, a.out[f]...)
		if len(out) > 0 {
			a.out[s] = out
		}
		for c := 0; c < acClasses; c++ {
			if n, ok := nodes[s].child[uint8(c)]; ok {
				nodes[n].fail = next[int(f)*acClasses+c]
				next[int(s)*acClasses+c] = n
				queue = append(queue, n)
			} else {
				next[int(s)*acClasses+c] = next[int(f)*acClasses+c]
			}
		}
	}
	a.next = make([]uint32, len(next))
	for i, n := range next {
		a.next[i] = uint32(n)
		if a.out[n] != nil {
			a.next[i] |= acOut
		}
	}
	return a
}

// scan appends to hits every occurrence of a pattern in s, in order of
// end position, and returns the extended slice.
func (a *automaton) scan(s string, hits []acHit) []acHit {
	st := uint32(0)
	for i := 0; i < len(s); i++ {
		st = a.next[int(st&^acOut)*acClasses+int(acClass[s[i]])]
		if st&acOut != 0 {
			for _, p := range a.out[st&^acOut] {
				hits = append(hits, acHit{p, i + 1 - a.plen[p], i + 1})
			}
		}
	}
	return hits
}
