package bqtest_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"

	"github.com/ccsync/ccsync/load/bqtest"
)

func TestTestIamPermissions(t *testing.T) {
	srv, c := start(t, bqtest.Options{})
	ctx := context.Background()
	createDataset(t, c)
	tb := createTxTable(t, c, "tx")
	perms := []string{bqtest.PermTablesUpdateData, "bigquery.tables.getData"}

	got, err := tb.IAM().TestPermissions(ctx, perms)
	if err != nil {
		t.Fatalf("TestPermissions: %v", err)
	}
	if want := []string{"bigquery.tables.getData", bqtest.PermTablesUpdateData}; !reflect.DeepEqual(got, want) {
		t.Errorf("granted = %v, want %v", got, want)
	}

	srv.DenyPermissions(bqtest.PermTablesUpdateData)
	got, err = tb.IAM().TestPermissions(ctx, perms)
	if err != nil {
		t.Fatalf("TestPermissions after deny: %v", err)
	}
	if want := []string{"bigquery.tables.getData"}; !reflect.DeepEqual(got, want) {
		t.Errorf("granted after deny = %v, want %v", got, want)
	}
	_, err = c.Dataset(testDataset).Table("missing").IAM().TestPermissions(ctx, perms)
	if code, reason := apiCode(err); code != http.StatusNotFound || reason != "notFound" {
		t.Errorf("missing table: %v, want 404 notFound", err)
	}
	// A load into the table is refused at jobs.insert.
	_, err = loader(tb, txParquet(t, sampleRows), "denied-load").Run(ctx)
	if code, reason := apiCode(err); code != http.StatusForbidden || reason != bqtest.ReasonAccessDenied || !strings.Contains(err.Error(), bqtest.PermTablesUpdateData) {
		t.Errorf("load with updateData denied: %v, want 403 accessDenied naming the permission", err)
	}
	if _, ok := srv.Job("denied-load"); ok {
		t.Error("a refused load created its job")
	}
}

func TestDenyPermissions(t *testing.T) {
	cases := []struct {
		perm string
		call func(t *testing.T, c *bigquery.Client) error
		msg  string
	}{
		{bqtest.PermDatasetsGet, func(t *testing.T, c *bigquery.Client) error {
			_, err := c.Dataset(testDataset).Metadata(context.Background())
			return err
		}, "Access Denied: Dataset proj:ds: Permission bigquery.datasets.get denied on dataset proj:ds"},
		{bqtest.PermTablesCreate, func(t *testing.T, c *bigquery.Client) error {
			return c.Dataset(testDataset).Table("t2").Create(context.Background(), nil)
		}, "Permission bigquery.tables.create denied on table proj:ds.t2"},
		{bqtest.PermJobsCreate, func(t *testing.T, c *bigquery.Client) error {
			_, err := loader(c.Dataset(testDataset).Table("tx"), txParquet(t, sampleRows), "j").Run(context.Background())
			return err
		}, "does not have bigquery.jobs.create permission"},
	}
	for _, tc := range cases {
		t.Run(tc.perm, func(t *testing.T) {
			srv, c := start(t, bqtest.Options{})
			createDataset(t, c)
			createTxTable(t, c, "tx")
			srv.DenyPermissions(tc.perm)
			err := tc.call(t, c)
			if code, reason := apiCode(err); code != http.StatusForbidden || reason != bqtest.ReasonAccessDenied || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want 403 accessDenied containing %q", err, tc.msg)
			}
		})
	}
}
