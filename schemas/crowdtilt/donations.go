package crowdtilt

import "github.com/ccsync/ccsync/schemas"

// DonationRows is how Crowdtilt's current payments become rows of the donations model. Every
// payment is a gift: charged is completed, authorized is pending (the card is charged only when
// the campaign tilts), refunded and rejected keep their names. The API has no refund record, so a
// refunded payment also gives a refund row, dated by its modification_date. The donor is the
// payment's user; Crowdtilt has no recurring payments.
func DonationRows(ref func(name string) string) schemas.DonationSelect {
	return schemas.DonationSelect{
		From: ref(Payments+"_current") + " AS p" +
			"\nLEFT JOIN " + ref(Campaigns+"_current") + " AS c ON c.id = p.campaign_id" +
			"\nLEFT JOIN " + ref(Users+"_current") + " AS u ON u.id = p.user_id",
		SourceID:     "p.id",
		Status:       "CASE p.status WHEN 'charged' THEN 'completed' WHEN 'authorized' THEN 'pending' ELSE p.status END",
		SourceStatus: "p.status",
		OccurredAt:   "p.creation_date", Amount: "p.amount", Currency: "p.currency",
		CampaignName: "c.title", DonorKey: schemas.DonorKeySQL("u." + schemas.ColDonorKey), IsRecurring: "FALSE",
		SourceRecordID: "p.id", SourceGiftID: "p.id", SourceCampaignID: "p.campaign_id", SourceDonorID: "p.user_id",
		RefundedWhen: "p.status = 'refunded'", RefundedAt: "p.modification_date",
	}
}
