package crowdchange

import "github.com/ccsync/ccsync/schemas"

// DonationRows is how CrowdChange's current transactions become rows of the donations model.
//
// A transaction is a charge or a refund of several items (donations, tickets, registrations,
// apparel, e-cards, sponsorship, custom fees, covered fees); only its donation part is a
// donation. A charge with a donation (amount_donation, which already includes
// amount_donation_to_pages, the part of it given on a personal page, self-donations included) is a
// gift, with the charge's status (completed, pending, or refunded once a refund names it); a
// refund transaction with a donation part is a refund, its amount_donation negative as the API
// sends it. Everything else a transaction carries (tickets, registrations, apparel, e-cards,
// sponsorship, custom fees, covered fees) is left out, and so is a transaction without a donation
// part. The donor is the donated_by person, else the billing (paying) person.
func DonationRows(ref func(name string) string) schemas.DonationSelect {
	return schemas.DonationSelect{
		From:  ref(Transactions+"_current") + " AS t",
		Where: "t.type IN ('charge', 'refund') AND t.amount_donation <> 0",
		// CrowdChange's statuses (completed, pending, refunded) are the model's.
		SourceID: "CAST(t.id AS STRING)", Kind: "CASE t.type WHEN 'refund' THEN 'refund' ELSE 'gift' END",
		Status: "t.status", SourceStatus: "t.status",
		OccurredAt: "t.date", Amount: "t.amount_donation", Currency: "t.amount_currency",
		CampaignName:     "t.fundraiser_name",
		DonorKey:         schemas.DonorKeySQL("t."+schemas.ColDonorKey, "t."+ColBillingDonorKey),
		IsRecurring:      "COALESCE(t.amount_is_recurring, FALSE)",
		SourceRecordID:   "CAST(t.id AS STRING)",
		SourceGiftID:     "CAST(CASE t.type WHEN 'refund' THEN t.parent_id ELSE t.id END AS STRING)",
		SourceCampaignID: "CAST(t.fundraiser_id AS STRING)",
		SourceDonorID:    "CAST(t.donated_by_user_id AS STRING)",
	}
}
