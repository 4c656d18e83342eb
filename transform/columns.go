package transform

import (
	"github.com/ccsync/ccsync/extract"
	"github.com/ccsync/ccsync/schemas"
)

// The column sets of the API's objects, resolved by name once per Builder (see table.col), and the
// code that writes each object into them. Column names come from schemas; a misspelt one panics in
// NewBuilder.

type addressCols struct {
	businessName, isFoundation, title, name, firstName, lastName, streetAddress, city, country, state, postal, email, phone col
}

func addressColsOf(t *table, prefix string) addressCols {
	return addressCols{
		businessName:  t.col(prefix + "business_name"),
		isFoundation:  t.col(prefix + "is_foundation"),
		title:         t.col(prefix + "title"),
		name:          t.col(prefix + "name"),
		firstName:     t.col(prefix + "first_name"),
		lastName:      t.col(prefix + "last_name"),
		streetAddress: t.col(prefix + "street_address"),
		city:          t.col(prefix + "city"),
		country:       t.col(prefix + "country"),
		state:         t.col(prefix + "state"),
		postal:        t.col(prefix + "postal"),
		email:         t.col(prefix + "email"),
		phone:         t.col(prefix + "phone"),
	}
}

func (t *table) address(c addressCols, a *extract.Billing) {
	if a == nil {
		return
	}
	t.strp(c.businessName, a.BusinessName)
	t.boolp(c.isFoundation, a.IsFoundation)
	t.strp(c.title, a.Title)
	t.strp(c.name, a.Name)
	t.strp(c.firstName, a.FirstName)
	t.strp(c.lastName, a.LastName)
	t.strp(c.streetAddress, a.StreetAddress)
	t.strp(c.city, a.City)
	t.strp(c.country, a.Country)
	t.strp(c.state, a.State)
	t.strp(c.postal, a.Postal)
	t.strp(c.email, a.Email)
	t.strp(c.phone, a.Phone)
}

func (t *table) donatedBy(c addressCols, userID col, d *extract.DonatedBy) {
	if d == nil {
		return
	}
	t.strp(c.businessName, d.BusinessName)
	t.strp(c.title, d.Title)
	t.strp(c.name, d.Name)
	t.strp(c.firstName, d.FirstName)
	t.strp(c.lastName, d.LastName)
	t.strp(c.streetAddress, d.StreetAddress)
	t.strp(c.city, d.City)
	t.strp(c.country, d.Country)
	t.strp(c.state, d.State)
	t.strp(c.postal, d.Postal)
	t.strp(c.email, d.Email)
	t.boolp(c.isFoundation, d.IsFoundation)
	t.intp(userID, d.UserID)
	t.strp(c.phone, d.Phone)
}

type userCols struct{ id, email, firstName, lastName, language, title, name col }

// userColsOf resolves a user's columns; withLanguage is false where the table has no language
// column for that user (the API does not send it there).
func userColsOf(t *table, prefix string, withLanguage bool) userCols {
	c := userCols{
		id:        t.col(prefix + "id"),
		email:     t.col(prefix + "email"),
		firstName: t.col(prefix + "first_name"),
		lastName:  t.col(prefix + "last_name"),
		language:  noCol,
		title:     t.col(prefix + "title"),
		name:      t.col(prefix + "name"),
	}
	if withLanguage {
		c.language = t.col(prefix + "language")
	}
	return c
}

func (t *table) user(c userCols, u *extract.User) {
	if u == nil {
		return
	}
	t.intp(c.id, u.ID)
	t.strp(c.email, u.Email)
	t.strp(c.firstName, u.FirstName)
	t.strp(c.lastName, u.LastName)
	t.strp(c.language, u.Language)
	t.strp(c.title, u.Title)
	t.strp(c.name, u.Name)
}

type recipientCols struct{ name, email, phone, address col }

func recipientColsOf(t *table) recipientCols {
	return recipientCols{
		name:    t.col("recipient_name"),
		email:   t.col("recipient_email"),
		phone:   t.col("recipient_phone"),
		address: t.col("recipient_address"),
	}
}

func (t *table) recipient(c recipientCols, r *extract.Recipient) {
	if r == nil {
		return
	}
	t.strp(c.name, r.Name)
	t.strp(c.email, r.Email)
	t.strp(c.phone, r.Phone)
	t.strp(c.address, r.Address)
}

// itemKeyCols are the key columns of the detail tables.
type itemKeyCols struct{ direction, position, itemID col }

func itemKeyColsOf(t *table) itemKeyCols {
	return itemKeyCols{direction: t.col("direction"), position: t.col("position"), itemID: t.col("item_id")}
}

func (t *table) itemKey(c itemKeyCols, direction string, position int, itemID *int64) {
	t.strv(c.direction, direction)
	t.intv(c.position, int64(position))
	t.intp(c.itemID, itemID)
}

// transactionsCols are the columns of the transactions table.
type transactionsCols struct {
	id, typ, status, refundChildrenIDs, parentID, partnerID, promoCode col

	amount struct {
		apparel, coveredFees, currency, donation, donationToPages, ecards, isRecurring, registration,
		sponsorship, tickets, totalNet, totalPaid, customFees col
	}
	billing, mailing                                                          addressCols
	donatedBy                                                                 addressCols
	donatedByUserID                                                           col
	cardType, paymentProcessor, processorTransactionID, date, donationComment col

	fundraiser struct {
		id, partnerID, templateID, name, dtStart, dtEnd, location, goal, campus, nationalOffice, chapter,
		chapterCustomID, organization, inSupportName, inSupportCode, appealCode, language, tagsList,
		templateObjectID, templateName col
		user userCols
	}
	team struct {
		id, partnerID, fundraiserID, name, goal, url col
		user                                         userCols
	}
	page struct {
		id, partnerID, name, firstName, lastName, userName, title, goal, url, language col
	}
	isDisputed, isRefunded, isPending, isTaxReceiptIssued col
	taxReceipt                                            struct {
		id, amountDonation, amountBenefit, amountEligible, businessName, nameOnReceipt, issuedOn,
		receiptNumber, status, title, firstName, lastName, streetAddress, city, country, state, postal,
		email, userID, transactionID col
	}
	recurring struct {
		id, amount, amountNet, interval, day, month, status col
	}
	payoutAccount, payoutDate col
	// Counts the API reports per category, in the order of schemas.PurchasedCategories and
	// schemas.RefundedCategories.
	purchasedCount, refundedCount                                                                []col
	fulfillmentTransactionID, isPledgeTransaction, pledgeTransactionID, isFulfillmentTransaction col
	payeeBilling                                                                                 addressCols
	payeeUser                                                                                    userCols
}

func transactionsColsOf(t *table) *transactionsCols {
	c := &transactionsCols{
		id:                t.col("id"),
		typ:               t.col("type"),
		status:            t.col("status"),
		refundChildrenIDs: t.col("refund_children_ids"),
		parentID:          t.col("parent_id"),
		partnerID:         t.col("partner_id"),
		promoCode:         t.col("promo_code"),

		billing:         addressColsOf(t, "billing_"),
		mailing:         addressColsOf(t, "mailing_"),
		donatedBy:       addressColsOf(t, "donated_by_"),
		donatedByUserID: t.col("donated_by_user_id"),

		cardType:               t.col("card_type"),
		paymentProcessor:       t.col("payment_processor"),
		processorTransactionID: t.col("processor_transaction_id"),
		date:                   t.col("date"),
		donationComment:        t.col("donation_comment"),

		isDisputed:         t.col("is_disputed"),
		isRefunded:         t.col("is_refunded"),
		isPending:          t.col("is_pending"),
		isTaxReceiptIssued: t.col("is_tax_receipt_issued"),

		payoutAccount: t.col("payout_account"),
		payoutDate:    t.col("payout_date"),

		fulfillmentTransactionID: t.col("fulfillment_transaction_id"),
		isPledgeTransaction:      t.col("is_pledge_transaction"),
		pledgeTransactionID:      t.col("pledge_transaction_id"),
		isFulfillmentTransaction: t.col("is_fulfillment_transaction"),

		payeeBilling: addressColsOf(t, "payee_billing_"),
		payeeUser:    userColsOf(t, "payee_user_", true),
	}
	a := &c.amount
	a.apparel = t.col("amount_apparel")
	a.coveredFees = t.col("amount_covered_fees")
	a.currency = t.col("amount_currency")
	a.donation = t.col("amount_donation")
	a.donationToPages = t.col("amount_donation_to_pages")
	a.ecards = t.col("amount_ecards")
	a.isRecurring = t.col("amount_is_recurring")
	a.registration = t.col("amount_registration")
	a.sponsorship = t.col("amount_sponsorship")
	a.tickets = t.col("amount_tickets")
	a.totalNet = t.col("amount_total_net")
	a.totalPaid = t.col("amount_total_paid")
	a.customFees = t.col("amount_custom_fees")

	f := &c.fundraiser
	f.id = t.col("fundraiser_id")
	f.partnerID = t.col("fundraiser_partner_id")
	f.templateID = t.col("fundraiser_template_id")
	f.name = t.col("fundraiser_name")
	f.dtStart = t.col("fundraiser_dt_start")
	f.dtEnd = t.col("fundraiser_dt_end")
	f.location = t.col("fundraiser_location")
	f.goal = t.col("fundraiser_goal")
	f.campus = t.col("fundraiser_campus")
	f.nationalOffice = t.col("fundraiser_national_office")
	f.chapter = t.col("fundraiser_chapter")
	f.chapterCustomID = t.col("fundraiser_chapter_custom_id")
	f.organization = t.col("fundraiser_organization")
	f.inSupportName = t.col("fundraiser_in_support_name")
	f.inSupportCode = t.col("fundraiser_in_support_code")
	f.appealCode = t.col("fundraiser_appeal_code")
	f.language = t.col("fundraiser_language")
	f.tagsList = t.col("fundraiser_tags_list")
	f.templateObjectID = t.col("fundraiser_template_object_id")
	f.templateName = t.col("fundraiser_template_name")
	f.user = userColsOf(t, "fundraiser_user_", false)

	tm := &c.team
	tm.id = t.col("team_id")
	tm.partnerID = t.col("team_partner_id")
	tm.fundraiserID = t.col("team_fundraiser_id")
	tm.name = t.col("team_name")
	tm.goal = t.col("team_goal")
	tm.url = t.col("team_url")
	tm.user = userColsOf(t, "team_user_", true)

	p := &c.page
	p.id = t.col("page_id")
	p.partnerID = t.col("page_partner_id")
	p.name = t.col("page_name")
	p.firstName = t.col("page_first_name")
	p.lastName = t.col("page_last_name")
	p.userName = t.col("page_user_name")
	p.title = t.col("page_title")
	p.goal = t.col("page_goal")
	p.url = t.col("page_url")
	p.language = t.col("page_language")

	r := &c.taxReceipt
	r.id = t.col("tax_receipt_id")
	r.amountDonation = t.col("tax_receipt_amount_donation")
	r.amountBenefit = t.col("tax_receipt_amount_benefit")
	r.amountEligible = t.col("tax_receipt_amount_eligible")
	r.businessName = t.col("tax_receipt_business_name")
	r.nameOnReceipt = t.col("tax_receipt_name_on_receipt")
	r.issuedOn = t.col("tax_receipt_issued_on")
	r.receiptNumber = t.col("tax_receipt_receipt_number")
	r.status = t.col("tax_receipt_status")
	r.title = t.col("tax_receipt_title")
	r.firstName = t.col("tax_receipt_first_name")
	r.lastName = t.col("tax_receipt_last_name")
	r.streetAddress = t.col("tax_receipt_street_address")
	r.city = t.col("tax_receipt_city")
	r.country = t.col("tax_receipt_country")
	r.state = t.col("tax_receipt_state")
	r.postal = t.col("tax_receipt_postal")
	r.email = t.col("tax_receipt_email")
	r.userID = t.col("tax_receipt_user_id")
	r.transactionID = t.col("tax_receipt_transaction_id")

	rc := &c.recurring
	rc.id = t.col("recurring_id")
	rc.amount = t.col("recurring_amount")
	rc.amountNet = t.col("recurring_amount_net")
	rc.interval = t.col("recurring_interval")
	rc.day = t.col("recurring_day")
	rc.month = t.col("recurring_month")
	rc.status = t.col("recurring_status")

	for _, cat := range schemas.PurchasedCategories {
		c.purchasedCount = append(c.purchasedCount, t.col("purchased_"+cat+"_count"))
	}
	for _, cat := range schemas.RefundedCategories {
		c.refundedCount = append(c.refundedCount, t.col("refunded_"+cat+"_count"))
	}
	return c
}

// itemsCols are the columns of transaction_items.
type itemsCols struct {
	direction, category, position, itemID, name, option, price, amount, optionID, sourceID col
}

func itemsColsOf(t *table) itemsCols {
	return itemsCols{
		direction: t.col("direction"),
		category:  t.col("category"),
		position:  t.col("position"),
		itemID:    t.col("item_id"),
		name:      t.col("name"),
		option:    t.col("option"),
		price:     t.col("price"),
		amount:    t.col("amount"),
		optionID:  t.col("option_id"),
		sourceID:  t.col("source_id"),
	}
}

type registrationsCols struct {
	key                                                                   itemKeyCols
	firstName, lastName, aliasName, comment, isAmountHidden, registrantID col
	pageID, pageName, pageGoal, pageURL                                   col
	selfDonationID, selfDonationName, selfDonationAmount                  col
	teamID, teamName, teamGoal, teamURL, teamLanguage                     col
	user                                                                  userCols
	mailingStreetAddress, mailingCity, mailingCountry, mailingState       col
	mailingPostal                                                         col
}

func registrationsColsOf(t *table) registrationsCols {
	return registrationsCols{
		key:                  itemKeyColsOf(t),
		firstName:            t.col("first_name"),
		lastName:             t.col("last_name"),
		aliasName:            t.col("alias_name"),
		comment:              t.col("comment"),
		isAmountHidden:       t.col("is_amount_hidden"),
		registrantID:         t.col("registrant_id"),
		pageID:               t.col("page_id"),
		pageName:             t.col("page_name"),
		pageGoal:             t.col("page_goal"),
		pageURL:              t.col("page_url"),
		selfDonationID:       t.col("self_donation_id"),
		selfDonationName:     t.col("self_donation_name"),
		selfDonationAmount:   t.col("self_donation_amount"),
		teamID:               t.col("team_id"),
		teamName:             t.col("team_name"),
		teamGoal:             t.col("team_goal"),
		teamURL:              t.col("team_url"),
		teamLanguage:         t.col("team_language"),
		user:                 userColsOf(t, "user_", false),
		mailingStreetAddress: t.col("mailing_street_address"),
		mailingCity:          t.col("mailing_city"),
		mailingCountry:       t.col("mailing_country"),
		mailingState:         t.col("mailing_state"),
		mailingPostal:        t.col("mailing_postal"),
	}
}

type ecardsCols struct {
	key                                                  itemKeyCols
	method, sendOn, message, isAnonymous, deliveryStatus col
	cardID, cardName                                     col
	recipient                                            recipientCols
}

func ecardsColsOf(t *table) ecardsCols {
	return ecardsCols{
		key:            itemKeyColsOf(t),
		method:         t.col("method"),
		sendOn:         t.col("send_on"),
		message:        t.col("message"),
		isAnonymous:    t.col("is_anonymous"),
		deliveryStatus: t.col("delivery_status"),
		cardID:         t.col("card_id"),
		cardName:       t.col("card_name"),
		recipient:      recipientColsOf(t),
	}
}

type tributeCardsCols struct {
	key                                           itemKeyCols
	method, typ, honoree, message, deliveryStatus col
	recipient                                     recipientCols
}

func tributeCardsColsOf(t *table) tributeCardsCols {
	return tributeCardsCols{
		key:            itemKeyColsOf(t),
		method:         t.col("method"),
		typ:            t.col("type"),
		honoree:        t.col("honoree"),
		message:        t.col("message"),
		deliveryStatus: t.col("delivery_status"),
		recipient:      recipientColsOf(t),
	}
}

type selfDonationsCols struct {
	key                                                                                  itemKeyCols
	pageID, pagePartnerID, pageName, pageFirstName, pageLastName, pageGoal, pageLanguage col
}

func selfDonationsColsOf(t *table) selfDonationsCols {
	return selfDonationsCols{
		key:           itemKeyColsOf(t),
		pageID:        t.col("page_id"),
		pagePartnerID: t.col("page_partner_id"),
		pageName:      t.col("page_name"),
		pageFirstName: t.col("page_first_name"),
		pageLastName:  t.col("page_last_name"),
		pageGoal:      t.col("page_goal"),
		pageLanguage:  t.col("page_language"),
	}
}

type customDataCols struct {
	level, ownerID, direction, itemPosition, position                 col
	fieldID, sourceID, name, content, fieldCustomID, responseCustomID col
}

func customDataColsOf(t *table) customDataCols {
	return customDataCols{
		level:            t.col("level"),
		ownerID:          t.col("owner_id"),
		direction:        t.col("direction"),
		itemPosition:     t.col("item_position"),
		position:         t.col("position"),
		fieldID:          t.col("field_id"),
		sourceID:         t.col("source_id"),
		name:             t.col("name"),
		content:          t.col("content"),
		fieldCustomID:    t.col("field_custom_id"),
		responseCustomID: t.col("response_custom_id"),
	}
}

type rawCols struct{ raw, rawBytesBase64, unknownFields, decodeError col }

func rawColsOf(t *table) rawCols {
	return rawCols{raw: t.col("raw"), rawBytesBase64: t.col("raw_bytes_base64"), unknownFields: t.col("unknown_fields"), decodeError: t.col("decode_error")}
}

type quarantineCols struct {
	stream, payoutAccount, windowStart, windowEnd, page, position, reason, raw, rawBytesBase64 col
}

func quarantineColsOf(t *table) quarantineCols {
	return quarantineCols{
		stream:         t.col("stream"),
		payoutAccount:  t.col("payout_account"),
		windowStart:    t.col("window_start"),
		windowEnd:      t.col("window_end"),
		page:           t.col("page"),
		position:       t.col("position"),
		reason:         t.col("reason"),
		raw:            t.col("raw"),
		rawBytesBase64: t.col("raw_bytes_base64"),
	}
}
