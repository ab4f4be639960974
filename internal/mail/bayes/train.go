package bayes

import (
	"cmp"
	"errors"
	"math"
	"slices"
)

// Trainer counts, for each token, the spam and ham messages that hold it.
// Feed it messages with Add, then call Model. The zero Trainer is ready.
type Trainer struct {
	spamDocs, hamDocs uint32
	counts            map[string]*[2]uint32
}

// Add counts the distinct tokens of one message of the given class.
func (t *Trainer) Add(msg Message, spam bool) {
	if t.counts == nil {
		t.counts = map[string]*[2]uint32{}
	}
	class := 1
	if spam {
		class = 0
		t.spamDocs++
	} else {
		t.hamDocs++
	}
	for _, tok := range Tokens(msg) {
		c := t.counts[tok]
		if c == nil {
			c = new([2]uint32)
			t.counts[tok] = c
		}
		c[class]++
	}
}

// TrainOptions control feature selection.
type TrainOptions struct {
	// MinCount is the number of training messages a token must appear in
	// to be kept. Zero means 2.
	MinCount int
	// MaxTokens is the number of tokens kept, the most informative first
	// (mutual information between the token's presence and the class).
	// Zero means 20,000.
	MaxTokens int
}

// Model returns the model of what was added: the tokens seen in at least
// MinCount messages, the MaxTokens most informative of them. Equal input
// gives an equal model (and equal MarshalBinary bytes), whatever the order
// of Add calls within a class.
func (t *Trainer) Model(opt TrainOptions) (*Model, error) {
	if opt.MinCount == 0 {
		opt.MinCount = 2
	}
	if opt.MaxTokens == 0 {
		opt.MaxTokens = 20000
	}
	if opt.MinCount < 0 || opt.MaxTokens < 0 || opt.MaxTokens > MaxModelTokens {
		return nil, errors.New("bayes: TrainOptions: MinCount must be >= 0 and MaxTokens from 0 to MaxModelTokens")
	}
	if t.spamDocs == 0 || t.hamDocs == 0 {
		return nil, errors.New("bayes: training needs at least one spam and one ham message")
	}
	type cand struct {
		tok  string
		c    [2]uint32
		gain float64
	}
	var cands []cand
	for tok, c := range t.counts {
		if int(c[0]+c[1]) < opt.MinCount {
			continue
		}
		cands = append(cands, cand{tok: tok, c: *c})
	}
	if len(cands) > opt.MaxTokens {
		// Ranked on the information rounded to 1e-9 nats, so that a last
		// bit of floating-point difference between machines cannot
		// reorder tokens (ties go by the token itself). When every
		// token is kept, there is nothing to rank.
		for i := range cands {
			cands[i].gain = math.Round(mutualInfo(cands[i].c[0], cands[i].c[1], t.spamDocs, t.hamDocs) * 1e9)
		}
		slices.SortFunc(cands, func(a, b cand) int {
			if a.gain != b.gain {
				return cmp.Compare(b.gain, a.gain)
			}
			return cmp.Compare(a.tok, b.tok)
		})
		cands = cands[:opt.MaxTokens]
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Compare(a.tok, b.tok) })
	tokens := make([]string, len(cands))
	counts := make([][2]uint32, len(cands))
	for i, c := range cands {
		tokens[i], counts[i] = c.tok, c.c
	}
	return newModel(t.spamDocs, t.hamDocs, tokens, counts), nil
}

// mutualInfo is the mutual information, in nats, between "the message
// holds the token" and "the message is spam", from the token's counts
// (spam, ham) out of the class sizes (ns, nh).
func mutualInfo(spam, ham, ns, nh uint32) float64 {
	n := float64(ns) + float64(nh)
	cells := [4][3]float64{
		// joint count, class size, presence count
		{float64(spam), float64(ns), float64(spam + ham)},
		{float64(ham), float64(nh), float64(spam + ham)},
		{float64(ns - spam), float64(ns), n - float64(spam+ham)},
		{float64(nh - ham), float64(nh), n - float64(spam+ham)},
	}
	var mi float64
	for _, c := range cells {
		if c[0] > 0 {
			// The conversion stops the compiler from fusing the
			// multiply and add, which some CPUs round differently.
			mi += float64(c[0] / n * math.Log(c[0]*n/(c[1]*c[2])))
		}
	}
	return mi
}

// AddModel adds a trained model's counts, so that learning can go on from
// it: a site's own reports on top of the built-in model, or more reports
// on top of a model learned before. Only the tokens the model kept come
// back; its message counts are added in full.
func (t *Trainer) AddModel(m *Model) {
	if t.counts == nil {
		t.counts = make(map[string]*[2]uint32, len(m.tokens))
	}
	t.spamDocs += m.spamDocs
	t.hamDocs += m.hamDocs
	for i, tok := range m.tokens {
		c := t.counts[tok]
		if c == nil {
			c = new([2]uint32)
			t.counts[tok] = c
		}
		c[0] += m.counts[i][0]
		c[1] += m.counts[i][1]
	}
}
