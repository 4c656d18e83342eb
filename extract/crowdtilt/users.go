package crowdtilt

import (
	"bytes"
	"encoding/json"
)

// embeddedUserPaths are where a record embeds users, by kind: a payment its payer (user), its
// card's user and its campaign's users; a campaign its admin, first contributor and tilter.
var embeddedUserPaths = map[Kind][][]string{
	KindPayment: {
		{"user"}, {"card", "user"},
		{"campaign", "admin"}, {"campaign", "first_contributor"}, {"campaign", "tilter"},
	},
	KindCampaign: {{"admin"}, {"first_contributor"}, {"tilter"}},
}

// EmbeddedUsers are the users r embeds (a payment: its user, its card's user, its campaign's
// admin, first contributor and tilter; a campaign: its admin, first contributor and tilter), in
// that order, each as a user Record whose Raw is the embedded object's bytes (already rid of card
// data). An absent or null member, or one without a usable id, gives none; the same user embedded
// twice is given twice. The seed's payments and campaigns embed full user objects, so the users a
// walk needs come with it without a request; one embedded as a mere reference says so
// (Record.IsReference) and User fetches it.
func EmbeddedUsers(r Record) []Record { return embeddedUsers(r, nil) }

// embeddedUsers is EmbeddedUsers; decoded, when set, holds the users already decoded by their
// bytes (a campaign's admin is embedded in each of its payments, identically).
func embeddedUsers(r Record, decoded map[string]Record) []Record {
	paths := embeddedUserPaths[r.Kind]
	if len(paths) == 0 {
		return nil
	}
	// Each object on the paths is parsed once: a payment's campaign is most of its bytes.
	objects := map[string]map[string]json.RawMessage{}
	membersOf := func(key string, raw []byte) map[string]json.RawMessage {
		if m, ok := objects[key]; ok {
			return m
		}
		var m map[string]json.RawMessage
		if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			m = nil
		}
		objects[key] = m
		return m
	}
	var out []Record
	for _, path := range paths {
		m := membersOf("", r.Raw)
		for _, name := range path[:len(path)-1] {
			m = membersOf(name, m[name])
		}
		raw := bytes.TrimSpace(m[path[len(path)-1]])
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		if u, ok := decoded[string(raw)]; ok {
			out = append(out, u)
			continue
		}
		if u, err := decodeRecord(KindUser, raw); err == nil {
			out = append(out, u)
			if decoded != nil {
				decoded[string(raw)] = u
			}
		}
	}
	return out
}

// CollectUsers are the distinct users of records (user records as they are, the users embedded
// in payments and campaigns by EmbeddedUsers), one per id, in the order each id first appears.
// Of several versions of one user it keeps a full object over a reference, then the one with the
// latest modification_date, then the one read last: a user changed while a walk read it keeps
// its newest state.
func CollectUsers(records ...[]Record) []Record {
	var out []Record
	at := map[string]int{}
	add := func(u Record) {
		k, ok := at[u.ID]
		if !ok {
			at[u.ID] = len(out)
			out = append(out, u)
			return
		}
		old := out[k]
		switch {
		case old.IsReference() != u.IsReference():
			if old.IsReference() {
				out[k] = u
			}
		case !u.ModificationDate.Before(old.ModificationDate):
			out[k] = u
		}
	}
	decoded := map[string]Record{}
	for _, list := range records {
		for _, r := range list {
			if r.Kind == KindUser {
				add(r)
				continue
			}
			for _, u := range embeddedUsers(r, decoded) {
				add(u)
			}
		}
	}
	return out
}
