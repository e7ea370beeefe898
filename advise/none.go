package advise

// BasisNone is the Basis of a recommendation made of nothing: the run
// measured no limit to advise from.
const BasisNone = "none"

// None is the recommendation of a run that measured no limit to advise
// from (see probe.Run.Inconclusive): no rate, burst, cap or retry
// settings, and why as its note. Settings guessed from such a run (six
// requests before a wait of days, or nothing that succeeded) would be
// wrong by any amount.
func None(reason string, margin float64) Recommendation {
	if !(margin > 0 && margin <= 1) {
		margin = DefaultMargin
	}
	return Recommendation{Margin: margin, Basis: BasisNone, Notes: []string{"No recommendation: " + reason + "."},
		Reference: []ReferencePoint{}}
}
