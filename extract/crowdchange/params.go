package crowdchange

// The names and formats of GET /v2/private/transactions, in one place. The API documents what the
// query parameters mean but not all of their names; these are the names ccsync uses, and the
// sandbox (package crowdchangetest) serves the same ones.

// TransactionsPath is the endpoint's path, appended to the base URL.
const TransactionsPath = "/v2/private/transactions"

// Query parameter names.
const (
	// ParamDTStart is the first second of a date window, inclusive (QueryTimeLayout, UTC).
	ParamDTStart = "dt_start"
	// ParamDTEnd is the last second of a date window, inclusive (QueryTimeLayout, UTC).
	ParamDTEnd = "dt_end"
	// ParamPayoutAccount is the account a payout went to: AccountGlobal or AccountUser.
	ParamPayoutAccount = "payout_account"
	// ParamPayoutDate is the payout date (DateLayout). When it is given, the API ignores
	// ParamDTStart and ParamDTEnd.
	ParamPayoutDate = "payout_date"
	// ParamPage is the page number, from 1.
	ParamPage = "page"
	// ParamLimit is the page size, MinLimit..MaxLimit.
	ParamLimit = "limit"
	// ParamSort is the sort key: SortID or SortDate.
	ParamSort = "sort"
	// ParamDirection is the sort direction: DirectionAsc or DirectionDesc.
	ParamDirection = "direction"
)

// QueryTimeLayout is the layout of ParamDTStart and ParamDTEnd (UTC). Note that the API writes
// the dates inside transactions with a space instead of the "T" (DateTimeLayout).
const QueryTimeLayout = "2006-01-02T15:04:05"

// Values of ParamPayoutAccount.
const (
	AccountGlobal = "global"
	AccountUser   = "user"
)

// Values of ParamSort and ParamDirection. ccsync always asks for SortID, DirectionAsc: a stable
// order makes paging deterministic.
const (
	SortID        = "id"
	SortDate      = "date"
	DirectionAsc  = "asc"
	DirectionDesc = "desc"
)

// Bounds of ParamLimit.
const (
	MinLimit = 1
	MaxLimit = 100
)
