package crowdchange_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccsync/ccsync/extract/crowdchange"
	"github.com/ccsync/ccsync/schemas"
	crowdchangeschema "github.com/ccsync/ccsync/schemas/crowdchange"
)

// cellKey is one cell of the records (elem is the index in a repeated column, -1 otherwise).
type cellKey struct {
	table, column string
	row, elem     int
}

// walkLeaves calls f for every leaf of a JSON document decoded by decodeAny: every scalar (null
// included), every scalar element of a list, and every empty object or array. path writes array
// indexes as "[]"; idx holds the concrete indexes of those arrays, outermost first.
func walkLeaves(v any, path string, idx []int, f func(path string, idx []int, v any)) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			f(path, idx, x)
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkLeaves(x[k], p, idx, f)
		}
	case []any:
		if len(x) == 0 {
			f(path, idx, x)
			return
		}
		for i, e := range x {
			walkLeaves(e, path+"[]", append(idx[:len(idx):len(idx)], i), f)
		}
	default:
		f(path, idx, v)
	}
}

// navigate returns the value at path in doc, taking the arrays' elements at idx in turn.
func navigate(doc any, path string, idx []int) (any, bool) {
	cur := doc
	for _, seg := range strings.Split(path, ".") {
		key, isList := strings.CutSuffix(seg, "[]")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
		if isList {
			l, ok := cur.([]any)
			if !ok || len(idx) == 0 || idx[0] >= len(l) {
				return nil, false
			}
			cur, idx = l[idx[0]], idx[1:]
		}
	}
	return cur, true
}

// itemOf returns the direction and category of a path under a list of line items.
func itemOf(path string) (direction, category string, ok bool) {
	if strings.HasPrefix(path, "sponsorship.items[]") {
		return crowdchangeschema.Purchased, "sponsorship", true
	}
	for _, d := range []string{crowdchangeschema.Purchased, crowdchangeschema.Refunded} {
		if rest, found := strings.CutPrefix(path, d+"_items."); found {
			cat, tail, _ := strings.Cut(rest, ".")
			if strings.HasPrefix(tail, "items[]") {
				return d, cat, true
			}
		}
	}
	return "", "", false
}

// levelOf returns the custom data level of a path under a custom_data list, and the list's prefix.
func levelOf(path string) (level, prefix string, ok bool) {
	for _, l := range crowdchangeschema.CustomDataLevels {
		for _, p := range crowdchangeschema.CustomDataPrefixes[l] {
			if strings.HasPrefix(path, p) {
				return l, p, true
			}
		}
	}
	return "", "", false
}

// The most important test: every leaf of the API's example response (every scalar, false, 0 and
// null included, and every element of a scalar list) has a home in schemas, and the row of that
// table that belongs to the leaf holds exactly the leaf's value in the home column. Conversely,
// every row the Builder made belongs to some leaf, and every value in a mapped column was put
// there by a leaf.
func TestEveryLeafLandsInItsColumn(t *testing.T) {
	r := checkLeaves(t, exampleFetched(t))
	if r.leaves < 369 {
		t.Errorf("only %d leaves walked, the example has 369", r.leaves)
	}
	t.Logf("%d leaves checked (per table: %v); %d of %d mapped columns populated by the example; not populated: %v",
		r.leaves, r.perTable, r.populated, r.total, r.unpopulated)
}

// The same over pages of the sandbox: many transactions, refunds, several items per list, nulls.
func TestSandboxLeavesLandInTheirColumns(t *testing.T) {
	var fs []crowdchange.Fetched
	for page := 1; page <= 3; page++ {
		for _, raw := range pageTransactions(t, sandboxPage(t, page)) {
			f := decodeFetched(raw)
			if f.Err != nil {
				t.Fatalf("decoding sandbox transaction %d: %v", f.ID, f.Err)
			}
			fs = append(fs, f)
		}
	}
	r := checkLeaves(t, fs)
	if r.maxPosition < 1 {
		t.Errorf("the sandbox pages have no list with two elements: positions are not exercised")
	}
	t.Logf("%d sandbox transactions, %d leaves checked (per table: %v), %d null or empty objects and lists; %d of %d mapped columns populated; not populated: %v",
		len(fs), r.leaves, r.perTable, r.emptyContainers, r.populated, r.total, r.unpopulated)
}

type leafReport struct {
	leaves, populated, total int
	perTable                 map[string]int
	unpopulated              []string
	maxPosition              int // the largest list index met
	emptyContainers          int // null or empty objects and lists at known paths
}

// knownContainers are the paths of the objects and lists on the way to mapped leaves.
var knownContainers = func() map[string]bool {
	out := map[string]bool{}
	for _, m := range crowdchangeschema.PathMap() {
		for i := range len(m.JSONPath) {
			if c := m.JSONPath[i]; c == '.' || c == '[' {
				out[m.JSONPath[:i]] = true
			}
		}
	}
	return out
}()

func isNullOrEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// checkLeaves runs the transactions through a Builder and checks every leaf of their raw JSON
// against its home column, and every row and mapped value against the leaves.
func checkLeaves(t *testing.T, fs []crowdchange.Fetched) leafReport {
	t.Helper()
	tables, stats := build(t, fs...)
	if stats.Invalid != 0 || stats.UnknownFields != 0 {
		t.Errorf("stats: %d invalid transactions, %d unknown fields; want none", stats.Invalid, stats.UnknownFields)
	}
	r := leafReport{perTable: map[string]int{}}

	hits := map[cellKey]bool{}
	rowHit := map[string]map[int]bool{}
	for _, f := range fs {
		doc := decodeAny(t, f.Raw)
		walkLeaves(doc, "", nil, func(path string, idx []int, v any) {
			r.leaves++
			for _, i := range idx {
				r.maxPosition = max(r.maxPosition, i)
			}
			m, ok := crowdchangeschema.HomeOf(path)
			if !ok && knownContainers[path] && isNullOrEmpty(v) {
				// A null or empty object or list where the map expects one: it has no column
				// of its own; the reverse check below sees that its columns stay null and
				// that it has no rows.
				r.emptyContainers++
				return
			}
			if !ok {
				t.Errorf("transaction %d: leaf %s has no home in schemas", f.ID, path)
				return
			}
			switch v.(type) {
			case map[string]any, []any:
				t.Errorf("transaction %d: leaf %s is an empty object or array but its home %s.%s is a column", f.ID, path, m.Table, m.Column)
				return
			}
			rs := tables[m.Table]
			row, ok := locate(t, rs, path, idx, f.ID, doc)
			if !ok {
				return
			}
			c, _ := rs.table.Column(m.Column)
			got, elem := rs.get(row, m.Column), -1
			if c.Repeated {
				elem = idx[len(idx)-1]
				list, _ := got.([]any)
				if elem >= len(list) {
					t.Errorf("%s %v: %s.%s row %d has %d elements, want element %d", path, idx, m.Table, m.Column, row, len(list), elem)
					return
				}
				got = list[elem]
			}
			if want := jsonValue(t, c.Type, v); !sameCell(got, want) {
				t.Errorf("transaction %d, %s %v: %s.%s row %d = %v, want %v", f.ID, path, idx, m.Table, m.Column, row, got, want)
			}
			k := cellKey{table: m.Table, column: m.Column, row: row, elem: elem}
			if hits[k] {
				t.Errorf("transaction %d, %s %v: %s.%s row %d is the home of two leaves", f.ID, path, idx, m.Table, m.Column, row)
			}
			hits[k] = true
			if rowHit[m.Table] == nil {
				rowHit[m.Table] = map[int]bool{}
			}
			rowHit[m.Table][row] = true
			r.perTable[m.Table]++
		})
	}

	// The reverse: no row and no value that no leaf accounts for.
	mapped := map[string][]string{}
	for _, m := range crowdchangeschema.PathMap() {
		if !slices.Contains(mapped[m.Table], m.Column) {
			mapped[m.Table] = append(mapped[m.Table], m.Column)
		}
	}
	for _, tb := range crowdchangeschema.DataTables() {
		rs := tables[tb.Name]
		for row := range rs.cells {
			if tb.Name != crowdchangeschema.RawTransactions && !rowHit[tb.Name][row] {
				t.Errorf("%s row %d belongs to no leaf of the JSON", tb.Name, row)
			}
		}
		for _, column := range mapped[tb.Name] {
			c, _ := tb.Column(column)
			filled := false
			for row := range rs.cells {
				cell := rs.get(row, column)
				if c.Repeated {
					for e := range cell.([]any) {
						filled = true
						if !hits[cellKey{tb.Name, column, row, e}] {
							t.Errorf("%s.%s row %d element %d holds a value no leaf put there", tb.Name, column, row, e)
						}
					}
					continue
				}
				if cell != nil {
					filled = true
					if !hits[cellKey{tb.Name, column, row, -1}] {
						t.Errorf("%s.%s row %d holds a value no leaf put there", tb.Name, column, row)
					}
				}
			}
			r.total++
			if filled {
				r.populated++
			} else {
				r.unpopulated = append(r.unpopulated, tb.Name+"."+column)
			}
		}
	}
	return r
}

// locate finds the one row of rs that belongs to the leaf at path (concrete indexes idx) of the
// transaction txID, whose JSON is doc: transactions by id; transaction_items by (direction,
// category, position); detail tables by (direction, position); custom_data by (level, direction,
// item_position, position). It checks the row's derived key columns on the way (custom_data's
// owner_id).
func locate(t *testing.T, rs *rows, path string, idx []int, txID int64, doc any) (int, bool) {
	t.Helper()
	key := []any{"transaction_id", txID}
	switch rs.table.Name {
	case crowdchangeschema.Transactions:
		key = []any{"id", txID}
	case crowdchangeschema.TransactionItem, crowdchangeschema.Registrations, crowdchangeschema.Ecards, crowdchangeschema.TributeCards, crowdchangeschema.SelfDonations:
		dir, cat, ok := itemOf(path)
		if !ok {
			t.Errorf("%s lives in %s but is not under a list of items", path, rs.table.Name)
			return 0, false
		}
		key = append(key, "direction", dir, "position", int64(idx[0]))
		if rs.table.Name == crowdchangeschema.TransactionItem {
			key = append(key, "category", cat)
		}
	case crowdchangeschema.CustomData:
		level, prefix, ok := levelOf(path)
		if !ok {
			t.Errorf("%s lives in custom_data but is under no level's list", path)
			return 0, false
		}
		key = append(key, "level", level)
		if dir, _, isItem := itemOf(path); isItem {
			key = append(key, "direction", dir, "item_position", int64(idx[0]), "position", int64(idx[1]))
		} else {
			key = append(key, "direction", nil, "item_position", nil, "position", int64(idx[0]))
		}
		rows := rs.find(key...)
		if len(rows) != 1 {
			t.Errorf("%s %v: %d custom_data rows match %v, want 1", path, idx, len(rows), key)
			return 0, false
		}
		ownerPath := strings.TrimSuffix(prefix, "custom_data[].") + "id"
		owner, ok := navigate(doc, ownerPath, idx)
		if !ok {
			t.Errorf("%s: no owner at %s", path, ownerPath)
		} else if want := jsonValue(t, schemas.Int64, owner); !sameCell(rs.get(rows[0], "owner_id"), want) {
			t.Errorf("%s %v: owner_id = %v, want %v (%s)", path, idx, rs.get(rows[0], "owner_id"), want, ownerPath)
		}
		return rows[0], true
	default:
		t.Errorf("%s lives in %s, which holds no leaves", path, rs.table.Name)
		return 0, false
	}
	rows := rs.find(key...)
	if len(rows) != 1 {
		t.Errorf("%s %v: %d %s rows match %v, want 1", path, idx, len(rows), rs.table.Name, key)
		return 0, false
	}
	return rows[0], true
}

// The columns no leaf lives in: the version stamps, the transaction's id and date on child rows,
// the detail tables' item_id, and raw_transactions.
func TestDerivedColumns(t *testing.T) {
	fs := exampleFetched(t)
	tables, _ := build(t, fs...)
	for _, f := range fs {
		doc := decodeAny(t, f.Raw)
		date := time.Date(f.Tx.Date.Year(), f.Tx.Date.Month(), f.Tx.Date.Day(), 0, 0, 0, 0, time.UTC)
		for _, tb := range crowdchangeschema.DataTables() {
			rs := tables[tb.Name]
			idCol := "transaction_id"
			if tb.Name == crowdchangeschema.Transactions {
				idCol = "id"
			}
			mine := rs.find(idCol, f.ID)
			if len(mine) == 0 {
				t.Errorf("%s: no rows for transaction %d", tb.Name, f.ID)
			}
			for _, row := range mine {
				for col, want := range map[string]any{
					"transaction_date":     date,
					schemas.ColRunID:       testMeta.RunID,
					schemas.ColBatchID:     testMeta.BatchID,
					schemas.ColExtractedAt: testMeta.ExtractedAt,
				} {
					if got := rs.get(row, col); !sameCell(got, want) {
						t.Errorf("%s row %d: %s = %v, want %v", tb.Name, row, col, got, want)
					}
				}
			}
			category := map[string]string{
				crowdchangeschema.Registrations: "registration",
				crowdchangeschema.Ecards:        "ecards",
				crowdchangeschema.TributeCards:  "tribute_cards",
				crowdchangeschema.SelfDonations: "self_donations",
			}[tb.Name]
			if category == "" {
				continue
			}
			for _, row := range mine {
				dir := rs.get(row, "direction").(string)
				pos := int(rs.get(row, "position").(int64))
				id, ok := navigate(doc, dir+"_items."+category+".items[].id", []int{pos})
				if !ok {
					t.Errorf("%s row %d: no %s item at position %d in the JSON", tb.Name, row, dir, pos)
					continue
				}
				if got, want := rs.get(row, "item_id"), jsonValue(t, schemas.Int64, id); !sameCell(got, want) {
					t.Errorf("%s row %d: item_id = %v, want %v", tb.Name, row, got, want)
				}
			}
		}
		raw := tables[crowdchangeschema.RawTransactions]
		rows := raw.find("transaction_id", f.ID)
		if len(rows) != 1 {
			t.Fatalf("%d raw rows for transaction %d, want 1", len(rows), f.ID)
		}
		if got := raw.get(rows[0], "raw"); got != string(f.Raw) {
			t.Errorf("raw differs from the API's bytes")
		}
		if got := raw.get(rows[0], "unknown_fields"); len(got.([]any)) != 0 {
			t.Errorf("unknown_fields = %v, want none", got)
		}
		if got := raw.get(rows[0], "decode_error"); got != nil {
			t.Errorf("decode_error = %v, want null", got)
		}
		var probe struct{ ID int64 }
		if err := json.Unmarshal(f.Raw, &probe); err != nil || probe.ID != f.ID {
			t.Errorf("fixture id %d does not match Fetched.ID %d", probe.ID, f.ID)
		}
	}
}
