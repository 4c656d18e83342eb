package donately

import "github.com/ccsync/ccsync/schemas"

// DonationRows is how Donately's current donations become rows of the donations model. Every
// donation is a gift, with its status (completed, pending, refunded, rejected: the model's
// vocabulary); the API has no refund record, so a refunded donation also gives a refund row,
// dated by its updated_at (the last change, which the refund is at the time it is read). The
// donor is the donation's person; the campaign its campaign.
func DonationRows(ref func(name string) string) schemas.DonationSelect {
	return schemas.DonationSelect{
		From: ref(Donations+"_current") + " AS d" +
			"\nLEFT JOIN " + ref(Campaigns+"_current") + " AS c ON c.id = d.campaign_id" +
			"\nLEFT JOIN " + ref(People+"_current") + " AS p ON p.id = d.person_id",
		SourceID: "d.id", Status: "d.status", SourceStatus: "d.status",
		OccurredAt: "d.created_at", Amount: "d.amount", Currency: "d.currency",
		CampaignName: "c.title", DonorKey: schemas.DonorKeySQL("p." + schemas.ColDonorKey),
		IsRecurring:    "(COALESCE(d.recurring, FALSE) OR d.subscription_id IS NOT NULL)",
		SourceRecordID: "d.id", SourceGiftID: "d.id", SourceCampaignID: "d.campaign_id", SourceDonorID: "d.person_id",
		RefundedWhen: "d.status = 'refunded'", RefundedAt: "d.updated_at",
	}
}
