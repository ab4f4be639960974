package taxii

import (
	"mime"
	"strconv"
	"strings"
)

// MediaType is the media type of every TAXII 2.1 response.
const MediaType = "application/taxii+json;version=2.1"

// stixMediaType is the media type of STIX 2.1 objects in manifests.
const stixMediaType = "application/stix+json;version="

// acceptable reports whether the Accept header values admit a TAXII 2.1
// response. No Accept header admits anything (RFC 9110). Otherwise the
// most specific media range that covers application/taxii+json;version=2.1
// decides by its q-value (q=0 refuses): the type with version=2.1, the
// type without version (which means the latest, 2.1), application/*, then
// */*. A range for another TAXII version, application/json or any other
// type does not cover it. Malformed ranges are ignored; an oversized header
// admits nothing.
func acceptable(values []string) bool {
	if len(values) == 0 {
		return true
	}
	total := 0
	for _, v := range values {
		total += len(v)
	}
	if total > maxAcceptLen {
		return false
	}
	best, bestQ := -1, 0.0
	ranges := 0
	for _, v := range values {
		for r := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(r) == "" {
				continue
			}
			ranges++
			if ranges > maxAcceptRanges {
				return false
			}
			spec, q, ok := coverage(r)
			if !ok {
				continue
			}
			if spec > best || spec == best && q > bestQ {
				best, bestQ = spec, q
			}
		}
	}
	return best >= 0 && bestQ > 0
}

// coverage says how specifically the media range r covers the TAXII 2.1
// type (3 most, 0 */*) and with which q-value; ok is false when it does
// not cover it or is malformed.
func coverage(r string) (spec int, q float64, ok bool) {
	mt, ps, err := mime.ParseMediaType(r)
	if err != nil {
		return 0, 0, false
	}
	q = 1
	if s, has := ps["q"]; has {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1 || len(s) > 5 {
			return 0, 0, false
		}
		q = f
	}
	switch mt {
	case "application/taxii+json":
		v, has := ps["version"]
		switch {
		case !has:
			return 2, q, true
		case v == "2.1":
			return 3, q, true
		}
		return 0, 0, false
	case "application/*":
		return 1, q, true
	case "*/*":
		return 0, q, true
	}
	return 0, 0, false
}
