package main

import (
	_ "cloud.google.com/go/bigquery"
	_ "github.com/apache/arrow/go/v17/arrow"
	_ "github.com/apache/arrow/go/v17/parquet/pqarrow"
	_ "github.com/duckdb/duckdb-go/v2"
	_ "github.com/sirupsen/logrus"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/time/rate"
)

func main() {}
