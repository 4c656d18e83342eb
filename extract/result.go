package extract

// WindowFetch is one window's fetch as the run loop sees it, whatever the source: the source's
// builder knows the concrete type (for CrowdChange, *WindowResult).
type WindowFetch interface {
	Counts() WindowCounts
}

// WindowCounts are the figures of one fetched window the run loop counts and checkpoints.
type WindowCounts struct {
	Window Window
	// Records are the records kept (CrowdChange: transactions), Pages the pages read, Duplicates
	// the records dropped because already seen in the window.
	Records, Pages, Duplicates int
}
