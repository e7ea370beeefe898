# limitprobe's interface: the README and CI call these targets.
GO       ?= go
BIN      ?= bin/limitprobe
SCENARIO ?= scenarios/examples/mock-token-bucket.yaml
FUZZTIME ?= 20s
# make test fuzzes every target this long: a parser that panics on what a
# user can feed it fails CI.
TESTFUZZTIME ?= 3s
# How long the fuzzer may spend shrinking each new input it finds: its
# default, 60s, would spend a short run on one report.
FUZZMINTIME ?= 5s
OUT      ?= out

# Fuzz targets as package:Target.
FUZZ = units:FuzzParseRate units:FuzzParseShare units:FuzzParseDuration units:FuzzParseQuota \
       scenarios:FuzzParse scenarios:FuzzFromFlags headers:FuzzParse headers:FuzzParseRetryAfter \
       mock:FuzzParseSpec mock:FuzzParseLatency report:FuzzRead traffic:FuzzRead traffic:FuzzParseTime

.PHONY: run build test bench bench-go fuzz lint clean

## run: the main job — probe the embedded mock with the default example,
## print the report and write report.{json,md,html} and results.bin to OUT
run: build
	./$(BIN) run --out $(OUT) $(SCENARIO)

build:
	$(GO) build -o $(BIN) .

# Tests that -race slows past use: the estimator's fit matrices and
# recorded runs, and auto's accuracy table against the mock, run a slice
# under -race (ten to twenty times slower there; see raceDetector in
# estimate and probe), enough to race the parallel fits and auto's steps,
# and whole in the race-free pass. RACEFREE runs only there: the quota
# budget tests (-race slows the engine's reading of a burst's first
# refusal), auto behind toxiproxy's jitter and against nginx, HAProxy, Redis
# and two Go libraries (the engine is the one the mock's slice races), and
# two estimator tables whose code TestFitConditions' slice already races.
# QUOTA are the quota budget tests: they mostly wait for windows of minutes.
QUOTA    = TestQuotaUnadvertised|TestQuotaOutright
RACEFREE = $(QUOTA)|TestAutoBehindJitter|TestNginxAuto|TestHAProxyAuto|TestRedisAuto|TestLibrariesAuto|TestPoissonBehindJitter|TestBucketOfOneBehindJitter|TestBucketOfOneFastArrivals|TestBucketBehindJitterClaimsWhatItKnows|TestBlurredThroughKeepsGoodput|TestEstimateReplayNeverConfidentlyWrong
WHOLE    = TestFitConditions|TestFitBurstSplit|TestFitStalls|TestFitManyAdmitted|TestFitEarlyRelease|TestEstimateAccuracy|TestRecordedRuns|TestAutoFindsTheTruth|TestQueueBehindSlowBackend

## test: vet plus the race-enabled test suite. Packages run one at a time
## (-p 1): several measure rates over loopback and must not share 2 cores;
## their test binaries are built first, in parallel (-exec true: built,
## not run). Then the race-free pass (RACEFREE and WHOLE above) and every
## fuzz target for TESTFUZZTIME.
## The quota tests, which mostly wait, run in a process of their own beside
## the estimator's race-free pass and the fuzzing, which touch no network
## and run niced, so that a quota burst still reads its refusal in time;
## -parallel 4 lets the quota tests wait side by side. Then the rest of
## probe's race-free pass, alone.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -exec true ./...
	$(GO) test -race -count=1 -p 1 -timeout 30m -skip '^($(RACEFREE))$$' ./...
	$(GO) test -count=1 -exec true ./estimate ./probe
	$(GO) test -count=1 -parallel 4 -timeout 30m -run '^($(QUOTA))$$' ./probe & quota=$$!; \
	  nice -n 10 $(GO) test -count=1 -parallel 4 -timeout 30m -run '^($(RACEFREE)|$(WHOLE))$$' ./estimate && \
	  nice -n 10 $(MAKE) --no-print-directory fuzz FUZZTIME=$(TESTFUZZTIME); rc=$$?; \
	  wait $$quota || rc=1; exit $$rc
	$(GO) test -count=1 -parallel 4 -timeout 30m -run '^($(RACEFREE)|$(WHOLE))$$' -skip '^($(QUOTA))$$' ./probe

## bench: limitprobe against its peers, one table each (bench/main.go):
## accuracy and cost vs a vegeta ramp, generator headroom vs vegeta and wrk,
## mock throughput vs nginx limit_req, peak memory, Go micro-benchmarks,
## simulate on a day of 1M and 10M timestamps.
## bench/setup.sh installs nginx and wrk when missing. BENCH_QUICK=1 runs a
## subset; BENCH_TABLES=2,3 picks tables; BENCH_WRITE=1 also writes
## bench/RESULTS.md; BENCH_KEEP=dir keeps the evidence of table 1's wrong
## readings there, for estimate's recorded runs.
bench:
	./bench/setup.sh
	$(GO) run ./bench

## bench-go: every Go benchmark in the module, once (table 5 of make bench
## runs those of probe and mock three times)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms ./...

## fuzz: every fuzz target for FUZZTIME; a name in FUZZ that matches no
## target fails rather than fuzzing nothing. Go 1.26's fuzz coordinator can
## fail a target with a bare "context deadline exceeded" when FUZZTIME ends
## (golang/go#75804, fixed in 1.27); such a run, with no failing input
## written, is fuzzed once more rather than passed.
fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn"; \
	  for try in 1 2; do \
	    out=$$($(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME) 2>&1); rc=$$?; echo "$$out"; \
	    if [ $$rc -ne 0 ] && [ $$try -eq 1 ] && echo "$$out" | grep -q '^    context deadline exceeded$$' && ! echo "$$out" | grep -q 'Failing input written'; then \
	      echo "fuzz $$pkg $$fn: the coordinator's deadline race (golang/go#75804), no failing input; once more"; continue; fi; \
	    break; done; \
	  [ $$rc -eq 0 ] || exit 1; \
	  case "$$out" in *"no fuzz tests to fuzz"*) echo "no fuzz target $$fn in ./$$pkg"; exit 1;; esac; done

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin $(OUT)
