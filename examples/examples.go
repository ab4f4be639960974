// Package examples embeds the example files shipped with ward so that the
// binary can use them as defaults.
package examples

import _ "embed"

// HealthBrands is brands-health.yaml: the documented health brand set that
// ward uses when no brands file is given.
//
//go:embed brands-health.yaml
var HealthBrands []byte
