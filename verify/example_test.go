package verify_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"limitprobe/verify"
)

// The delays of the snippet everyone pastes, and of huggingface_hub's
// http_backoff when the server sends Retry-After: 3.
func ExamplePolicy_Delay() {
	rnd := rand.New(rand.NewPCG(1, 1))
	for _, p := range []verify.Policy{verify.SeedPolicy, verify.HFHubPolicy} {
		retryAfter := time.Duration(-1) // the response asked nothing
		if p.HonorRetryAfter {
			retryAfter = 3 * time.Second
		}
		fmt.Printf("%s:", p.Name)
		for i := 0; ; i++ {
			d, ok := p.Delay(i, retryAfter, rnd)
			if !ok {
				break
			}
			fmt.Printf(" %v", d)
		}
		fmt.Println()
	}
	// Output:
	// seed: 1s 2s 4s 8s
	// hf-hub: 4s 4s 4s 4s 4s
}

// Jain's index of the clients' success ratios: 1 when all fared alike.
func ExampleJain() {
	fmt.Printf("%.2f %.2f\n", verify.Jain([]float64{0.9, 0.9, 0.9}), verify.Jain([]float64{1, 0, 0, 0}))
	// Output: 1.00 0.25
}
