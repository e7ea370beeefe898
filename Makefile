# limitprobe's interface: the README and CI call these targets.
GO       ?= go
BIN      ?= bin/limitprobe
SCENARIO ?= scenarios/examples/mock-token-bucket.yaml
FUZZTIME ?= 20s

.PHONY: run build test bench fuzz lint clean

## run: the main job — probe the embedded mock with the default example
run: build
	./$(BIN) plan $(SCENARIO)

build:
	$(GO) build -o $(BIN) .

## test: vet plus the race-enabled test suite
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## bench: Go micro-benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: each fuzz target for FUZZTIME
fuzz:
	$(GO) test ./units -run '^$$' -fuzz '^FuzzParseRate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./units -run '^$$' -fuzz '^FuzzParseShare$$' -fuzztime $(FUZZTIME)
	$(GO) test ./units -run '^$$' -fuzz '^FuzzParseDuration$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scenarios -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

## lint: formatting, vet, and staticcheck when it installs
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

clean:
	rm -rf bin out
