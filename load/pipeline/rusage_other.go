//go:build !unix

package pipeline

func PeakRSS() int64 { return 0 }
