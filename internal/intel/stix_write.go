package intel

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// STIXObject is one STIX 2.1 object ready to serve on its own (a TAXII
// collection) or in a bundle (WriteSTIX writes exactly these objects).
type STIXObject struct {
	// ID is the STIX id, "indicator--<uuid>"; the same in every export.
	ID string
	// Type is the STIX type: "indicator", "relationship", "identity",
	// "marking-definition", "domain-name", "url", "ipv4-addr", "file", ...
	Type string
	// Modified is the version of the object (TAXII "version"): its
	// "modified" property; for marking definitions, which have none, their
	// "created"; for cyber-observables, which STIX does not version, the
	// fixed time 2020-03-01T00:00:00Z, so that an observable shared by
	// several indicators is one version of one object. Millisecond
	// precision, equal to what the JSON says.
	Modified time.Time
	// Revoked reports that the object says "revoked": true.
	Revoked bool
	// JSON is the object, compact, without HTML escaping.
	JSON json.RawMessage
}

// stixExport holds what the objects of one export share.
type stixExport struct {
	prodName        string
	prodID          string
	now             time.Time
	omitObservables bool
}

func newSTIXExport(opts STIXOptions) (*stixExport, error) {
	producer := opts.Producer
	if producer == "" {
		producer = "ward"
	}
	if len(producer) > MaxTextLen {
		return nil, fmt.Errorf("stix: producer name of %d bytes, limit %d", len(producer), MaxTextLen)
	}
	if !utf8.ValidString(producer) {
		return nil, fmt.Errorf("stix: producer name %q is not valid UTF-8", producer)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	return &stixExport{prodName: producer, prodID: "identity--" + newUUID5(wardNamespace, "identity|producer|"+producer).String(),
		now: now, omitObservables: opts.OmitObservables}, nil
}

// stixIndicatorID is the id of an indicator's STIX indicator object.
func stixIndicatorID(in Indicator) string {
	return "indicator--" + newUUID5(wardNamespace, "indicator|"+string(in.Type)+"|"+in.Value+"|"+in.Org).String()
}

func stixBrandID(brand string) string {
	return "identity--" + newUUID5(wardNamespace, "identity|brand|"+brand).String()
}

// exportTLP is the TLP an indicator is exported with: amber when unset.
func exportTLP(in Indicator) string {
	if in.TLP == "" {
		return TLPAmber
	}
	return in.TLP
}

// stixTLPOrder is the order of the marking definitions in a bundle.
var stixTLPOrder = [...]string{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

// objects appends to dst the objects of a valid indicator, in bundle
// order: the indicator, its observable (unless omitted), the relationship
// to the observable, the relationship to the brand's identity.
func (x *stixExport) objects(dst []stixObject, in Indicator) []stixObject {
	pattern, scoType := stixPattern(in)
	id := stixIndicatorID(in)
	created := in.FirstSeen
	if created.IsZero() {
		created = x.now
	}
	// The version: Updated, else LastSeen, else created; never before
	// created (STIX requires modified >= created).
	mod := in.Updated
	if mod.IsZero() {
		mod = in.LastSeen
	}
	if mod.Before(created) {
		mod = created
	}
	conf := in.Confidence
	ind := stixObject{Type: "indicator", SpecVersion: "2.1", ID: id, CreatedByRef: x.prodID,
		Created: stixTime(created), Modified: stixTime(mod), Revoked: in.Revoked, Name: string(in.Type) + " " + in.Value,
		Description: in.Description, IndicatorTypes: []string{"malicious-activity"},
		Pattern: pattern, PatternType: "stix", PatternVersion: "2.1", ValidFrom: stixTime(created),
		Confidence: &conf, ObjectMarkingRefs: []string{tlpMarkingIDs[exportTLP(in)]}}
	if !in.ValidUntil.IsZero() && in.ValidUntil.After(created) {
		ind.ValidUntil = stixTime(in.ValidUntil)
	}
	dst = append(dst, ind)
	// Relationships share the indicator's version and revocation: a
	// withdrawn indicator's links are withdrawn with it.
	rel := func(target, desc string) stixObject {
		rid := "relationship--" + newUUID5(wardNamespace, "relationship|"+id+"|related-to|"+target).String()
		return stixObject{Type: "relationship", SpecVersion: "2.1", ID: rid, CreatedByRef: x.prodID,
			Created: ind.Created, Modified: ind.Modified, Revoked: in.Revoked, RelationshipType: "related-to",
			Description: desc, SourceRef: id, TargetRef: target, ObjectMarkingRefs: ind.ObjectMarkingRefs}
	}
	if !x.omitObservables {
		sco := stixObject{Type: scoType, SpecVersion: "2.1"}
		var key any
		switch {
		case scoType == "file" && in.Type == TypeFilename:
			sco.Name = in.Value
			key = map[string]string{"name": in.Value}
		case scoType == "file":
			sco.Hashes = map[string]string{stixHashNames[in.Type]: in.Value}
			key = map[string]any{"hashes": sco.Hashes}
		default:
			sco.Value = in.Value
			key = map[string]string{"value": in.Value}
		}
		sco.ID = scoType + "--" + newUUID5(stixSCONamespace, canonicalJSON(key)).String()
		dst = append(dst, sco, rel(sco.ID, "the observable this indicator matches"))
	}
	if in.Brand != "" {
		dst = append(dst, rel(stixBrandID(in.Brand), "imitates or targets the brand "+in.Brand))
	}
	return dst
}

// shared returns the producer identity, the marking definitions of the TLP
// levels that the indicators use and the identities of their brands, in
// bundle order.
func (x *stixExport) shared(each func(yield func(Indicator) bool)) []stixObject {
	idCreated := stixTime(identitiesCreated)
	objs := []stixObject{{Type: "identity", SpecVersion: "2.1", ID: x.prodID, Created: idCreated, Modified: idCreated,
		Name: x.prodName, IdentityClass: "system"}}
	var tlps [len(stixTLPOrder)]bool
	brands := map[string]bool{}
	for in := range each {
		tlps[slices.Index(stixTLPOrder[:], exportTLP(in))] = true
		if in.Brand != "" {
			brands[in.Brand] = true
		}
	}
	for i, t := range stixTLPOrder {
		if !tlps[i] {
			continue
		}
		ext, _ := json.Marshal(map[string]any{tlp2Extension: map[string]string{"extension_type": "property-extension", "tlp_2_0": t}})
		objs = append(objs, stixObject{Type: "marking-definition", SpecVersion: "2.1", ID: tlpMarkingIDs[t],
			Created: "2022-10-01T00:00:00.000Z", Name: "TLP:" + strings.ToUpper(t), Extensions: ext})
	}
	names := make([]string, 0, len(brands))
	for b := range brands {
		names = append(names, b)
	}
	slices.Sort(names)
	for _, b := range names {
		objs = append(objs, stixObject{Type: "identity", SpecVersion: "2.1", ID: stixBrandID(b), CreatedByRef: x.prodID,
			Created: idCreated, Modified: idCreated, Name: b, IdentityClass: "organization"})
	}
	return objs
}

// isSCO reports whether o is a cyber-observable object.
func (o *stixObject) isSCO() bool {
	switch o.Type {
	case "indicator", "relationship", "identity", "marking-definition":
		return false
	}
	return true
}

// version is the TAXII version of o (see STIXObject.Modified).
func (o *stixObject) version() time.Time {
	s := o.Modified
	if s == "" {
		s = o.Created
	}
	if s == "" {
		return identitiesCreated
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return identitiesCreated // never: ward writes these strings itself
	}
	return t
}

// export encodes o compactly.
func (o *stixObject) export(b *bytes.Buffer) (STIXObject, error) {
	b.Reset()
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(o); err != nil {
		return STIXObject{}, fmt.Errorf("stix: encoding %s: %w", o.ID, err)
	}
	raw := bytes.Clone(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return STIXObject{ID: o.ID, Type: o.Type, Modified: o.version(), Revoked: o.Revoked, JSON: raw}, nil
}

// STIXObjectsOf returns the objects that describe one indicator, in the
// order WriteSTIX writes them: the indicator (with a STIX pattern; its
// "modified" is Updated, else LastSeen, else FirstSeen, never before
// "created"; "revoked" when Revoked), its cyber-observable (unless
// opts.OmitObservables) and the "related-to" relationships to the
// observable and to the brand's identity. The objects refer to the ones
// STIXSharedObjects returns. Revoked indicators are described too (with
// their relationships revoked): a feed that carries history must publish
// them so that consumers stop blocking; give a revoked indicator a later
// Updated than its last published version so that consumers see a new
// version. An indicator that fails Validate is an error.
func STIXObjectsOf(in Indicator, opts STIXOptions) ([]STIXObject, error) {
	x, err := newSTIXExport(opts)
	if err != nil {
		return nil, err
	}
	if err := Validate(in); err != nil {
		return nil, fmt.Errorf("stix: %w", err)
	}
	objs := x.objects(nil, in)
	return exportAll(objs)
}

// STIXSharedObjects returns the objects that the objects of inds refer to:
// the producer's identity, the TLP 2.0 marking definitions of the levels in
// use (an indicator without TLP is amber) and an identity (class
// organization) per brand, in the order WriteSTIX writes them. Indicators
// that fail Validate are left out, as WriteSTIX leaves them out.
func STIXSharedObjects(inds []Indicator, opts STIXOptions) ([]STIXObject, error) {
	x, err := newSTIXExport(opts)
	if err != nil {
		return nil, err
	}
	objs := x.shared(func(yield func(Indicator) bool) {
		for _, in := range inds {
			if Validate(in) == nil && !yield(in) {
				return
			}
		}
	})
	return exportAll(objs)
}

// exportAll encodes objects for serving one by one.
func exportAll(objs []stixObject) ([]STIXObject, error) {
	out := make([]STIXObject, 0, len(objs))
	var b bytes.Buffer
	for i := range objs {
		o, err := objs[i].export(&b)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// compareForSTIX orders indicators as sortIndicators does: type, value,
// organisation, first seen.
func compareForSTIX(a, b *Indicator) int {
	return cmp.Or(cmp.Compare(typeRank(a.Type), typeRank(b.Type)), strings.Compare(a.Value, b.Value),
		strings.Compare(a.Org, b.Org), a.FirstSeen.Compare(b.FirstSeen))
}

// stixKept returns the positions in inds of the indicators a bundle
// carries, in bundle order: valid ones, sorted, the first of each (type,
// value, organisation), which is one STIX id. Duplicates sort next to
// each other, so one comparison with the last kept finds them.
func stixKept(inds []Indicator) []int32 {
	idx := make([]int32, len(inds))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return compareForSTIX(&inds[a], &inds[b]) })
	kept := idx[:0]
	for _, i := range idx {
		in := &inds[i]
		if len(kept) > 0 {
			p := &inds[kept[len(kept)-1]]
			if p.Type == in.Type && p.Value == in.Value && p.Org == in.Org {
				continue
			}
		}
		if Validate(*in) != nil {
			continue
		}
		kept = append(kept, i)
	}
	return kept
}

// hashForBundleID adds what the bundle id depends on: ids and versions.
func hashForBundleID(h hash.Hash, o *stixObject) {
	if o.Revoked {
		fmt.Fprintf(h, "%s|%s|%s|revoked\n", o.ID, o.Modified, o.ValidUntil)
		return
	}
	fmt.Fprintf(h, "%s|%s|%s\n", o.ID, o.Modified, o.ValidUntil)
}

// WriteSTIX writes a STIX 2.1 bundle: an identity for the producer, the TLP
// marking definitions in use, an identity (class organization) for each
// brand, and for each valid indicator the objects of STIXObjectsOf: an
// indicator object with a STIX pattern, a cyber-observable object (once
// per bundle, however many organisations' indicators share it), and
// relationships. Indicators that fail Validate are left out; revoked ones
// are written as revoked (Select is the place that leaves them out of
// feeds without history).
//
// Relationships: STIX 2.1 lets "indicates" point only at attack patterns,
// campaigns, malware and the like, never at an identity, so an indicator is
// linked to its brand's identity and to its observable with the generic
// "related-to" type, which the specification allows between any objects.
//
// Ids are name-based (UUIDv5) on type, value and organisation, so that
// exporting an indicator again keeps its id; observables use the
// specification's own deterministic ids. An indicator without TLP is marked
// amber. Output is deterministic for the same indicators and options.
//
// The bundle is encoded object by object: beyond inds, memory holds four
// bytes per indicator and the set of brands, whatever the bundle's size.
func WriteSTIX(w io.Writer, inds []Indicator, opts STIXOptions) error {
	x, err := newSTIXExport(opts)
	if err != nil {
		return err
	}
	kept := stixKept(inds)
	each := func(yield func(Indicator) bool) {
		for _, i := range kept {
			if !yield(inds[i]) {
				return
			}
		}
	}
	shared := x.shared(each)

	// body calls fn with every object after the shared ones, in order.
	body := func(fn func(*stixObject) error) error {
		var buf []stixObject
		lastSCO := ""
		for in := range each {
			buf = x.objects(buf[:0], in)
			for i := range buf {
				o := &buf[i]
				if o.isSCO() {
					if o.ID == lastSCO {
						continue
					}
					lastSCO = o.ID
				}
				if err := fn(o); err != nil {
					return err
				}
			}
		}
		return nil
	}

	// The bundle id follows the content, the ids and versions of its
	// objects; a first pass computes it without encoding anything.
	h := sha256.New()
	for i := range shared {
		hashForBundleID(h, &shared[i])
	}
	_ = body(func(o *stixObject) error { hashForBundleID(h, o); return nil })
	bundleID := "bundle--" + newUUID5(wardNamespace, "bundle|"+string(h.Sum(nil))).String()

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n  \"type\": \"bundle\",\n  \"id\": \"" + bundleID + "\",\n  \"objects\": [\n    ")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	first := true
	emit := func(o *stixObject) error {
		b.Reset()
		if err := enc.Encode(o); err != nil {
			return fmt.Errorf("stix: encoding %s: %w", o.ID, err)
		}
		if !first {
			bw.WriteString(",\n    ")
		}
		first = false
		_, err := bw.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
		return err
	}
	for i := range shared {
		if err := emit(&shared[i]); err != nil {
			return err
		}
	}
	if err := body(emit); err != nil {
		return err
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}
