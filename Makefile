# limitprobe's interface: the README and CI call these targets.
GO       ?= go
BIN      ?= bin/limitprobe
SCENARIO ?= scenarios/examples/mock-token-bucket.yaml
FUZZTIME ?= 20s
OUT      ?= out

# Fuzz targets as package:Target.
FUZZ = units:FuzzParseRate units:FuzzParseShare units:FuzzParseDuration \
       scenarios:FuzzParse probe:FuzzParseAdvertised probe:FuzzParseRetryAfter \
       mock:FuzzParseSpec mock:FuzzParseLatency

.PHONY: run build test bench bench-go fuzz lint clean

## run: the main job — probe the embedded mock with the default example,
## print the report and write report.{json,md,html} and results.bin to OUT
run: build
	./$(BIN) run --out $(OUT) $(SCENARIO)

build:
	$(GO) build -o $(BIN) .

## test: vet plus the race-enabled test suite. Packages run one at a time
## (-p 1): several measure rates over loopback and must not share 2 cores.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -p 1 ./...

## bench: Go micro-benchmarks, then accuracy and cost against the mock and
## nginx side by side with a vegeta ramp (BENCH_QUICK=1 for a subset)
bench: bench-go
	$(GO) run ./bench

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms ./...

## fuzz: every fuzz target for FUZZTIME
fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn"; \
	  $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) || exit 1; done

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin $(OUT)
