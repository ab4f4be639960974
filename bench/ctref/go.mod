module github.com/ward-health/ward/bench/ctref

go 1.26.0

require (
	filippo.io/sunlight v0.8.0
	github.com/google/certificate-transparency-go v1.4.0
	github.com/ward-health/ward v0.0.0
)

require (
	filippo.io/torchwood v0.8.0 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/google/trillian v1.7.2 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20251202230838-ff82c1b0f217 // indirect
	google.golang.org/grpc v1.79.1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	k8s.io/klog/v2 v2.130.1 // indirect
)

replace github.com/ward-health/ward => ../..
