package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"limitprobe/mock"
)

// A mock token bucket on a loopback port: ten requests in a row from idle
// pass the burst of 5, then the bucket is empty.
func Example() {
	cfg, err := mock.ParseSpec("algorithm=token-bucket,rate=50/s,burst=5,headers=ietf")
	if err != nil {
		panic(err)
	}
	srv, err := mock.New(cfg)
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	codes := map[int]int{}
	for range 10 {
		resp, err := http.Get(ts.URL + "/")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	fmt.Println("200:", codes[200]) // 5, or 6 if a token came back meanwhile

	resp, err := http.Get(ts.URL + mock.TruthPath)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var truth mock.Truth
	json.NewDecoder(resp.Body).Decode(&truth)
	fmt.Printf("%s: %.0f req/s, burst %d\n", truth.Algorithm, truth.EffectiveLimitRPS, truth.Burst)
}

func ExampleParseSpec() {
	cfg, err := mock.ParseSpec("preset=hf-hub,limit=50,window=10s")
	fmt.Println(cfg.Spec(), err)
	_, err = mock.ParseSpec("algorithm=token-bucket,rate=20/x")
	fmt.Println(err)
	// Output:
	// algorithm=fixed-window,limit=50,window=10s,headers=hf-hub <nil>
	// rate: "20/x" is not a rate: unknown period "x"; write /s, /m, /h, /d or a duration such as /10s
}
