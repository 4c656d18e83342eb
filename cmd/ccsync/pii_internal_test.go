package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
)

// keyedHash reuses its HMAC states: each value still gets HMAC-SHA256 of its own, also when the
// hash runs from several goroutines at once.
func TestKeyedHash(t *testing.T) {
	t.Parallel()
	key := []byte("a PII key for the tests, 32 byte")
	want := func(s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
	h := keyedHash(key)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v := string(rune('a'+g)) + string(rune('a'+i%26))
				if got := h(v); got != want(v) {
					t.Errorf("keyedHash(%q) = %s, want %s", v, got, want(v))
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkKeyedHash(b *testing.B) {
	h := keyedHash([]byte("a PII key for the tests, 32 byte"))
	for b.Loop() {
		h("ann.example@example.org")
	}
}

// The floor: a new HMAC state per value, as keyedHash did at first.
func BenchmarkKeyedHashNewState(b *testing.B) {
	key := []byte("a PII key for the tests, 32 byte")
	for b.Loop() {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("ann.example@example.org"))
		_ = hex.EncodeToString(m.Sum(nil))
	}
}
