package pipeline

import (
	"testing"
	"time"

	"github.com/ccsync/ccsync/config"
	"github.com/ccsync/ccsync/extract"
)

func TestShardWindowsPartitionThePlan(t *testing.T) {
	t.Parallel()
	windows, err := extract.PlanDateWindows(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 7, 400} {
		seen := map[extract.Window]int{}
		for i := 0; i < n; i++ {
			part := ShardWindows(windows, config.Shard{Index: i, Count: n})
			if n > 1 && len(part) > len(windows)/n+1 {
				t.Errorf("shard %d/%d has %d windows: unbalanced", i, n, len(part))
			}
			for _, w := range part {
				seen[w]++
			}
		}
		if len(seen) != len(windows) {
			t.Errorf("%d shards cover %d of %d windows", n, len(seen), len(windows))
		}
		for w, k := range seen {
			if k != 1 {
				t.Errorf("%d shards: %s in %d shards", n, w, k)
			}
		}
	}
}

func TestShardFromCloudRunEnvironment(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		flag    config.Shard
		env     map[string]string
		want    config.Shard
		wantErr bool
	}{
		{config.Shard{}, nil, config.Shard{}, false},
		{config.Shard{}, map[string]string{"CLOUD_RUN_TASK_INDEX": "2", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{Index: 2, Count: 5}, false},
		{config.Shard{Index: 1, Count: 3}, map[string]string{"CLOUD_RUN_TASK_INDEX": "2", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{Index: 1, Count: 3}, false},
		{config.Shard{}, map[string]string{"CLOUD_RUN_TASK_INDEX": "5", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{}, true},
		{config.Shard{}, map[string]string{"CLOUD_RUN_TASK_INDEX": "x", "CLOUD_RUN_TASK_COUNT": "5"}, config.Shard{}, true},
	}
	for _, tt := range tests {
		got, err := ShardFromEnv(tt.flag, env(tt.env))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ShardFromEnv(%v, %v) = %v, %v", tt.flag, tt.env, got, err)
		}
	}
}
