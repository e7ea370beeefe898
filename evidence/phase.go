package evidence

// Phases a step can belong to; they name Step.Phase.
const (
	PhaseBurst       = "burst"       // auto: a fast, short send from idle: how much passes at once
	PhaseRecover     = "recover"     // auto: gentle polling until a spent limiter accepts again
	PhaseRamp        = "ramp"        // rising rates until throttling
	PhaseSaturate    = "saturate"    // auto: a sustained overload whose steady goodput is the limit
	PhaseConcurrency = "concurrency" // closed-loop workers: a cap on requests in flight
	PhaseQuota       = "quota"       // spend until the first throttle; read the reset
	PhaseHeaders     = "headers"     // a few paced requests that read the advertised policies
	PhaseCheck       = "check"       // quota mode: paced requests that check an advertised quota within its budget
	PhaseWait        = "wait"        // quota mode: sparse polls until a spent window admits again
	PhaseCreep       = "creep"       // auto: a slow linear rise from a clean start to the rate that locks a client out, then a hold at it
	PhaseReplay      = "replay"      // a schedule given by the caller (simulate's check against the mock)
	PhasePulse       = "pulse"       // auto: pulses sent at once, far apart: a cap on requests in flight admits as many of each, a bucket what refilled
	PhaseCalm        = "calm"        // auto: paced at half a bucket's rate, so that none of its admitted requests waits in a queue
)
