package intel

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
)

// uuid is an RFC 9562 UUID.
type uuid [16]byte

// wardNamespace is the name space of ward's name-based (version 5) UUIDs:
// STIX object ids and MISP event and attribute ids derive from it, so that
// exporting the same indicator again gives the same id.
var wardNamespace = mustUUID("3cd8174e-23a2-41c5-ad6b-86dcf80401fc")

// stixSCONamespace is the name space STIX 2.1 (section 2.9) fixes for the
// ids of cyber-observable objects.
var stixSCONamespace = mustUUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

// newUUID5 returns the version 5 UUID of name in namespace ns.
func newUUID5(ns uuid, name string) uuid {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u uuid
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func (u uuid) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// parseUUID parses the 36-character text form.
func parseUUID(s string) (uuid, error) {
	var u uuid
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("%q is not a UUID", s)
	}
	h := strings.ReplaceAll(s, "-", "")
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("%q is not a UUID", s)
	}
	return u, nil
}

func mustUUID(s string) uuid {
	u, err := parseUUID(s)
	if err != nil {
		panic(err) // only for the constants above
	}
	return u
}
