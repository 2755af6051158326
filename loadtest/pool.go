package loadtest

import (
	"context"
	"sync"
	"time"
)

// poolWorker does one synchronous request per call. at is the scheduled
// time in ns since the start (open loop) or -1: measure from the send.
type poolWorker interface {
	one(at int64)
	close()
}

// runPool drives synchronous workers: in open loop a scheduler hands out
// scheduled times at rate and idle workers take them (a late request's
// latency counts from its scheduled time, so a slow router cannot hide
// behind a stalled generator); in closed loop every worker loops. It
// returns when ctx is done and every worker has finished its request.
func runPool(ctx context.Context, workers []poolWorker, open bool, rate float64, start time.Time) {
	var wg sync.WaitGroup
	if !open {
		for _, w := range workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					w.one(-1)
				}
			})
		}
		wg.Wait()
		return
	}
	ticks := make(chan int64, len(workers))
	for _, w := range workers {
		wg.Go(func() {
			for at := range ticks {
				w.one(at)
			}
		})
	}
	interval := float64(time.Second) / rate
	done := ctx.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var k int64
loop:
	for {
		now := int64(time.Since(start))
		due := int64(float64(now)/interval) + 1
		if k >= due {
			timer.Reset(time.Duration(float64(k)*interval) - time.Duration(now))
			select {
			case <-done:
				break loop
			case <-timer.C:
			}
			continue
		}
		for ; k < due; k++ {
			select {
			case ticks <- int64(float64(k) * interval):
			case <-done:
				break loop
			}
		}
	}
	close(ticks)
	wg.Wait()
}
