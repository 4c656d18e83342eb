package main

import (
	"context"
	"encoding/json"

	"github.com/ccsync/ccsync/load/pipeline"
)

// job connects to the API (checking the key) and the warehouse and describes the run of the verb.
func (inv *invocation) job(ctx context.Context) (pipeline.Job, error) {
	pii, err := inv.piiPolicy()
	if err != nil {
		return pipeline.Job{}, err
	}
	source, sink, err := inv.connect(ctx, false, pii)
	if err != nil {
		return pipeline.Job{}, err
	}
	j := pipeline.Job{
		Verb: inv.verb, Args: redactedArgs(inv.verb, inv.argv), RunID: inv.runID, Run: inv.cfg.Run,
		Source: source, Sink: sink, Log: inv.log, Now: inv.env.now,
		Out: inv.env.stdout, Getenv: inv.env.src.Getenv, PII: pii,
	}
	if inv.bar != nil {
		j.Progress = inv.bar
	}
	return j, nil
}

// redactedArgs is the command line for the run log: flags and values, never a secret (the key is
// never a flag; a file path is fine).
func redactedArgs(verb string, args []string) string {
	b, _ := json.Marshal(append([]string{verb}, args...))
	return string(b)
}
