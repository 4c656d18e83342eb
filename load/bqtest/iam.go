package bqtest

import (
	"net/http"
	"sort"
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// ReasonAccessDenied is the reason BigQuery gives a request its caller has no permission for.
const ReasonAccessDenied = "accessDenied"

// Permissions the server checks when they are denied (DenyPermissions): every other request is
// accepted, as if the caller had every role.
const (
	// PermDatasetsGet guards datasets.get.
	PermDatasetsGet = "bigquery.datasets.get"
	// PermTablesCreate guards tables.insert (tables and views).
	PermTablesCreate = "bigquery.tables.create"
	// PermTablesUpdate guards tables.patch.
	PermTablesUpdate = "bigquery.tables.update"
	// PermTablesUpdateData is needed to load into a table; a load job into a table is refused
	// at jobs.insert when it is denied.
	PermTablesUpdateData = "bigquery.tables.updateData"
	// PermJobsCreate guards jobs.insert (a project permission: roles/bigquery.jobUser).
	PermJobsCreate = "bigquery.jobs.create"
)

// DenyPermissions takes IAM permissions away from the caller, as if its roles did not grant
// them: tables.testIamPermissions no longer lists them, and the requests they guard (see the Perm
// constants) are answered 403 accessDenied with BigQuery's message. Permissions only ever go:
// start a new server for a fresh caller.
func (s *Server) DenyPermissions(perms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied == nil {
		s.denied = map[string]bool{}
	}
	for _, p := range perms {
		s.denied[p] = true
	}
}

// isDenied reports whether a permission was taken away.
func (s *Server) isDenied(perm string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denied[perm]
}

// errAccessDenied is BigQuery's answer to a request without the permission it needs.
func errAccessDenied(perm, kind, resource string) *apiError {
	return &apiError{code: http.StatusForbidden, reason: ReasonAccessDenied,
		message: "Access Denied: " + kind + " " + resource + ": Permission " + perm + " denied on " + strings.ToLower(kind) + " " + resource + " (or it may not exist)."}
}

// denyDataset answers datasets.get when bigquery.datasets.get is denied.
func (s *Server) denyDataset(perm, d string) *apiError {
	if s.isDenied(perm) {
		return errAccessDenied(perm, "Dataset", s.datasetID(d))
	}
	return nil
}

// denyTable answers a table request whose permission is denied.
func (s *Server) denyTable(perm, d, t string) *apiError {
	if s.isDenied(perm) {
		return errAccessDenied(perm, "Table", s.tableID(d, t))
	}
	return nil
}

// denyJob answers a jobs.insert when bigquery.jobs.create is denied, or a load job's when
// bigquery.tables.updateData is.
func (s *Server) denyJob(j *job) *apiError {
	if s.isDenied(PermJobsCreate) {
		return &apiError{code: http.StatusForbidden, reason: ReasonAccessDenied,
			message: "Access Denied: Project " + s.opts.Project + ": User does not have bigquery.jobs.create permission in project " + s.opts.Project + "."}
	}
	if j.kind == JobTypeLoad {
		return s.denyTable(PermTablesUpdateData, j.dest.dataset, j.dest.table)
	}
	return nil
}

// tablePost serves POST .../tables/{table}:method: tables.testIamPermissions. getIamPolicy and
// setIamPolicy are not emulated.
func (s *Server) tablePost(w http.ResponseWriter, r *http.Request) *apiError {
	id, method, ok := strings.Cut(r.PathValue("table"), ":")
	if !ok || method != "testIamPermissions" {
		return errNotImplemented("POST on a table other than :testIamPermissions (%s)", r.PathValue("table"))
	}
	var in bq.TestIamPermissionsRequest
	if _, aerr := decodeBody(r, &in); aerr != nil {
		return aerr
	}
	d := r.PathValue("dataset")
	s.catalogMu.RLock()
	_, _, aerr := s.lookupTable(d, id)
	s.catalogMu.RUnlock()
	if aerr != nil {
		return aerr
	}
	out := &bq.TestIamPermissionsResponse{}
	for _, p := range in.Permissions {
		if !s.isDenied(p) {
			out.Permissions = append(out.Permissions, p)
		}
	}
	sort.Strings(out.Permissions)
	writeJSON(w, http.StatusOK, out)
	return nil
}
