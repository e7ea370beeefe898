package mock

import (
	"hash/maphash"
	"sync"
	"time"

	"limitprobe/limiter"
)

// locked is the limiter of one key behind a lock: package limiter's
// algorithms are plain state machines.
type locked struct {
	mu  sync.Mutex
	lim limiter.Limiter
}

// decision is a limiter's decision and, for a cap on requests in flight,
// the state that admitted the request: ServeHTTP calls release when it
// ends. With a quota, main and quota are the algorithm's and the quota's
// parts of it; without, main is the decision itself.
type decision struct {
	limiter.Decision
	main, quota limiter.Decision
	st          *locked
}

func (d decision) release(now time.Time) {
	if d.st != nil {
		d.st.mu.Lock()
		d.st.lim.Done(instant(now))
		d.st.mu.Unlock()
	}
}

// instant is t on the limiters' clock: Unix time, so that windows are
// aligned to it (a one-minute window starts on the minute).
func instant(t time.Time) time.Duration { return time.Duration(t.UnixNano()) }

// maxKeys bounds the number of keys a keyed limiter remembers; beyond it the
// oldest key is forgotten (its client starts afresh).
const maxKeys = 10_000

// maxLogEntries bounds the memory of a keyed log (a sliding log, a lockout
// kept as a log): keys × limit timestamps of 8 bytes each (32 MB).
const maxLogEntries = 4_000_000

// maxKeyedLogLimit is the largest limit of a keyed log, so that one
// key per shard still fits in maxLogEntries.
const maxKeyedLogLimit = maxLogEntries / nShards

const nShards = 32

// keyed holds the per-key limiters of one configuration. With no keys it
// has a single limiter and no map.
type keyed struct {
	cfg      limiter.Config   // the algorithm's
	cfgs     []limiter.Config // the algorithm's, then the quota's if any
	busy     time.Duration    // Retry-After of a full cap on requests in flight: the mean service time
	single   *locked          // when not keyed
	seed     maphash.Seed
	perShard int
	shards   []shard
}

type shard struct {
	mu    sync.Mutex
	m     map[string]*locked
	order []string // keys in insertion order, a ring of perShard entries
	head  int
	_     [64]byte // keep shards on separate cache lines
}

// newKeyed returns the limiters of a validated configuration.
func newKeyed(cfg *Config) *keyed {
	cs := cfg.limiterConfigs()
	l := &keyed{cfg: cs[0], cfgs: cs, busy: cfg.Latency.Mean()}
	if cfg.KeyBy == "" || cfg.KeyBy == KeyNone {
		l.single = &locked{lim: l.newLimiter()}
		return l
	}
	keys := maxKeys
	if cfg.logs() {
		keys = min(keys, max(nShards, maxLogEntries/cfg.Limit))
	}
	l.seed = maphash.MakeSeed()
	l.perShard = max(1, keys/nShards)
	l.shards = make([]shard, nShards)
	for i := range l.shards {
		l.shards[i].m = make(map[string]*locked)
	}
	return l
}

// newLimiter returns an idle limiter of the configuration: a stack of the
// algorithm and the quota when there is one.
func (l *keyed) newLimiter() limiter.Limiter {
	if len(l.cfgs) > 1 {
		return limiter.NewStack(l.cfgs...)
	}
	return limiter.New(l.cfg)
}

// Admit decides about one request from key at instant now. The key is
// ignored when the limiter is not keyed.
func (l *keyed) Admit(key string, now time.Time) decision {
	st := l.single
	if st == nil {
		st = l.state(key)
	}
	st.mu.Lock()
	out := decision{Decision: st.lim.Admit(instant(now))}
	out.main = out.Decision
	if s, ok := st.lim.(*limiter.Stack); ok {
		parts := s.Decisions()
		out.main, out.quota = parts[0], parts[1]
	}
	st.mu.Unlock()
	if l.cfg.Kind == limiter.Concurrency {
		switch {
		case out.OK:
			out.st = st
		case !out.main.OK:
			out.RetryAfter = max(out.RetryAfter, l.busy)
		}
	}
	return out
}

// state returns the limiter of key, creating it (and forgetting the oldest
// key of its shard when the shard is full).
func (l *keyed) state(key string) *locked {
	sh := &l.shards[maphash.String(l.seed, key)%nShards]
	sh.mu.Lock()
	st, ok := sh.m[key]
	if !ok {
		st = &locked{lim: l.newLimiter()}
		if len(sh.order) < l.perShard {
			sh.order = append(sh.order, key)
		} else {
			delete(sh.m, sh.order[sh.head])
			sh.order[sh.head] = key
			sh.head = (sh.head + 1) % l.perShard
		}
		sh.m[key] = st
	}
	sh.mu.Unlock()
	return st
}

// keys returns how many keys the limiter remembers.
func (l *keyed) keys() int {
	if l.single != nil {
		return 1
	}
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
