package pipeline

import (
	"fmt"
	"strconv"

	"github.com/ccsync/ccsync/config"
)

// ShardFromEnv is the backfill's shard: --shard when given, else the Cloud Run Job task's
// CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT, else none.
func ShardFromEnv(flagShard config.Shard, getenv func(string) (string, bool)) (config.Shard, error) {
	if flagShard.Count > 1 {
		return flagShard, nil
	}
	if getenv == nil {
		return config.Shard{}, nil
	}
	idx, okI := getenv("CLOUD_RUN_TASK_INDEX")
	cnt, okC := getenv("CLOUD_RUN_TASK_COUNT")
	if !okI || !okC {
		return config.Shard{}, nil
	}
	i, err1 := strconv.Atoi(idx)
	n, err2 := strconv.Atoi(cnt)
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return config.Shard{}, fmt.Errorf("CLOUD_RUN_TASK_INDEX=%q, CLOUD_RUN_TASK_COUNT=%q: not a task i of n", idx, cnt)
	}
	return config.Shard{Index: i, Count: n}, nil
}
