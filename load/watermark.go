package load

import (
	"sort"
	"time"
)

// interval is a committed window [start, end).
type interval struct{ start, end time.Time }

// windows returns the non-empty committed windows of one stream and payout account, sorted by
// start, then end.
func windows(cps []Checkpoint, stream, account string) []interval {
	var out []interval
	for _, c := range cps {
		if c.Stream != stream || c.PayoutAccount != account || !c.WindowStart.Before(c.WindowEnd) {
			continue
		}
		out = append(out, interval{c.WindowStart.UTC(), c.WindowEnd.UTC()})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].start.Equal(out[j].start) {
			return out[i].start.Before(out[j].start)
		}
		return out[i].end.Before(out[j].end)
	})
	return out
}

// Watermark returns the end of the contiguous committed prefix of a stream (and payout account:
// "" for the date stream): starting at the earliest committed window start, the union of committed
// windows is followed for as long as it has no gap. Windows may overlap, repeat, differ in size
// and have been committed in any order. It returns false when the stream has no committed window.
func Watermark(cps []Checkpoint, stream, account string) (time.Time, bool) {
	ws := windows(cps, stream, account)
	if len(ws) == 0 {
		return time.Time{}, false
	}
	end := ws[0].end
	for _, w := range ws[1:] {
		if w.start.After(end) {
			break // a gap: the prefix ends here
		}
		if w.end.After(end) {
			end = w.end
		}
	}
	return end, true
}

// Covered reports whether [start, end) is entirely inside the union of the committed windows of a
// stream (and payout account), so that a backfill re-run with another window size still skips
// what is committed. An empty range (end not after start) is covered.
func Covered(cps []Checkpoint, stream, account string, start, end time.Time) bool {
	if !end.After(start) {
		return true
	}
	cursor := start.UTC() // everything before cursor is covered
	for _, w := range windows(cps, stream, account) {
		if w.start.After(cursor) {
			return false // a gap at cursor (windows are sorted by start)
		}
		if w.end.After(cursor) {
			cursor = w.end
		}
		if !cursor.Before(end) {
			return true
		}
	}
	return false
}

// OfSource keeps the checkpoints of one source: a source plans from its own windows only, so two
// sources in one warehouse never see each other's.
func OfSource(cps []Checkpoint, source string) []Checkpoint {
	var out []Checkpoint
	for _, c := range cps {
		if c.Source == source {
			out = append(out, c)
		}
	}
	return out
}
